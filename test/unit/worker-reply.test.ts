/**
 * ReplyBuilder with bounded memory: the final response is exact while it fits
 * the cap and the correct head (with the exact size) beyond it, with the same
 * rules as before (think-tag trimming, reasoning-only fallback, orphan </think>).
 */
import { describe, expect, it } from 'vitest';
import { MAX_INLINE_RESPONSE_BYTES } from '../../src/core/protocol.js';
import { ReplyBuilder } from '../../src/worker/reply.js';
import { HEAD_MARGIN, MAX_FRAME_CONTENT_UNITS } from '../../src/worker/text.js';
import { ThinkSplitter, type ThinkPart } from '../../src/worker/think.js';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

type Piece = ['content' | 'reasoning', string];

/** The final-response rules on whole strings (the builder before it was bounded). */
function reference(pieces: Piece[]): string {
  const splitter = new ThinkSplitter();
  let visible = '';
  let reasoning = '';
  let reclassified = '';
  const apply = (parts: ThinkPart[]): void => {
    for (const p of parts) {
      if (p.kind === 'content') visible += p.text;
      else if (p.kind === 'thinking') reasoning += p.text;
      else {
        reclassified += visible;
        visible = '';
      }
    }
  };
  for (const [kind, text] of pieces) {
    if (kind === 'content') apply(splitter.push(text));
    else reasoning += text;
  }
  apply(splitter.end());
  const v = splitter.sawTags ? visible.trim() : visible;
  if (v.trim().length > 0) return v;
  return (reclassified + reasoning).trim();
}

function refHead(s: string, max: number): string {
  let out = '';
  let size = 0;
  for (const cp of s) {
    if (size + bytes(cp) > max) break;
    out += cp;
    size += bytes(cp);
  }
  return out;
}

function expected(pieces: Piece[], cap: number): { text: string; bytes: number; truncated: boolean } {
  const full = reference(pieces);
  const size = bytes(full);
  return size <= cap ? { text: full, bytes: size, truncated: false } : { text: refHead(full, cap), bytes: size, truncated: true };
}

function build(pieces: Piece[], cap?: number): { reply: ReplyBuilder; tokens: string[]; thinking: string[] } {
  const tokens: string[] = [];
  const thinking: string[] = [];
  const reply = new ReplyBuilder({ token: (t) => tokens.push(t), thinking: (t) => thinking.push(t) }, cap);
  for (const [kind, text] of pieces) {
    if (kind === 'content') reply.content(text);
    else reply.reasoning(text);
  }
  return { reply, tokens, thinking };
}

const content = (...texts: string[]): Piece[] => texts.map((t) => ['content', t]);

describe('ReplyBuilder final response', () => {
  it('small replies keep the rules: think tags trimmed, reasoning-only fallback, orphan </think>', () => {
    const cases: Array<{ pieces: Piece[]; final: string }> = [
      { pieces: content('Hello', ' world'), final: 'Hello world' },
      { pieces: content('  spaced  '), final: '  spaced  ' }, // no tags: untouched
      { pieces: content('<thi', 'nk>hmm</th', 'ink>\n\nYes '), final: 'Yes' },
      { pieces: content('<think>inner text</think>'), final: 'inner text' },
      { pieces: [['reasoning', 'only '], ['reasoning', 'thoughts '], ['content', '']], final: 'only thoughts' },
      { pieces: content('planning...', '</think>\n\nFinal.'), final: 'Final.' },
      { pieces: content('planning...', '</think>  '), final: 'planning...' },
      { pieces: [['reasoning', 'r1 '], ['content', 'pre '], ['content', '</think> ']], final: 'pre r1' },
      { pieces: content('   '), final: '' },
    ];
    for (const c of cases) {
      const { reply } = build(c.pieces);
      expect(reply.finalResponse(), JSON.stringify(c.pieces)).toEqual({ text: c.final, bytes: bytes(c.final), truncated: false });
      expect(reference(c.pieces)).toBe(c.final);
    }
  });

  it('a reply larger than the cap: the head, the exact size of the whole, truncated', () => {
    const cap = 1000;
    const pieces = content(...Array.from({ length: 5000 }, (_, i) => `tok${i} `));
    const { reply, tokens } = build(pieces, cap);
    const full = pieces.map(([, t]) => t).join('');
    const final = reply.finalResponse();
    expect(final).toEqual({ text: full.slice(0, cap), bytes: bytes(full), truncated: true });
    expect(tokens.join('')).toBe(full); // the tokens still carry all of it
  });

  it('multi-byte characters at the cut: never split, never a lone surrogate', () => {
    for (let cap = 1; cap <= 24; cap++) {
      const pieces = content('<think>why</think>', 'ab', '😀é✓'.repeat(3), '日本😀'.repeat(4), '  ');
      const final = build(pieces, cap).reply.finalResponse();
      expect(final, `cap ${cap}`).toEqual(expected(pieces, cap));
      expect(Buffer.from(final.text).toString()).toBe(final.text);
      expect(bytes(final.text)).toBeLessThanOrEqual(cap);
    }
  });

  it('a long reasoning-only reply falls back to the reasoning head', () => {
    const cap = 100;
    const pieces: Piece[] = [['content', '\n'], ...Array.from({ length: 300 }, (_, i): Piece => ['reasoning', `step ${i}; `])];
    const final = build(pieces, cap).reply.finalResponse();
    expect(final).toEqual(expected(pieces, cap));
    expect(final.truncated).toBe(true);
  });

  it('an orphan </think> after a long prefix moves all of it to the reasoning side', () => {
    const cap = 50;
    const long = Array.from({ length: 200 }, (_, i) => `plan${i} `);
    for (const after of ['\n\nShort answer.', '  ', 'x'.repeat(500)]) {
      const pieces: Piece[] = [['reasoning', 'r '], ...content(...long, '</think>', after)];
      expect(build(pieces, cap).reply.finalResponse(), after.slice(0, 10)).toEqual(expected(pieces, cap));
    }
  });

  it('matches the whole-string rules for random streams of tags, reasoning, whitespace and multi-byte text', () => {
    let x = 12345;
    const r = (): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x / 0x80000000;
    };
    const bits = ['a', 'b ', ' ', '\n', 'é', '✓', '😀', '<think>', '</think>', '<thi', 'nk>', '</', 'think>', '<', 'x'.repeat(30), ' '.repeat(30)];
    for (let round = 0; round < 500; round++) {
      const cap = 1 + Math.floor(r() * 60);
      const pieces: Piece[] = [];
      const n = Math.floor(r() * 40);
      for (let i = 0; i < n; i++) {
        let t = '';
        for (let k = Math.floor(r() * 4); k >= 0; k--) t += bits[Math.floor(r() * bits.length)]!;
        pieces.push([r() < 0.2 ? 'reasoning' : 'content', t]);
      }
      expect(build(pieces, cap).reply.finalResponse(), JSON.stringify({ pieces, cap })).toEqual(expected(pieces, cap));
    }
  });
});

describe('ReplyBuilder memory and frames', () => {
  it('50 MB of content tokens: the retained text stays within the cap plus a margin', () => {
    const { reply, tokens } = ((): { reply: ReplyBuilder; tokens: { n: number; bytes: number } } => {
      const count = { n: 0, bytes: 0 };
      return { reply: new ReplyBuilder({ token: (t) => ((count.n += 1), (count.bytes += bytes(t))), thinking: () => undefined }), tokens: count };
    })();
    const token = 'lorem ✓ 日本 ipsum ';
    const n = Math.ceil((50 * 1024 * 1024) / bytes(token));
    let max = 0;
    for (let i = 0; i < n; i++) {
      reply.content(token);
      if ((i & 4095) === 0) max = Math.max(max, reply.retainedUnits);
    }
    const final = reply.finalResponse();
    max = Math.max(max, reply.retainedUnits);
    expect(max).toBeLessThanOrEqual(MAX_INLINE_RESPONSE_BYTES + HEAD_MARGIN);
    expect(tokens).toEqual({ n, bytes: n * bytes(token) });
    expect(final.truncated).toBe(true);
    expect(final.bytes).toBe(n * bytes(token)); // no think tags: nothing trimmed
    expect(token.repeat(Math.ceil(MAX_INLINE_RESPONSE_BYTES / token.length) + 1).startsWith(final.text)).toBe(true);
    expect(bytes(final.text)).toBeGreaterThan(MAX_INLINE_RESPONSE_BYTES - 4);
    expect(bytes(final.text)).toBeLessThanOrEqual(MAX_INLINE_RESPONSE_BYTES);
  });

  it('50 MB of reasoning: bounded too, and the reasoning head is the reply', () => {
    const reply = new ReplyBuilder({ token: () => undefined, thinking: () => undefined });
    const piece = 'thinking hard about it '.repeat(100);
    const n = Math.ceil((50 * 1024 * 1024) / piece.length);
    for (let i = 0; i < n; i++) reply.reasoning(piece);
    expect(reply.retainedUnits).toBeLessThanOrEqual(MAX_INLINE_RESPONSE_BYTES + HEAD_MARGIN);
    const final = reply.finalResponse();
    expect(final).toMatchObject({ truncated: true, bytes: n * piece.length - 1 });
    expect(final.text).toBe(piece.repeat(Math.ceil(MAX_INLINE_RESPONSE_BYTES / piece.length) + 1).slice(0, MAX_INLINE_RESPONSE_BYTES));
  });

  it('one huge delta goes out as several frames of bounded size', () => {
    const huge = '😀ab'.repeat(200_000); // 800 000 units in one piece of content
    const { tokens } = build(content(huge));
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.join('')).toBe(huge);
    for (const t of tokens) {
      expect(t.length).toBeLessThanOrEqual(MAX_FRAME_CONTENT_UNITS);
      expect(Buffer.from(t).toString()).toBe(t);
    }
    const { thinking } = build([['reasoning', huge]]);
    expect(thinking.join('')).toBe(huge);
    expect(Math.max(...thinking.map((t) => t.length))).toBeLessThanOrEqual(MAX_FRAME_CONTENT_UNITS);
  });
});

describe('ReplyBuilder: a stream cut anywhere gives the same text, reasoning and tool calls', () => {
  // Plain pieces take a short way through (no think or tool block open, nothing held back):
  // whatever the cuts, the frames must add up to what the whole stream gives in one piece.
  it('for random streams of text, think tags and tool-call blocks, with and without tool XML', () => {
    let x = 424242;
    const r = (): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x / 0x80000000;
    };
    const bits = ['plain ', 'a', ' ', '\n', 'é✓😀', '<think>', '</think>', 'why ', '<', 'x < y', '<tool_call>', '{"name":"shell","arguments":{"command":"ls"}}', '</tool_call>', '<function=read_file>', '<parameter=path>', 'a.txt', '</parameter>', '</function>'];
    const feed = (chunks: string[], toolXml: boolean) => {
      let tokens = '';
      let thinking = '';
      const reply = new ReplyBuilder({ token: (t) => (tokens += t), thinking: (t) => (thinking += t) }, undefined, { toolXml });
      for (const c of chunks) reply.content(c);
      const final = reply.finalResponse();
      return { tokens, thinking, calls: reply.xmlCalls, final };
    };
    for (let round = 0; round < 400; round++) {
      let whole = '';
      for (let i = Math.floor(r() * 30); i >= 0; i--) whole += bits[Math.floor(r() * bits.length)]!;
      const chunks: string[] = [];
      // Cut anywhere, a surrogate pair included (its halves in two pieces still count 4 bytes).
      for (let at = 0; at < whole.length; ) {
        const n = 1 + Math.floor(r() * 12);
        chunks.push(whole.slice(at, at + n));
        at += n;
      }
      for (const toolXml of [false, true]) {
        expect(feed(chunks, toolXml), JSON.stringify({ chunks, toolXml })).toEqual(feed([whole], toolXml));
      }
    }
  });
});
