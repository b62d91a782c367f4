import { describe, expect, it } from 'vitest';
import { decodeFrameLine } from '../../src/core/frames.js';

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
