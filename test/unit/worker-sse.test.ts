import { describe, expect, it } from 'vitest';
import { parseSse, SseParser, type SseEvent } from '../../src/worker/sse.js';

const enc = new TextEncoder();

/** Feed `bytes` cut at every position in `cuts`. */
function feedCut(bytes: Uint8Array, cuts: number[]): SseEvent[] {
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    parts.push(bytes.subarray(prev, c));
    prev = c;
  }
  return parseSse(parts);
}

const CASES: Array<{ name: string; stream: string; events: SseEvent[]; comments?: number }> = [
  {
    name: 'OpenAI chunks and [DONE]',
    stream: 'data: {"a":1}\n\ndata: {"b":"x y"}\n\ndata: [DONE]\n\n',
    events: [{ data: '{"a":1}' }, { data: '{"b":"x y"}' }, { data: '[DONE]' }],
  },
  {
    name: 'CRLF line endings',
    stream: 'data: one\r\n\r\ndata: two\r\n\r\n',
    events: [{ data: 'one' }, { data: 'two' }],
  },
  {
    name: 'bare CR line endings',
    stream: 'data: one\r\rdata: two\r\r',
    events: [{ data: 'one' }, { data: 'two' }],
  },
  {
    name: 'keep-alive comments are skipped and counted',
    stream: ': keep-alive\n\ndata: a\n: inside a record\n\n:ping\n\ndata: b\n\n',
    events: [{ data: 'a' }, { data: 'b' }],
    comments: 3,
  },
  {
    name: 'multi-line data is joined with newlines',
    stream: 'data: {\ndata:  "k": 1\ndata: }\n\n',
    events: [{ data: '{\n "k": 1\n}' }],
  },
  {
    name: 'named events (Anthropic)',
    stream: 'event: message_start\ndata: {"type":"message_start"}\n\nevent: ping\ndata: {"type": "ping"}\n\n',
    events: [
      { event: 'message_start', data: '{"type":"message_start"}' },
      { event: 'ping', data: '{"type": "ping"}' },
    ],
  },
  {
    name: 'no space after the colon, empty data, id field, unknown fields',
    stream: 'data:x\nid: 7\nretry: 100\nfoo: bar\n\ndata:\n\n',
    events: [{ data: 'x', id: '7' }, { data: '', id: '7' }],
  },
  {
    name: 'an event name without data dispatches nothing and does not leak into the next record',
    stream: 'event: lonely\n\ndata: z\n\n',
    events: [{ data: 'z' }],
  },
  {
    name: 'a byte-order mark at the start is ignored',
    stream: '\uFEFFdata: bom\n\n',
    events: [{ data: 'bom' }],
  },
  {
    name: 'a last record without the blank line is still delivered at the end',
    stream: 'data: first\n\ndata: [DONE]\n',
    events: [{ data: 'first' }, { data: '[DONE]' }],
  },
  {
    name: 'multi-byte UTF-8 content',
    stream: 'data: {"c":"héllo ✓ 日本 🎉"}\n\n',
    events: [{ data: '{"c":"héllo ✓ 日本 🎉"}' }],
  },
];

describe('SseParser', () => {
  for (const c of CASES) {
    it(`${c.name}: whole stream`, () => {
      const p = new SseParser();
      const events = [...p.feed(enc.encode(c.stream)), ...p.end()];
      expect(events).toEqual(c.events);
      if (c.comments !== undefined) expect(p.comments).toBe(c.comments);
    });

    it(`${c.name}: split at every byte position`, () => {
      const bytes = enc.encode(c.stream);
      for (let i = 0; i <= bytes.length; i++) {
        expect(feedCut(bytes, [i]), `cut at ${i}`).toEqual(c.events);
      }
    });

    it(`${c.name}: one byte at a time`, () => {
      const bytes = enc.encode(c.stream);
      const cuts = Array.from({ length: bytes.length }, (_, i) => i);
      expect(feedCut(bytes, cuts)).toEqual(c.events);
    });
  }

  it('splits inside a UTF-8 character do not produce replacement characters', () => {
    const bytes = enc.encode('data: ✓日\n\n');
    // "✓" starts at byte 6 and is 3 bytes long: cut after its first and second byte
    const events = feedCut(bytes, [7, 8, 10]);
    expect(events).toEqual([{ data: '✓日' }]);
    expect(events[0]!.data).not.toContain('\uFFFD');
  });

  it('CRLF split between CR and LF does not create an extra blank line', () => {
    const p = new SseParser();
    const out = [...p.feed('data: a\r'), ...p.feed('\ndata: b\r'), ...p.feed('\n\r'), ...p.feed('\n'), ...p.end()];
    expect(out).toEqual([{ data: 'a\nb' }]);
  });

  it('accepts string chunks as well as bytes', () => {
    const p = new SseParser();
    expect([...p.feed('data: s'), ...p.feed(enc.encode('tr\n\n'))]).toEqual([{ data: 'str' }]);
  });

  it('returns records as soon as they are complete (streaming, not at end)', () => {
    const p = new SseParser();
    expect(p.feed('data: 1\n\ndata: 2')).toEqual([{ data: '1' }]);
    expect(p.feed('\n\n')).toEqual([{ data: '2' }]);
    expect(p.end()).toEqual([]);
    expect(p.events).toBe(2);
  });
});
