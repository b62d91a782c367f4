import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { basename, dirname, resolve } from 'node:path';
import { lazyBuiltin } from '../core/builtins.js';
import { LogosError } from '../core/errors.js';

/**
 * Cross-process locks that cannot be stolen and never go stale.
 *
 * A lock is a listening Unix socket in Linux's abstract namespace, named after
 * the file it guards. Only one process can bind a name, and the kernel frees it
 * when the holder exits, however it exits (kill -9 included). There is no lock
 * file, so there is nothing to break: the old O_EXCL lock file had to be broken
 * by path when its holder looked dead, and two breakers could each remove the
 * other's fresh lock and both write (lost updates).
 *
 * Processes that share a state directory must share a network namespace (the
 * abstract namespace is per network namespace), which every logos process on
 * one host does. Sandboxes run in their own network namespace and cannot touch
 * these names.
 */

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

/** node:crypto loads when a lock is first taken: most commands take none. */
const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/** The abstract socket name for the lock of `path` (stable across processes and path spellings). */
export function lockName(path: string): string {
  const { createHash } = crypto();
  const abs = resolve(path);
  let dir = dirname(abs);
  try {
    dir = realpathSync(dir);
  } catch {
    // the directory does not exist yet: every process sees the same spelling of it
  }
  const digest = createHash('sha256').update(`${dir}/${basename(abs)}`).digest('hex').slice(0, 40);
  return `\0logos-lock/${digest}`;
}

function tryBind(name: string): Promise<Server | undefined> {
  return new Promise((resolveBind, reject) => {
    const server = createServer();
    const onError = (err: NodeJS.ErrnoException): void => {
      server.close();
      if (err.code === 'EADDRINUSE') resolveBind(undefined);
      else reject(err);
    };
    server.once('error', onError);
    server.listen(name, () => {
      server.off('error', onError);
      // Nobody ever connects; a held lock must not keep the process alive either.
      server.on('error', () => {});
      server.unref();
      resolveBind(server);
    });
  });
}

/** Within one process, lock holders for the same name queue here instead of polling the kernel. */
const local = new Map<string, Promise<void>>();

function lockedError(path: string, timeoutMs: number): LogosError {
  return new LogosError('STATE_LOCKED', `Timed out after ${Math.round(timeoutMs / 1000)}s waiting for another logos process to finish writing ${path}.`, {
    hint: 'Another logos process is holding it (a long `logos` command, or the daemon). Try again; if it persists, look for a hung process with `pgrep -af logos`.',
    details: { file: path },
  });
}

/**
 * Run fn while holding the lock of `path`. Waits up to timeoutMs for another
 * holder (in this process or another), then fails with STATE_LOCKED. The lock
 * is released when fn settles.
 */
export async function withLock<R>(path: string, fn: () => Promise<R>, timeoutMs = DEFAULT_LOCK_TIMEOUT_MS): Promise<R> {
  const name = lockName(path);
  const deadline = Date.now() + timeoutMs;
  const previous = local.get(name) ?? Promise.resolve();
  let releaseLocal!: () => void;
  const mine = new Promise<void>((r) => (releaseLocal = r));
  // Our turn comes when the previous holder is done, whether or not we are still waiting.
  const chained = previous.then(() => mine);
  local.set(name, chained);
  try {
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      previous.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    if (!inTime) throw lockedError(path, timeoutMs);
    const server = await acquire(name, path, deadline, timeoutMs);
    try {
      return await fn();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  } finally {
    releaseLocal();
    if (local.get(name) === chained) local.delete(name);
  }
}

async function acquire(name: string, path: string, deadline: number, timeoutMs: number): Promise<Server> {
  let delay = 2;
  for (;;) {
    const server = await tryBind(name);
    if (server) return server;
    if (Date.now() >= deadline) throw lockedError(path, timeoutMs);
    // Jitter keeps many waiters from waking in step.
    await new Promise((r) => setTimeout(r, Math.min(delay + Math.random() * delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 50);
  }
}
