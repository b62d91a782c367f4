import { describe, expect, it } from 'vitest';
import { fastContentDelta } from '../../src/worker/openai.js';

/**
 * The fast reading of a plain content delta must agree with the full JSON parse on
 * every event it accepts, and leave everything else to the full parse.
 */

/** What the full parse makes of an event: the content of a plain content delta, or undefined. */
function full(data: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  const choices = (v as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length !== 1) return undefined;
  const delta = (choices[0] as { delta?: Record<string, unknown> }).delta;
  if (!delta || Object.keys(delta).join() !== 'content' || typeof delta.content !== 'string') return undefined;
  return delta.content;
}

const ev = (content: string, extra = '') => `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}${extra},"finish_reason":null}]}`;

describe('fastContentDelta', () => {
  it.each([
    ['plain', ev('Hello')],
    ['escapes', ev('a "quoted" \\ back\nslash\ttab')],
    ['unicode and surrogate pairs', ev('héllo ✓ 日本 😀')],
    ['text that looks like keys', ev('"error" "usage" "delta":{"content":"x"}')],
    ['empty content', ev('')],
    ['logprobs after the delta', ev('x', ',"logprobs":null')],
  ])('reads %s exactly as the full parse does', (_what, data) => {
    expect(fastContentDelta(data)).toBe(full(data));
    expect(fastContentDelta(data)).not.toBeUndefined();
  });

  it.each([
    ['a role in the delta', '{"choices":[{"index":0,"delta":{"role":"assistant","content":"x"},"finish_reason":null}]}'],
    ['reasoning beside the content', '{"choices":[{"index":0,"delta":{"content":"x","reasoning_content":"y"},"finish_reason":null}]}'],
    ['reasoning only', '{"choices":[{"index":0,"delta":{"reasoning_content":"y"},"finish_reason":null}]}'],
    ['tool calls', '{"choices":[{"index":0,"delta":{"content":"","tool_calls":[{"index":0}]},"finish_reason":null}]}'],
    ['a finish reason', '{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}'],
    ['usage', '{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"usage":{"prompt_tokens":1}}'],
    ['an error', '{"error":{"message":"boom"},"choices":[{"index":0,"delta":{"content":"x"}}]}'],
    ['two choices', '{"choices":[{"index":0,"delta":{"content":"x"}},{"index":1,"delta":{"content":"y"}}]}'],
    ['a key that ends in an escaped quote', '{"x\\"delta":{"content":"hi"},"choices":[]}'],
    ['not an object', '["delta":{"content":"x"}]'],
    ['a raw control character (invalid JSON)', '{"choices":[{"index":0,"delta":{"content":"a\u0001b"},"finish_reason":null}]}'],
    ['an unterminated string', '{"choices":[{"index":0,"delta":{"content":"abc}'],
  ])('leaves %s to the full parse', (_what, data) => {
    expect(fastContentDelta(data)).toBeUndefined();
  });

  it('agrees with the full parse on generated events, or declines', () => {
    const alphabet = ['a', ' ', '"', '\\', '\n', 'é', '😀', '{', '}', ',', ':', 'delta', 'content', '\u2028'];
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      let text = '';
      for (let j = rnd(12); j > 0; j--) text += alphabet[rnd(alphabet.length)];
      const data = rnd(4) === 0 ? `{"x":${JSON.stringify(text)},"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}}}]}` : ev(text);
      const fast = fastContentDelta(data);
      if (fast !== undefined) {
        accepted++;
        expect(fast).toBe(full(data));
      }
    }
    expect(accepted).toBeGreaterThan(2000);
  });
});
