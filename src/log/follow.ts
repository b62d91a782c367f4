import { watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import { LOG_NAME, logFiles } from './files.js';
import { isMissing, readAt, type LogMark } from './reader.js';

/**
 * Following the unified log like `tail -F`: new complete lines as they are appended.
 * The log is several numbered files (log/files.ts); every poll lists them and reads what
 * was added to each since the last poll, in number order, so lines a slower writer still
 * appends to an older file are not missed. A new file is read from its start; a file that
 * went away is let go; none at all is waited for. fs.watch on the directory wakes the poll
 * early; a timer is the fallback (watch events are not guaranteed, e.g. on network file systems).
 */

export interface FollowOptions {
  signal: AbortSignal;
  /** Where an initial read stopped in each file (log/reader.ts): those parts are not read again. */
  start?: LogMark | undefined;
  /** Fallback poll interval. */
  pollMs?: number;
  /** Called whenever a poll finds no log file (for tests and status displays). */
  onWait?: () => void;
}

const CHUNK = 64 * 1024;
/** A "line" that never ends is passed on in pieces rather than held in memory. */
const MAX_PARTIAL = 1024 * 1024;

interface Tracked {
  dev: number;
  ino: number;
  pos: number;
  partial: Buffer;
}

class Follower {
  private readonly tracked = new Map<string, Tracked>();
  private watcher: FSWatcher | undefined;
  private dirty = false;
  private wakeNow: (() => void) | undefined;

  constructor(
    private readonly dir: string,
    private readonly opts: FollowOptions,
  ) {
    for (const f of opts.start?.files ?? []) this.tracked.set(f.path, { dev: f.dev, ino: f.ino, pos: f.end, partial: Buffer.alloc(0) });
  }

  /** Watch the directory: files come and go in it, and it may not exist yet. */
  ensureWatcher(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.dir, { persistent: true }, (_event, name) => {
        if (!name || LOG_NAME.test(name)) this.poke();
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
    const files = await logFiles(this.dir);
    if (files.length === 0) {
      // The directory may have gone, taking the watch with it: watch again once it is back.
      this.closeWatcher();
      this.opts.onWait?.();
    }
    const seen = new Set<string>();
    for (const f of files) {
      let fh;
      try {
        fh = await open(f.path, 'r');
      } catch (err) {
        if (isMissing(err)) continue; // removed since the listing
        throw err;
      }
      seen.add(f.path);
      try {
        const st = await fh.stat();
        let t = this.tracked.get(f.path);
        if (!t || t.ino !== st.ino || t.dev !== st.dev) {
          // A file we have not seen (or another file under a known name): all of it is new.
          if (t) this.flushPartial(t, out);
          t = { dev: st.dev, ino: st.ino, pos: 0, partial: Buffer.alloc(0) };
          this.tracked.set(f.path, t);
        }
        if (st.size < t.pos) {
          // Truncated in place: what is there now is new.
          t.pos = 0;
          t.partial = Buffer.alloc(0);
        }
        while (t.pos < st.size) {
          const buf = Buffer.alloc(Math.min(CHUNK, st.size - t.pos));
          const got = await readAt(fh, buf, t.pos);
          if (got === 0) break;
          t.pos += got;
          this.take(t, buf.subarray(0, got), out);
        }
      } finally {
        await fh.close();
      }
    }
    for (const [path, t] of this.tracked) {
      if (seen.has(path)) continue;
      this.flushPartial(t, out);
      this.tracked.delete(path);
    }
    return out;
  }

  private take(t: Tracked, chunk: Buffer, out: string[]): void {
    const data = t.partial.length > 0 ? Buffer.concat([t.partial, chunk]) : chunk;
    let start = 0;
    for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, start)) {
      const line = data.toString('utf8', start, i);
      if (line.trim() !== '') out.push(line);
      start = i + 1;
    }
    t.partial = Buffer.from(data.subarray(start));
    if (t.partial.length > MAX_PARTIAL) this.flushPartial(t, out);
  }

  private flushPartial(t: Tracked, out: string[]): void {
    const line = t.partial.toString('utf8');
    if (line.trim() !== '') out.push(line);
    t.partial = Buffer.alloc(0);
  }
}

/** Batches of new lines (without their newline) until `signal` aborts. */
export async function* followLines(dir: string, opts: FollowOptions): AsyncGenerator<string[], void, undefined> {
  const f = new Follower(dir, opts);
  try {
    while (!opts.signal.aborted) {
      f.ensureWatcher();
      const lines = await f.poll();
      if (lines.length > 0 && !opts.signal.aborted) yield lines;
      await f.wait();
    }
  } finally {
    f.closeWatcher();
  }
}
