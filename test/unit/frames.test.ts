import { describe, expect, it } from 'vitest';
import { decodeFrameLine, fastTextFrame } from '../../src/core/frames.js';

describe('decodeFrameLine', () => {
  it.each([
    ['', 'blank'],
    ['   ', 'blank'],
    ['{"type":"token","task_id":"t","content":"hi"}', 'frame'],
    ['{"type":"custom_thing","x":1}', 'frame'],
    ['{"type":"task_result","task_id":"t","status":"ok","final_response":"x","duration_ms":1}', 'frame'],
    ['not json', 'malformed'],
    ['[1,2]', 'malformed'],
    ['"str"', 'malformed'],
    ['{"no_type":1}', 'malformed'],
    ['{"type":""}', 'malformed'],
    ['{"type":"task_result","status":"maybe"}', 'malformed'],
    ['{"type":"token"', 'malformed'],
  ])('%j → %s', (line, kind) => {
    expect(decodeFrameLine(line).kind).toBe(kind);
  });

  it('passes unknown frames through untouched', () => {
    const d = decodeFrameLine('{"type":"tool_start","task_id":"t","call_id":"c1","tool":"shell","extra":{"a":[1]}}');
    expect(d).toEqual({ kind: 'frame', frame: { type: 'tool_start', task_id: 't', call_id: 'c1', tool: 'shell', extra: { a: [1] } } });
  });
});

describe('fastTextFrame (token and thinking lines read without JSON.parse)', () => {
  /** What the full parse makes of a line, for comparison. */
  const full = (line: string): unknown => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      return undefined;
    }
  };

  it.each([
    JSON.stringify({ type: 'token', task_id: 't_1', content: 'plain' }),
    JSON.stringify({ type: 'thinking', task_id: 't_1', content: 'hmm' }),
    JSON.stringify({ type: 'token', task_id: 't_1', content: 'a "quote", a \\ slash, a\nnewline, \u001b[31m, é 😀' }),
    JSON.stringify({ type: 'token', task_id: 't_1', content: '' }),
  ])('reads %s as the full parse does', (line) => {
    expect(fastTextFrame(line)).toEqual(full(line));
  });

  it.each([
    ['a field after the content', '{"type":"token","task_id":"t","content":"x","extra":1}'],
    ['a quote that ends the content early', '{"type":"token","task_id":"t","content":"a","x":"b"}'],
    ['a raw control character', '{"type":"token","task_id":"t","content":"a\u0007b"}'],
    ['an escaped task id', '{"type":"token","task_id":"t\\"","content":"x"}'],
    ['a missing brace', '{"type":"token","task_id":"t","content":"x"'],
    ['trailing text', '{"type":"token","task_id":"t","content":"x"} junk'],
    ['a bad escape', '{"type":"token","task_id":"t","content":"\\q"}'],
    ['another key order', '{"task_id":"t","type":"token","content":"x"}'],
  ])('leaves %s to the full parse', (_what, line) => {
    expect(fastTextFrame(line)).toBeUndefined();
  });

  it('never accepts a line the full parse would not decode to the same frame', () => {
    const pieces = ['{"type":"token","task_id":"t","content":"', 'x', '"', '\\', '"}', '}', ',"a":1', 'é', '\u0001', '\\n', '\\u00e9', ' '];
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      let line = pieces[0] as string;
      for (let j = rnd(8); j > 0; j--) line += pieces[rnd(pieces.length)];
      const fast = fastTextFrame(line);
      if (fast !== undefined) expect(fast).toEqual(full(line));
    }
  });
});
