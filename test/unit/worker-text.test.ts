/** Bounded text for replies of any length: heads cut on character boundaries, exact sizes, flat memory. */
import { describe, expect, it } from 'vitest';
import { MAX_INLINE_RESPONSE_BYTES } from '../../src/core/protocol.js';
import { BoundedText, framePieces, HEAD_MARGIN, isTrimSpace, utf8Head } from '../../src/worker/text.js';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Independent reference: whole code points while they fit. */
function refHead(s: string, max: number): string {
  let out = '';
  let size = 0;
  for (const cp of s) {
    const n = bytes(cp);
    if (size + n > max) break;
    out += cp;
    size += n;
  }
  return out;
}

/** What a BoundedText with this cap must report for the whole text `full`. */
function expected(full: string, cap: number, trim: boolean): { text: string; bytes: number; truncated: boolean } {
  const t = trim ? full.trim() : full;
  const size = bytes(t);
  return size <= cap ? { text: t, bytes: size, truncated: false } : { text: refHead(t, cap), bytes: size, truncated: true };
}

/** A small deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const ALPHABET = ['a', 'b', ' ', '\n', '\t', 'é', '✓', '日', '😀', '\u00a0', '\u3000', 'x'];

function randomText(r: () => number, len: number, spaceBias = 0): string {
  let s = '';
  for (let i = 0; i < len; i++) s += r() < spaceBias ? ' ' : ALPHABET[Math.floor(r() * ALPHABET.length)]!;
  return s;
}

/** Cut `s` into random pieces, never inside a surrogate pair (as a decoded stream would). */
function randomPieces(r: () => number, s: string): string[] {
  const cps = Array.from(s);
  const out: string[] = [];
  for (let i = 0; i < cps.length; ) {
    const n = 1 + Math.floor(r() * 7);
    out.push(cps.slice(i, i + n).join(''));
    i += n;
  }
  return out;
}

describe('isTrimSpace', () => {
  it('matches String.prototype.trim for every UTF-16 unit', () => {
    const wrong: number[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      if (isTrimSpace(c) !== (ch.trim() === '')) wrong.push(c);
    }
    expect(wrong).toEqual([]);
  });
});

describe('utf8Head', () => {
  it('never splits a character, whatever the limit', () => {
    for (const s of ['aé✓😀日b😀', '日本語✓✓✓', '😀😀😀', 'ééé', 'plain']) {
      for (let max = 0; max <= bytes(s) + 1; max++) {
        const h = utf8Head(s, max);
        expect(h, `${s} max ${max}`).toBe(refHead(s, max));
        expect(bytes(h)).toBeLessThanOrEqual(max);
      }
    }
  });
});

describe('framePieces', () => {
  it('cuts long text into pieces of at most max units, keeping surrogate pairs whole', () => {
    const s = '😀'.repeat(10) + 'abc' + '😀'.repeat(5);
    const pieces = framePieces(s, 5);
    expect(pieces.join('')).toBe(s);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(5);
      expect(Buffer.from(p).toString()).toBe(p); // no lone surrogate
    }
    expect(framePieces('short', 5)).toEqual(['short']);
  });
});

describe('BoundedText', () => {
  it('small text: exact, untrimmed and trimmed', () => {
    const t = new BoundedText(64);
    for (const p of ['  \n', 'héllo ', ' wörld', ' \t\n']) t.append(p);
    expect(t.capped()).toEqual({ text: '  \nhéllo  wörld \t\n', bytes: bytes('  \nhéllo  wörld \t\n'), truncated: false });
    expect(t.capped(true)).toEqual({ text: 'héllo  wörld', bytes: bytes('héllo  wörld'), truncated: false });
    expect(t.hasNonSpace).toBe(true);
  });

  it('text over the cap: the head cut at the cap on a character boundary, the exact size of the whole', () => {
    // 'a' then 4-byte characters: with cap 10, the cut falls inside the third emoji.
    const t = new BoundedText(10);
    const full = 'a' + '😀'.repeat(100);
    for (const p of randomPieces(rng(1), full)) t.append(p);
    expect(t.capped()).toEqual({ text: 'a😀😀', bytes: 1 + 400, truncated: true });
  });

  it('a cut at every byte offset through 2-, 3- and 4-byte characters', () => {
    const full = 'é✓😀'.repeat(20);
    for (let cap = 1; cap <= 40; cap++) {
      const t = new BoundedText(cap);
      t.append(full);
      const c = t.capped();
      expect(c, `cap ${cap}`).toEqual(expected(full, cap, false));
      expect(Buffer.from(c.text).toString()).toBe(c.text);
    }
  });

  it('matches the whole-string reference for random texts, pieces and caps (raw and trimmed)', () => {
    const r = rng(42);
    for (let round = 0; round < 400; round++) {
      const cap = 1 + Math.floor(r() * 40);
      const full = (r() < 0.3 ? ' '.repeat(Math.floor(r() * 200)) : '') + randomText(r, Math.floor(r() * 120), r() * 0.5) + (r() < 0.3 ? '\n'.repeat(Math.floor(r() * 200)) : '');
      const t = new BoundedText(cap);
      for (const p of randomPieces(r, full)) t.append(p);
      expect(t.length).toBe(full.length);
      expect(t.bytes).toBe(bytes(full));
      expect(t.hasNonSpace).toBe(full.trim() !== '');
      expect(t.capped(false), JSON.stringify({ full, cap })).toEqual(expected(full, cap, false));
      expect(t.capped(true), JSON.stringify({ full, cap })).toEqual(expected(full, cap, true));
    }
  });

  it('appendText is the same as appending the other text itself, even when both were held only in part', () => {
    const r = rng(7);
    for (let round = 0; round < 400; round++) {
      const cap = 1 + Math.floor(r() * 30);
      const a = (r() < 0.4 ? ' '.repeat(Math.floor(r() * 100)) : '') + randomText(r, Math.floor(r() * 80), r());
      const b = (r() < 0.4 ? '\n'.repeat(Math.floor(r() * 100)) : '') + randomText(r, Math.floor(r() * 80), r());
      const ta = new BoundedText(cap);
      const tb = new BoundedText(cap);
      for (const p of randomPieces(r, a)) ta.append(p);
      for (const p of randomPieces(r, b)) tb.append(p);
      const joined = ta.clone();
      joined.appendText(tb);
      const ctx = JSON.stringify({ a, b, cap });
      expect(joined.capped(false), ctx).toEqual(expected(a + b, cap, false));
      expect(joined.capped(true), ctx).toEqual(expected(a + b, cap, true));
      // the clone left the original alone
      expect(ta.capped(false), ctx).toEqual(expected(a, cap, false));
    }
  });

  it('a leading whitespace run longer than the cap still gives the real beginning when trimmed', () => {
    const t = new BoundedText(9);
    t.append(' '.repeat(1000));
    t.append('\n'.repeat(1000));
    t.append('answer✓ and more');
    t.append(' '.repeat(500));
    expect(t.capped(true)).toEqual({ text: 'answer✓', bytes: bytes('answer✓ and more'), truncated: true });
    // both heads are needed until the end (think tags decide whether to trim): two parts held, each bounded
    expect(t.retainedUnits).toBeLessThanOrEqual(2 * (9 + HEAD_MARGIN));
    expect(t.capped(false)).toEqual({ text: ' '.repeat(9), bytes: 2000 + bytes('answer✓ and more') + 500, truncated: true });
  });

  it('memory: 50 MB appended in tokens, at most cap + margin units held', () => {
    const t = new BoundedText();
    const token = 'word✓ 日本 ';
    const n = Math.ceil((50 * 1024 * 1024) / bytes(token));
    let max = 0;
    for (let i = 0; i < n; i++) {
      t.append(token);
      if ((i & 1023) === 0) max = Math.max(max, t.retainedUnits);
    }
    max = Math.max(max, t.retainedUnits);
    expect(t.bytes).toBe(n * bytes(token));
    expect(max).toBeLessThanOrEqual(MAX_INLINE_RESPONSE_BYTES + HEAD_MARGIN);
    const c = t.capped(true);
    expect(c.truncated).toBe(true);
    expect(c.bytes).toBe(n * bytes(token) - 1); // the trailing space is trimmed
    expect(token.repeat(Math.ceil(MAX_INLINE_RESPONSE_BYTES / token.length) + 1).startsWith(c.text)).toBe(true);
    expect(bytes(c.text)).toBeLessThanOrEqual(MAX_INLINE_RESPONSE_BYTES);
    expect(bytes(c.text)).toBeGreaterThan(MAX_INLINE_RESPONSE_BYTES - 4);
  });
});

describe('BoundedText: a surrogate pair split between two pieces', () => {
  it('counts the 4 bytes of the character it makes, appended piece by piece or as another text', () => {
    const t = new BoundedText();
    t.append('a\ud83d');
    t.append('\ude00b');
    expect(t.bytes).toBe(Buffer.byteLength('a😀b'));
    expect(t.capped().text).toBe('a😀b');

    const head = new BoundedText();
    head.append('x\ud83d');
    const tail = new BoundedText();
    tail.append('\ude00');
    head.appendText(tail);
    expect(head.bytes).toBe(Buffer.byteLength('x😀'));
    expect(head.clone().bytes).toBe(Buffer.byteLength('x😀'));
    // Two lone halves that do not meet are still two replacement characters.
    const lone = new BoundedText();
    lone.append('\ude00');
    lone.append('\ud83d');
    expect(lone.bytes).toBe(6);
    lone.clear();
    lone.append('\ude00');
    expect(lone.bytes).toBe(3);
  });
});
