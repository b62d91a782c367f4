/** Coalesced frame output: fewer writes, same bytes in the same order, task_result at once, backpressure. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/protocol.js';
import { FLUSH_BYTES, frameLine, FrameWriter, type FrameSink } from '../../src/worker/output.js';

class FakeSink extends EventEmitter implements FrameSink {
  chunks: string[] = [];
  writableLength = 0;
  write(chunk: string, callback?: (err?: Error | null) => void): boolean {
    this.chunks.push(chunk);
    if (callback) setImmediate(() => callback());
    return true;
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const line = (i: number): string => frameLine({ type: 'token', task_id: 't1', content: `w${i} ` });

describe('frameLine', () => {
  it('is exactly JSON.stringify + newline, for the hand-built token/thinking lines too', () => {
    const contents = ['plain', '', 'quote " backslash \\ slash /', 'ctl \u0000\u0001\u001f\b\f\n\r\t', 'héllo ✓ 日本 😀', '\u2028\u2029', 'lone \ud800 and \udc00', '</script>'];
    const frames: Frame[] = [];
    for (const content of contents) {
      frames.push({ type: 'token', task_id: 't_0mwr21ohu5rx9b5', content });
      frames.push({ type: 'thinking', task_id: 'id with "quotes" ✓', content });
    }
    frames.push({ type: 'task_result', task_id: 't', status: 'ok', final_response: 'x', duration_ms: 1 });
    frames.push({ v: 1, type: 'ready', task_id: 't', worker: { version: '1', runtime: 'node', pid: 1 }, ts: 'now' });
    for (const f of frames) expect(frameLine(f)).toBe(JSON.stringify(f) + '\n');
  });
});

describe('FrameWriter', () => {
  it('frames of one turn go out as one write, after the turn', async () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink);
    for (let i = 0; i < 100; i++) w.write(line(i));
    expect(sink.chunks).toEqual([]);
    await turn();
    expect(sink.chunks).toEqual([Array.from({ length: 100 }, (_, i) => line(i)).join('')]);
    expect(w.lines).toBe(100);
    expect(w.writes).toBe(1);
  });

  it('writes when FLUSH_BYTES have gathered, keeping order and every byte', async () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink);
    const all: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      all.push(line(i));
      w.write(line(i));
    }
    expect(sink.chunks.length).toBeGreaterThan(1);
    for (const c of sink.chunks) expect(c.length).toBeLessThan(FLUSH_BYTES + 100);
    await turn();
    expect(sink.chunks.join('')).toBe(all.join(''));
    expect(sink.chunks.length).toBeLessThan(all.length / 100);
  });

  it('a line written `now` goes out at once, after everything before it', () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink);
    w.write('a\n');
    w.write('b\n');
    w.write('result\n', true);
    expect(sink.chunks).toEqual(['a\nb\nresult\n']);
  });

  it('end flushes what is gathered, then calls back once the sink has it', async () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink);
    w.write('a\n');
    const done = new Promise<string[]>((resolve) => w.end(() => resolve([...sink.chunks])));
    expect(sink.chunks[0]).toBe('a\n');
    expect(await done).toEqual(['a\n', '']);
  });

  it('backpressure: nothing to wait for while the sink keeps up; a wait until drain when it does not', async () => {
    const sink = new FakeSink();
    const w = new FrameWriter(sink, 1024, 4096);
    expect(w.backpressure()).toBeUndefined();
    sink.writableLength = 10_000;
    const wait = w.backpressure();
    expect(wait).toBeInstanceOf(Promise);
    let settled = false;
    void wait!.then(() => (settled = true));
    await turn();
    expect(settled).toBe(false);
    sink.writableLength = 0;
    sink.emit('drain');
    await wait;
    expect(settled).toBe(true);
  });
});
