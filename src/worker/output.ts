/**
 * Coalesced frame output. One write per frame costs a syscall per token, which
 * caps a worker at tens of thousands of frames per second; instead lines are
 * gathered and written together: when FLUSH_BYTES have gathered, at the end of
 * the current event-loop turn (so the frames of one network chunk go out as one
 * write and none waits longer than a turn), or at once when asked (task_result).
 * Order is the order of write() calls; nothing is dropped while the process lives.
 */
import type { Frame } from '../core/protocol.js';

/** The part of a Writable (process.stdout) this needs. */
export interface FrameSink {
  write(chunk: string, callback?: (err?: Error | null) => void): boolean;
  readonly writableLength: number;
  once(event: 'drain', listener: () => void): unknown;
}

/** Gathered text that triggers a write (UTF-16 units, close enough to bytes here). */
export const FLUSH_BYTES = 64 * 1024;

/**
 * Bytes the sink may hold unwritten (the reader is slower than the model) before
 * the worker stops reading the model's stream until they drain. Without this,
 * Node queues pipe writes in memory without limit.
 */
export const HIGH_WATER_BYTES = 1024 * 1024;

let cachedTaskId = '';
let cachedTaskIdJson = '""';

/**
 * One frame as its JSON line. token and thinking frames are nearly all of the
 * output, so they are spelled out directly: byte for byte what JSON.stringify
 * gives for `{type, task_id, content}` (the only fields they have), about four
 * times cheaper than stringifying the object.
 */
export function frameLine(frame: Frame): string {
  if ((frame.type === 'token' || frame.type === 'thinking') && typeof frame.content === 'string' && typeof frame.task_id === 'string') {
    if (frame.task_id !== cachedTaskId) {
      cachedTaskId = frame.task_id;
      cachedTaskIdJson = JSON.stringify(frame.task_id);
    }
    return `{"type":"${frame.type}","task_id":${cachedTaskIdJson},"content":${JSON.stringify(frame.content)}}\n`;
  }
  return JSON.stringify(frame) + '\n';
}

export class FrameWriter {
  private buffer = '';
  private scheduled = false;
  /** Lines queued, and writes handed to the sink: logged, so coalescing can be checked. */
  lines = 0;
  writes = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly flushAt = FLUSH_BYTES,
    private readonly highWater = HIGH_WATER_BYTES,
  ) {}

  /** Queue one newline-terminated line; `now` writes it (and everything before it) at once. */
  write(line: string, now = false): void {
    this.lines++;
    this.buffer += line;
    if (now || this.buffer.length >= this.flushAt) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onTurnEnd);
    }
  }

  /** Hand everything gathered to the sink, in order. */
  flush(): void {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer;
    this.buffer = '';
    this.writes++;
    this.sink.write(chunk);
  }

  /** Flush, then call `done` once the sink has written everything handed to it. */
  end(done: () => void): void {
    this.flush();
    this.sink.write('', () => done());
  }

  /**
   * undefined while the sink keeps up (no await on the hot path); otherwise a
   * promise that resolves when its backlog has drained.
   */
  backpressure(): Promise<void> | undefined {
    if (this.sink.writableLength <= this.highWater) return undefined;
    return new Promise((resolve) => this.sink.once('drain', resolve));
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
