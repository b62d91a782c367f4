import { describe, expect, it } from 'vitest';
import { createByteScrubber, SCRUB_MASK } from '../../src/adapters/local/scrub-stream.js';

const KEY = 'sk-test-0123456789abcdefXYZ';
const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Feeds the chunks in order and returns what was released after each push, plus the end. */
function run(key: string | Buffer, chunks: Buffer[]): { released: Buffer[]; out: Buffer } {
  const s = createByteScrubber(key);
  const released = chunks.map((c) => s.push(c));
  released.push(s.end());
  return { released, out: Buffer.concat(released) };
}

/** The whole-buffer answer (leftmost, non-overlapping), byte for byte via latin1. */
function reference(data: Buffer, key: Buffer): Buffer {
  return Buffer.from(data.toString('latin1').split(key.toString('latin1')).join(SCRUB_MASK), 'latin1');
}

describe('createByteScrubber', () => {
  it.each<[string, string, string[], string]>([
    ['no key: passes through', KEY, ['data: {"x":1}\n\n', 'data: [DONE]\n\n'], 'data: {"x":1}\n\ndata: [DONE]\n\n'],
    ['key inside one chunk', KEY, [`Incorrect API key provided: ${KEY}.`], `Incorrect API key provided: ${SCRUB_MASK}.`],
    ['key at the very start and end', KEY, [`${KEY} and ${KEY}`], `${SCRUB_MASK} and ${SCRUB_MASK}`],
    ['key twice back to back', KEY, [`${KEY}${KEY}`], `${SCRUB_MASK}${SCRUB_MASK}`],
    ['key split across two chunks', KEY, [`a ${KEY.slice(0, 10)}`, `${KEY.slice(10)} b`], `a ${SCRUB_MASK} b`],
    ['key split across three chunks', KEY, [`a ${KEY.slice(0, 3)}`, KEY.slice(3, 20), `${KEY.slice(20)} b`], `a ${SCRUB_MASK} b`],
    ['held prefix that the next chunk does not complete is released intact', KEY, [`a ${KEY.slice(0, 8)}`, 'nope b'], `a ${KEY.slice(0, 8)}nope b`],
    ['stream ending in a key prefix releases it at the end', KEY, [`a ${KEY.slice(0, 8)}`], `a ${KEY.slice(0, 8)}`],
    ['empty chunks change nothing', KEY, ['', `x ${KEY.slice(0, 5)}`, '', `${KEY.slice(5)} y`, ''], `x ${SCRUB_MASK} y`],
    ['self-overlapping key across the boundary', 'aab', ['aa', 'aab'], `aa${SCRUB_MASK}`],
    ['periodic key: leftmost, non-overlapping', 'abab', ['aba', 'bab', 'ab'], `${SCRUB_MASK}${SCRUB_MASK}`],
    ['multi-byte UTF-8 around the key', KEY, ['héllo 🙂', KEY, ' wörld'], `héllo 🙂${SCRUB_MASK} wörld`],
    ['empty key: nothing is masked', '', ['abc', 'def'], 'abcdef'],
  ])('%s', (_name, key, chunks, want) => {
    expect(run(key, chunks.map(b)).out.toString('utf8')).toBe(want);
  });

  it('keeps a multi-byte character split across chunks byte for byte', () => {
    const text = b(`é🙂 ${KEY} ü`);
    for (let i = 0; i <= text.length; i++) {
      expect(run(KEY, [text.subarray(0, i), text.subarray(i)]).out).toEqual(b(`é🙂 ${SCRUB_MASK} ü`));
    }
  });

  it.each<[string, string, string]>([
    ['an SSE body with the key', KEY, `data: {"error":"bad key ${KEY}"}\n\ndata: [DONE]\n\n`],
    ['the key twice and a stray prefix', KEY, `${KEY.slice(0, 12)} ${KEY} x ${KEY}${KEY.slice(0, 3)}`],
    ['non-ASCII next to the key', KEY, `ä${KEY}ö${KEY.slice(0, 4)}🙂`],
    ['a periodic key', 'abab', 'abababxabab'],
  ])('matches the whole-buffer result for every two-chunk split and byte by byte: %s', (_name, keyText, text) => {
    const key = b(keyText);
    const data = b(text);
    const want = reference(data, key);
    for (let i = 0; i <= data.length; i++) {
      expect(run(key, [data.subarray(0, i), data.subarray(i)]).out).toEqual(want);
    }
    const bytes = [...data].map((x) => Buffer.from([x]));
    expect(run(key, bytes).out).toEqual(want);
  });

  it('holds back nothing when a chunk does not end in a key prefix', () => {
    const s = createByteScrubber(KEY);
    // A typical SSE event: released whole, at once.
    const event = b('data: {"choices":[{"delta":{"content":"sk"}}]}\n\n');
    expect(s.push(event)).toEqual(event);
    expect(s.end()).toEqual(Buffer.alloc(0));
  });

  it('holds back only the tail that is a key prefix, and releases it with the next chunk', () => {
    const s = createByteScrubber(KEY);
    expect(s.push(b('content: sk-te')).toString()).toBe('content: ');
    expect(s.push(b('a time')).toString()).toBe('sk-tea time');
    expect(s.end()).toEqual(Buffer.alloc(0));
  });

  it('does not alias a held tail to the caller buffer', () => {
    const s = createByteScrubber(KEY);
    const chunk = b(`x ${KEY.slice(0, 6)}`);
    expect(s.push(chunk).toString()).toBe('x ');
    chunk.fill(0);
    expect(s.push(b(KEY.slice(6))).toString()).toBe(SCRUB_MASK);
  });
});
