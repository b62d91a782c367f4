import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isMissing, openLog, readAt, type OpenLog } from './reader.js';

/**
 * Following the unified log like `tail -F`: new complete lines as they are appended.
 * The writer rotates by renaming logos.jsonl to logos.jsonl.1 and creating a new file,
 * so each poll finishes the file it has open and, when the path now names another file
 * (inode changed) or none, moves on to the new one from its start. A file that does not
 * exist yet is waited for. fs.watch on the directory wakes the poll early; a timer is
 * the fallback (watch events are not guaranteed, e.g. on network file systems).
 */

export interface FollowOptions {
  signal: AbortSignal;
  /** The file already open and where its unread part begins (after an initial read). */
  start?: { log: OpenLog; pos: number } | undefined;
  /** Fallback poll interval. */
  pollMs?: number;
  /** Called whenever a poll finds no file at the path (for tests and status displays). */
  onWait?: () => void;
}

const CHUNK = 64 * 1024;
/** A "line" that never ends is passed on in pieces rather than held in memory. */
const MAX_PARTIAL = 1024 * 1024;

class Follower {
  private cur: OpenLog | undefined;
  private pos = 0;
  private partial = Buffer.alloc(0);
  private watcher: FSWatcher | undefined;
  private dirty = false;
  private wakeNow: (() => void) | undefined;

  constructor(
    private readonly file: string,
    private readonly opts: FollowOptions,
  ) {
    if (opts.start) {
      this.cur = opts.start.log;
      this.pos = opts.start.pos;
    }
  }

  /** Watch the directory, not the file: the file is replaced on rotation and may not exist yet. */
  ensureWatcher(): void {
    if (this.watcher) return;
    const base = basename(this.file);
    try {
      this.watcher = watch(dirname(this.file), { persistent: true }, (_event, name) => {
        if (!name || name === base || name === `${base}.1`) this.poke();
      });
      this.watcher.on('error', () => this.closeWatcher());
    } catch {
      // no directory yet: the timer polls until it appears
    }
  }

  closeWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private poke(): void {
    this.dirty = true;
    this.wakeNow?.();
  }

  /** Wait for a watch event, the poll interval or the abort, whichever comes first. */
  wait(): Promise<void> {
    if (this.dirty || this.opts.signal.aborted) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.opts.signal.removeEventListener('abort', done);
        this.wakeNow = undefined;
        this.dirty = false;
        resolve();
      };
      const timer = setTimeout(done, this.opts.pollMs ?? 250);
      this.opts.signal.addEventListener('abort', done, { once: true });
      this.wakeNow = done;
    });
  }

  async poll(): Promise<string[]> {
    const out: string[] = [];
    if (!this.cur) {
      this.cur = await openLog(this.file);
      if (!this.cur) {
        // The directory may have gone too, taking the watch with it: watch again once it is back.
        this.closeWatcher();
        this.opts.onWait?.();
        return out;
      }
      this.pos = 0;
      this.partial = Buffer.alloc(0);
    }
    await this.drain(this.cur, out);
    let now;
    try {
      now = await stat(this.file);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (!now || now.ino !== this.cur.ino || now.dev !== this.cur.dev) {
      // Rotated or removed: finish the old file (a writer may have added to it since), then start over.
      await this.drain(this.cur, out);
      this.flushPartial(out);
      await this.close();
      out.push(...(await this.poll()));
    }
    return out;
  }

  private async drain(cur: OpenLog, out: string[]): Promise<void> {
    const { size } = await cur.fh.stat();
    if (size < this.pos) {
      // Truncated in place: what is there now is new.
      this.pos = 0;
      this.partial = Buffer.alloc(0);
    }
    while (this.pos < size) {
      const buf = Buffer.alloc(Math.min(CHUNK, size - this.pos));
      const got = await readAt(cur.fh, buf, this.pos);
      if (got === 0) break;
      this.pos += got;
      this.take(buf.subarray(0, got), out);
    }
  }

  private take(chunk: Buffer, out: string[]): void {
    const data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    let start = 0;
    for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, start)) {
      const line = data.toString('utf8', start, i);
      if (line.trim() !== '') out.push(line);
      start = i + 1;
    }
    this.partial = Buffer.from(data.subarray(start));
    if (this.partial.length > MAX_PARTIAL) this.flushPartial(out);
  }

  private flushPartial(out: string[]): void {
    const line = this.partial.toString('utf8');
    if (line.trim() !== '') out.push(line);
    this.partial = Buffer.alloc(0);
  }

  async close(): Promise<void> {
    const cur = this.cur;
    this.cur = undefined;
    await cur?.fh.close();
  }
}

/** Batches of new lines (without their newline) until `signal` aborts. */
export async function* followLines(file: string, opts: FollowOptions): AsyncGenerator<string[], void, undefined> {
  const f = new Follower(file, opts);
  try {
    while (!opts.signal.aborted) {
      f.ensureWatcher();
      const lines = await f.poll();
      if (lines.length > 0 && !opts.signal.aborted) yield lines;
      await f.wait();
    }
  } finally {
    f.closeWatcher();
    await f.close();
  }
}
