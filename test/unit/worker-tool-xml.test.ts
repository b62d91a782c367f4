import { describe, expect, it } from 'vitest';
import { splitToolXml, ToolXmlSplitter, type ToolXmlPart } from '../../src/worker/tool-xml.js';

const T = (text: string): ToolXmlPart => ({ kind: 'text', text });
const CALL = (name: string, args: Record<string, unknown> | string): ToolXmlPart => ({
  kind: 'call',
  name,
  arguments: typeof args === 'string' ? args : JSON.stringify(args),
});

const QWEN_CODER = '<tool_call>\n<function=shell>\n<parameter=command>\nls -la\n</parameter>\n<parameter=timeout_s>\n30\n</parameter>\n</function>\n</tool_call>';

const CASES: Array<{ name: string; input: string; parts: ToolXmlPart[] }> = [
  { name: 'no tags', input: 'plain text with a < b and <b>bold</b>', parts: [T('plain text with a < b and <b>bold</b>')] },
  {
    name: 'Hermes call with an object',
    input: 'Let me look.\n<tool_call>\n{"name": "shell", "arguments": {"command": "ls"}}\n</tool_call>',
    parts: [T('Let me look.\n'), CALL('shell', { command: 'ls' })],
  },
  {
    name: 'Hermes call with arguments as a JSON string',
    input: '<tool_call>{"name":"read_file","arguments":"{\\"path\\": \\"a.txt\\"}"}</tool_call>',
    parts: [CALL('read_file', '{"path": "a.txt"}')],
  },
  { name: 'Hermes "parameters"', input: '<tool_call>{"name":"list_files","parameters":{}}</tool_call>done', parts: [CALL('list_files', {}), T('done')] },
  { name: 'Qwen3-coder wrapped', input: `Running it.\n${QWEN_CODER}`, parts: [T('Running it.\n'), CALL('shell', { command: 'ls -la', timeout_s: '30' })] },
  {
    name: 'Qwen3-coder unwrapped',
    input: '<function=write_file><parameter=path>a.py</parameter><parameter=content>\nprint(1)\n\n</parameter></function> ok',
    parts: [CALL('write_file', { path: 'a.py', content: 'print(1)\n' }), T(' ok')],
  },
  {
    name: 'two calls in a row',
    input: '<tool_call>{"name":"a","arguments":{}}</tool_call>\n<tool_call>{"name":"b","arguments":{"x":1}}</tool_call>',
    parts: [CALL('a', {}), T('\n'), CALL('b', { x: 1 })],
  },
  {
    name: 'malformed JSON in a closed block is a call the model hears about',
    input: '<tool_call>{"name": "shell", "arguments": {"command": "ls"}</tool_call>',
    parts: [{ kind: 'call', name: 'shell', arguments: '{"name": "shell", "arguments": {"command": "ls"}', error: expect.stringContaining('not valid JSON') as unknown as string }],
  },
  { name: 'an unclosed block that is not a call stays text', input: 'I use <tool_call> tags like this', parts: [T('I use <tool_call> tags like this')] },
  { name: 'an unclosed block that reads as a call is a call', input: '<tool_call>{"name":"a","arguments":{"k":"v"}}', parts: [CALL('a', { k: 'v' })] },
  { name: 'Qwen3-coder without </tool_call> at the end', input: '<tool_call>\n<function=a>\n<parameter=k>\nv\n</parameter>\n</function>', parts: [CALL('a', { k: 'v' })] },
  { name: '<function= that is not a tag', input: 'x <function=no spaces allowed> y', parts: [T('x <function=no spaces allowed> y')] },
  { name: 'a lone partial tag at the end is text', input: 'see <tool_ca', parts: [T('see <tool_ca')] },
  { name: 'similar tags are text', input: '<tool>x</tool><functions>', parts: [T('<tool>x</tool><functions>')] },
];

/** Every way of cutting `input` into two pieces, into three, and one character at a time. */
function cuts(input: string): string[][] {
  const out: string[][] = [[input]];
  for (let i = 0; i <= input.length; i++) {
    out.push([input.slice(0, i), input.slice(i)]);
    for (let j = i; j <= input.length; j += 7) out.push([input.slice(0, i), input.slice(i, j), input.slice(j)]);
  }
  out.push(Array.from(input));
  return out;
}

describe('ToolXmlSplitter', () => {
  for (const c of CASES) {
    it(c.name, () => {
      expect(splitToolXml([c.input])).toEqual(c.parts);
    });
    it(`${c.name}: tags split across chunks at every offset`, () => {
      for (const pieces of cuts(c.input)) expect(splitToolXml(pieces), JSON.stringify(pieces)).toEqual(c.parts);
    });
  }

  it('streams text at once and holds back only from a possible opening tag', () => {
    const t = new ToolXmlSplitter();
    expect(t.push('Hello <')).toEqual([T('Hello ')]);
    expect(t.push('tool_call>{"name":')).toEqual([]);
    expect(t.push('"a","arguments":{}}</tool_')).toEqual([]);
    expect(t.push('call> bye')).toEqual([CALL('a', {}), T(' bye')]);
    expect(t.end()).toEqual([]);
  });

  it('drops a stray </tool_call> after a Qwen3-coder call', () => {
    expect(splitToolXml(['<function=a></function>\n</tool_call>\nafter'])).toEqual([CALL('a', {}), T('\n\nafter')]);
  });

  it('keeps a </tool_call> that follows no call', () => {
    expect(splitToolXml(['text </tool_call>'])).toEqual([T('text </tool_call>')]);
  });
});
