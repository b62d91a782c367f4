import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LogosError } from '../core/errors.js';
import { DEFAULT_LOCK_TIMEOUT_MS, withLock } from './lock.js';

/**
 * Atomic, locked JSON state files. cron, the daemon and a person at the terminal
 * run at the same time: every write is temp file + fsync + rename under a lock
 * that cannot be stolen (see lock.ts), and a file that does not parse or does
 * not have the expected shape is moved aside and reported, never replaced by an
 * empty one.
 */

export interface JsonFileOptions<T> {
  /** Value when the file does not exist yet. */
  empty: () => T;
  /** File mode for new files (default 0o644; the vault uses 0o600). */
  mode?: number;
  /** Mode for directories created on the way (default 0o755; the vault uses 0o700). */
  dirMode?: number;
  /** Validate the parsed value; throw or return false to treat it as corrupt. */
  validate?: (value: unknown) => boolean;
  /** How long to wait for the lock before giving up (ms). */
  lockTimeoutMs?: number;
}

export { withLock } from './lock.js';

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

export async function atomicWrite(path: string, data: string, mode = 0o644, dirMode = 0o755): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: dirMode });
  const tmp = tempName(path);
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

/**
 * Remove temp files of `path` left by writers that died mid-write (kill -9 between
 * the temp file and the rename). Called under the lock, so no live writer of this
 * file is between those two steps except through a pid that is still alive.
 */
async function sweepTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) continue;
    const pid = Number(n.slice(prefix.length).split('.')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidAlive(pid)) await unlink(join(dirname(path), n)).catch(() => {});
  }
}

function serialize(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export class JsonFile<T> {
  constructor(
    readonly path: string,
    private readonly opts: JsonFileOptions<T>,
  ) {}

  /** Read the current value (no lock: rename makes reads consistent). */
  async read(): Promise<T> {
    return (await this.readWithText()).value;
  }

  private async readWithText(): Promise<{ value: T; text?: string }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { value: this.opts.empty() };
      throw err;
    }
    return { value: await this.parse(text), text };
  }

  /**
   * Read, change and write back under the lock. Returns what fn returned.
   * Nothing is written (and no file or directory created) when fn changed nothing.
   */
  async update<R>(fn: (value: T) => R | Promise<R>): Promise<R> {
    return withLock(
      this.path,
      async () => {
        const { value, text } = await this.readWithText();
        const result = await fn(value);
        const next = serialize(value);
        const unchanged = text === undefined ? next === serialize(this.opts.empty()) : next === text;
        if (!unchanged) {
          await sweepTemps(this.path);
          await atomicWrite(this.path, next, this.opts.mode ?? 0o644, this.opts.dirMode);
        }
        return result;
      },
      this.opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    );
  }

  /** Delete the file under the lock; false when there was none. */
  async remove(): Promise<boolean> {
    return withLock(this.path, async () => {
      try {
        await unlink(this.path);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw err;
      }
    });
  }

  async write(value: T): Promise<void> {
    await withLock(this.path, async () => {
      await sweepTemps(this.path);
      await atomicWrite(this.path, serialize(value), this.opts.mode ?? 0o644, this.opts.dirMode);
    });
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
