/** Both stream readers with tool calls, the request formats for tool conversations, and tasks with tools. */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, TaskInput } from '../../src/core/protocol.js';
import { AnthropicStream, anthropicRequestBody } from '../../src/worker/anthropic.js';
import { WorkerFailure } from '../../src/worker/classify.js';
import { conversationOf, type ConversationEntry } from '../../src/worker/conversation.js';
import { OpenAIStream, openAIRequestBody } from '../../src/worker/openai.js';
import { ReplyBuilder, type StreamOutcome } from '../../src/worker/reply.js';
import { parseSse } from '../../src/worker/sse.js';
import { parseTask } from '../../src/worker/task.js';
import type { ModelToolCall } from '../../src/worker/tool-calls.js';
import { toolSpecs } from '../../src/worker/tool-defs.js';

type Seen = Array<['token' | 'thinking', string]>;

interface Read {
  seen: Seen;
  outcome?: StreamOutcome;
  error?: WorkerFailure;
  calls: ModelToolCall[];
  xml: ModelToolCall[];
  thinking: unknown[];
}

function read(kind: 'openai' | 'anthropic', stream: string, toolXml = true): Read {
  const seen: Seen = [];
  const reply = new ReplyBuilder({ token: (t) => seen.push(['token', t]), thinking: (t) => seen.push(['thinking', t]) }, undefined, { toolXml });
  const ctx = { model: 'm', api: kind === 'openai' ? 'openai-chat' : 'anthropic-messages' };
  const h = kind === 'openai' ? new OpenAIStream(reply, ctx) : new AnthropicStream(reply, ctx);
  const r: Read = { seen, calls: [], xml: [], thinking: [] };
  try {
    for (const ev of parseSse([stream])) {
      h.onEvent(ev);
      if (h.finished) break;
    }
    r.outcome = h.finish();
    r.calls = h.toolCalls('gen_');
    r.xml = reply.xmlCalls.map((c, i) => ({ id: `x${i}`, ...c }));
    if (h instanceof AnthropicStream) r.thinking = h.thinkingBlocks();
  } catch (err) {
    if (!(err instanceof WorkerFailure)) throw err;
    r.error = err;
  }
  return r;
}

const oa = (delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const DONE = 'data: [DONE]\n\n';
const tc = (index: number | undefined, fields: Record<string, unknown>): Record<string, unknown> => ({ tool_calls: [{ ...(index === undefined ? {} : { index }), ...fields }] });

describe('OpenAIStream tool calls', () => {
  it('two calls in one turn: id and name first, arguments in fragments, by index', () => {
    const r = read(
      'openai',
      oa({ role: 'assistant', content: null }) +
        oa({ content: 'Checking.' }) +
        oa(tc(0, { id: 'call_a', type: 'function', function: { name: 'shell', arguments: '' } })) +
        oa(tc(0, { function: { arguments: '{"comm' } })) +
        oa(tc(1, { id: 'call_b', type: 'function', function: { name: 'read_file', arguments: '{"pa' } })) +
        oa(tc(0, { function: { arguments: 'and":"ls"}' } })) +
        oa(tc(1, { function: { arguments: 'th":"a.txt"}' } })) +
        oa({}, 'tool_calls') +
        DONE,
    );
    expect(r.error).toBeUndefined();
    expect(r.seen).toEqual([['token', 'Checking.']]);
    expect(r.calls).toEqual([
      { id: 'call_a', name: 'shell', arguments: '{"command":"ls"}' },
      { id: 'call_b', name: 'read_file', arguments: '{"path":"a.txt"}' },
    ]);
    expect(r.outcome).toMatchObject({ finalResponse: 'Checking.', stopReason: 'tool_calls' });
  });

  it('a turn with only tool calls is not an empty reply', () => {
    const r = read('openai', oa(tc(0, { id: 'c', function: { name: 'list_files', arguments: '{}' } })) + oa({}, 'tool_calls') + DONE);
    expect(r.error).toBeUndefined();
    expect(r.calls).toEqual([{ id: 'c', name: 'list_files', arguments: '{}' }]);
  });

  it('servers without ids or indexes, arguments as objects, the legacy function_call', () => {
    const noIds = read('openai', oa(tc(0, { function: { name: 'shell', arguments: { command: 'ls' } } })) + oa({}, 'tool_calls') + DONE);
    expect(noIds.calls).toEqual([{ id: 'gen_0', name: 'shell', arguments: '{"command":"ls"}' }]);
    const whole = read(
      'openai',
      oa(tc(undefined, { id: 'x1', function: { name: 'a', arguments: '{}' } })) + oa(tc(undefined, { id: 'x2', function: { name: 'b', arguments: '{"k":1}' } })) + oa({}, 'stop') + DONE,
    );
    expect(whole.calls).toEqual([
      { id: 'x1', name: 'a', arguments: '{}' },
      { id: 'x2', name: 'b', arguments: '{"k":1}' },
    ]);
    const legacy = read('openai', oa({ function_call: { name: 'shell', arguments: '{"command":' } }) + oa({ function_call: { arguments: '"pwd"}' } }) + oa({}, 'function_call') + DONE);
    expect(legacy.calls).toEqual([{ id: 'gen_0', name: 'shell', arguments: '{"command":"pwd"}' }]);
  });

  it('tool calls written in the content (XML) are taken out of the reply when tools were offered', () => {
    const xml = '<tool_call>\n{"name": "shell", "arguments": {"command": "ls"}}\n</tool_call>';
    const pieces = ['Let me look.\n', ...xml.match(/.{1,5}/gs)!];
    const r = read('openai', pieces.map((p) => oa({ content: p })).join('') + oa({}, 'stop') + DONE);
    expect(r.seen.map(([, t]) => t).join('')).toBe('Let me look.\n');
    expect(r.xml).toEqual([{ id: 'x0', name: 'shell', arguments: '{"command":"ls"}' }]);
    expect(r.calls).toEqual([]);
    // Without tools the same text is just text.
    const plain = read('openai', pieces.map((p) => oa({ content: p })).join('') + oa({}, 'stop') + DONE, false);
    expect(plain.seen.map(([, t]) => t).join('')).toBe(`Let me look.\n${xml}`);
    expect(plain.xml).toEqual([]);
  });
});

const an = (name: string, payload: Record<string, unknown>): string => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...payload })}\n\n`;
const START = an('message_start', { message: { id: 'm1', model: 'claude-x', usage: { input_tokens: 10, output_tokens: 1 } } });

describe('AnthropicStream tool use', () => {
  it('tool_use blocks with input_json_delta fragments; thinking kept with its signature, redacted thinking verbatim', () => {
    const r = read(
      'anthropic',
      START +
        an('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
        an('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'I should ' } }) +
        an('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'list.' } }) +
        an('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'SIG1' } }) +
        an('content_block_stop', { index: 0 }) +
        an('content_block_start', { index: 1, content_block: { type: 'redacted_thinking', data: 'REDACTED' } }) +
        an('content_block_stop', { index: 1 }) +
        an('content_block_start', { index: 2, content_block: { type: 'text', text: '' } }) +
        an('content_block_delta', { index: 2, delta: { type: 'text_delta', text: 'Listing.' } }) +
        an('content_block_stop', { index: 2 }) +
        an('content_block_start', { index: 3, content_block: { type: 'tool_use', id: 'toolu_1', name: 'list_files', input: {} } }) +
        an('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '' } }) +
        an('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '{"path"' } }) +
        an('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: ': "src"}' } }) +
        an('content_block_stop', { index: 3 }) +
        an('content_block_start', { index: 4, content_block: { type: 'tool_use', id: 'toolu_2', name: 'shell', input: {} } }) +
        an('content_block_stop', { index: 4 }) +
        an('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } }) +
        an('message_stop', {}),
    );
    expect(r.error).toBeUndefined();
    expect(r.seen).toEqual([
      ['thinking', 'I should '],
      ['thinking', 'list.'],
      ['token', 'Listing.'],
    ]);
    expect(r.calls).toEqual([
      { id: 'toolu_1', name: 'list_files', arguments: '{"path": "src"}' },
      { id: 'toolu_2', name: 'shell', arguments: '{}' },
    ]);
    expect(r.thinking).toEqual([
      { type: 'thinking', thinking: 'I should list.', signature: 'SIG1' },
      { type: 'redacted_thinking', data: 'REDACTED' },
    ]);
    expect(r.outcome).toMatchObject({ stopReason: 'tool_use', usage: { input_tokens: 10, output_tokens: 30 } });
  });

  it('a tool_use block whose input came whole at the start', () => {
    const r = read(
      'anthropic',
      START + an('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 't', name: 'shell', input: { command: 'ls' } } }) + an('content_block_stop', { index: 0 }) + an('message_stop', {}),
    );
    expect(r.calls).toEqual([{ id: 't', name: 'shell', arguments: '{"command":"ls"}' }]);
  });
});

const TASK: TaskInput = {
  v: 1,
  type: 'task',
  task_id: 't',
  sandbox: 's',
  route: { provider: 'p', model: 'm', api: 'openai-chat', base_url: 'http://x/v1' },
  messages: [
    { role: 'system', content: 'Sys.' },
    { role: 'user', content: 'Do it.' },
  ],
};

const HISTORY: ChatMessage[] = [
  { role: 'system', content: 'Sys.' },
  { role: 'user', content: 'Do it.' },
  {
    role: 'assistant',
    content: '',
    tool_calls: [
      { id: 'c1', name: 'shell', arguments: '{"command":"ls"}' },
      { id: 'c2', name: 'read_file', arguments: '{"path": bad' },
    ],
  },
  { role: 'tool', tool_call_id: 'c1', name: 'shell', content: 'a.txt\n[exit code 0]' },
  { role: 'tool', tool_call_id: 'c2', name: 'read_file', content: 'error: the arguments are not valid JSON', is_error: true },
  { role: 'user', content: 'Go on.' },
  { role: 'assistant', content: 'Done.' },
];

describe('requests for tool conversations', () => {
  it('OpenAI: tools as functions, assistant tool_calls, tool messages; malformed arguments sent back as {}', () => {
    const body = openAIRequestBody(TASK, conversationOf(HISTORY), toolSpecs(['shell']));
    expect(body.tools).toEqual([{ type: 'function', function: { name: 'shell', description: expect.any(String), parameters: toolSpecs(['shell'])[0]!.parameters } }]);
    expect(body.messages).toEqual([
      { role: 'system', content: 'Sys.' },
      { role: 'user', content: 'Do it.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'shell', arguments: '{"command":"ls"}' } },
          { id: 'c2', type: 'function', function: { name: 'read_file', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'a.txt\n[exit code 0]' },
      { role: 'tool', tool_call_id: 'c2', content: 'error: the arguments are not valid JSON' },
      { role: 'user', content: 'Go on.' },
      { role: 'assistant', content: 'Done.' },
    ]);
  });

  it('Anthropic: tool_use after thinking and text, tool_result blocks in one user message with the text after them', () => {
    const conversation: ConversationEntry[] = conversationOf(HISTORY);
    conversation[2] = { message: { ...(HISTORY[2] as ChatMessage & { role: 'assistant' }), content: 'Looking.' }, thinking: [{ type: 'thinking', thinking: 'hm', signature: 'S' }] };
    const body = anthropicRequestBody({ ...TASK, route: { ...TASK.route, api: 'anthropic-messages' } }, conversation, toolSpecs(['shell', 'read_file']));
    expect(body.system).toBe('Sys.');
    expect(body.tools).toEqual([
      { name: 'shell', description: expect.any(String), input_schema: toolSpecs(['shell'])[0]!.parameters },
      { name: 'read_file', description: expect.any(String), input_schema: toolSpecs(['read_file'])[0]!.parameters },
    ]);
    expect(body.messages).toEqual([
      { role: 'user', content: 'Do it.' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'hm', signature: 'S' },
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'c1', name: 'shell', input: { command: 'ls' } },
          { type: 'tool_use', id: 'c2', name: 'read_file', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'c1', content: 'a.txt\n[exit code 0]' },
          { type: 'tool_result', tool_use_id: 'c2', content: 'error: the arguments are not valid JSON', is_error: true },
          { type: 'text', text: 'Go on.' },
        ],
      },
      { role: 'assistant', content: 'Done.' },
    ]);
  });

  it('without tools the bodies are as before (no tools key)', () => {
    expect(openAIRequestBody(TASK)).not.toHaveProperty('tools');
    expect(anthropicRequestBody(TASK)).not.toHaveProperty('tools');
  });
});

describe('parseTask with tools and history', () => {
  const good = { ...TASK, tools: ['shell', 'read_file', 'shell'], max_steps: 7, messages: HISTORY };
  it('accepts tools, max_steps and tool turns in the history', () => {
    const r = parseTask(JSON.stringify(good));
    expect(r).toEqual({ ok: true, task: { ...TASK, tools: ['shell', 'read_file'], max_steps: 7, messages: HISTORY } });
  });
  it('an assistant turn with content null and tool calls (the OpenAI form) is read as empty content', () => {
    const r = parseTask(JSON.stringify({ ...TASK, messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'a', name: 'shell', arguments: { command: 'ls' } }] }] }));
    expect(r.ok && r.task.messages[0]).toEqual({ role: 'assistant', content: '', tool_calls: [{ id: 'a', name: 'shell', arguments: '{"command":"ls"}' }] });
  });
  const BAD: Array<[string, unknown, RegExp]> = [
    ['an unknown tool', { ...TASK, tools: ['shell', 'rm_rf'] }, /tools: unknown tool "rm_rf"/],
    ['tools not a list', { ...TASK, tools: 'shell' }, /tools must be an array/],
    ['max_steps 0', { ...TASK, max_steps: 0 }, /max_steps must be a positive integer/],
    ['a tool message without tool_call_id', { ...TASK, messages: [{ role: 'tool', content: 'x' }] }, /messages\[0\] \(role tool\)/],
    ['a tool call without id', { ...TASK, messages: [{ role: 'assistant', content: '', tool_calls: [{ name: 'shell' }] }] }, /messages\[0\]\.tool_calls\[0\]/],
  ];
  for (const [name, task, msg] of BAD) {
    it(`rejects ${name}`, () => {
      const r = parseTask(JSON.stringify(task));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(msg);
    });
  }
});
