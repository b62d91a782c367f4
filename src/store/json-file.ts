import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { LogosError } from '../core/errors.js';

/**
 * Atomic, locked JSON state files. cron, the daemon and a person at the terminal
 * run at the same time: every write is temp file + fsync + rename under a lock
 * file, and a file that does not parse is moved aside and reported, never
 * replaced by an empty one.
 */

export interface JsonFileOptions<T> {
  /** Value when the file does not exist yet. */
  empty: () => T;
  /** File mode for new files (default 0o644; the vault uses 0o600). */
  mode?: number;
  /** Validate the parsed value; throw or return false to treat it as corrupt. */
  validate?: (value: unknown) => boolean;
  /** How long to wait for the lock before giving up (ms). */
  lockTimeoutMs?: number;
}

const STALE_LOCK_MS = 30_000;

export async function atomicWrite(path: string, data: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Is a process with this pid alive (EPERM: alive, but someone else's)? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Run fn while holding `<path>.lock` (O_EXCL lock file with the owner's pid; stale locks are broken). */
export async function withLock<R>(path: string, fn: () => Promise<R>, timeoutMs = 10_000): Promise<R> {
  const lock = `${path}.lock`;
  await mkdir(dirname(lock), { recursive: true });
  const started = Date.now();
  let delay = 5;
  for (;;) {
    try {
      await writeFile(lock, `${process.pid} ${Date.now()}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Break the lock if its owner is gone or it is very old.
      try {
        const [pidText, tsText] = (await readFile(lock, 'utf8')).trim().split(' ');
        const pid = Number(pidText);
        const ts = Number(tsText);
        const st = await stat(lock);
        const age = Date.now() - (Number.isFinite(ts) ? ts : st.mtimeMs);
        if ((Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) || age > STALE_LOCK_MS) {
          await unlink(lock).catch(() => {});
          continue;
        }
      } catch {
        // lock vanished between our attempts or was half-written: retry
      }
      if (Date.now() - started > timeoutMs) {
        throw new LogosError('STATE_LOCKED', `Timed out waiting for the lock on ${path}.`, {
          hint: `Another logos process is writing it. If none is running, remove ${lock}.`,
        });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 40);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => {});
  }
}

export class JsonFile<T> {
  constructor(
    readonly path: string,
    private readonly opts: JsonFileOptions<T>,
  ) {}

  /** Read the current value (no lock: rename makes reads consistent). */
  async read(): Promise<T> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.opts.empty();
      throw err;
    }
    return this.parse(text);
  }

  /** Read, change and write back under the lock. Returns what fn returned. */
  async update<R>(fn: (value: T) => R | Promise<R>): Promise<R> {
    return withLock(
      this.path,
      async () => {
        const value = await this.read();
        const result = await fn(value);
        await atomicWrite(this.path, `${JSON.stringify(value, null, 2)}\n`, this.opts.mode ?? 0o644);
        return result;
      },
      this.opts.lockTimeoutMs,
    );
  }

  async write(value: T): Promise<void> {
    await withLock(this.path, () => atomicWrite(this.path, `${JSON.stringify(value, null, 2)}\n`, this.opts.mode ?? 0o644));
  }

  private async parse(text: string): Promise<T> {
    let value: unknown;
    let ok = true;
    try {
      value = JSON.parse(text);
      if (this.opts.validate && !this.opts.validate(value)) ok = false;
    } catch {
      ok = false;
    }
    if (ok) return value as T;
    const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(this.path, aside).catch(() => {});
    throw new LogosError('STATE_CORRUPT', `${basename(this.path)} was damaged and could not be read.`, {
      hint: `The damaged file was moved to ${aside} (nothing was deleted). Repair it and move it back, or run the command again to start from an empty ${basename(this.path)}.`,
      details: { file: this.path, moved_to: aside },
    });
  }
}
