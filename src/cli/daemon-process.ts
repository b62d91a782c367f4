import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../adapters/assets.js';
import { LogosError } from '../core/errors.js';
import { findDaemon, type DaemonClient } from '../daemon/client.js';

/**
 * Starting the daemon in the background: `logos daemon start|restart` and the
 * dashboard's "Start it?" all spawn `logos daemon run` detached and wait until it
 * answers /v1/health.
 */

const STARTUP_WAIT_MS = 15_000;

export interface DaemonPaths {
  daemonPidFile: string;
  daemonTokenFile: string;
}

function bin(): string {
  return join(packageRoot(), 'bin', 'logos.js');
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** What the daemon said on stderr when it could not start (its error and hint, as `daemon run` prints them). */
function startupError(errFile: string): { message?: string; hint?: string } {
  let text = '';
  try {
    text = readFileSync(errFile, 'utf8').slice(-4096);
  } catch {
    return {};
  }
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  const message = /^Error: (.+)$/m.exec(plain)?.[1];
  const hint = /^Hint: (.+)$/m.exec(plain)?.[1];
  return { ...(message ? { message } : {}), ...(hint ? { hint } : {}) };
}

async function waitHealthy(paths: DaemonPaths, child: { exitCode: number | null }, errFile: string): Promise<DaemonClient> {
  const deadline = Date.now() + STARTUP_WAIT_MS;
  for (;;) {
    const client = findDaemon(paths);
    if (client) {
      const ok = await client.get<{ ok: boolean }>('/v1/health', { timeoutMs: 1000 }).catch(() => undefined);
      if (ok?.ok) return client;
    }
    if (child.exitCode !== null) {
      const said = startupError(errFile);
      throw new LogosError('DAEMON_UNAVAILABLE', `The daemon exited at start-up (code ${child.exitCode})${said.message ? `: ${said.message}` : '.'}`, {
        hint: said.hint ?? 'See why with `logos debug tail --filter source=daemon`, or run it in the foreground: `logos daemon run`.',
      });
    }
    if (Date.now() > deadline) throw new LogosError('DAEMON_UNAVAILABLE', 'The daemon did not answer within 15 s of starting.', { hint: 'See `logos debug tail --filter source=daemon`.' });
    await sleep(100);
  }
}

/** Spawn `logos daemon run` (detached, no terminal) and resolve with its client once it answers. */
export async function startDaemonProcess(paths: DaemonPaths, opts: { port?: number } = {}): Promise<DaemonClient> {
  // Its stderr goes to a file beside the pid file: if it cannot start, what it said is the error shown here.
  const errFile = join(dirname(paths.daemonPidFile), 'daemon.stderr');
  mkdirSync(dirname(errFile), { recursive: true, mode: 0o700 });
  const errFd = openSync(errFile, 'w', 0o600);
  let child;
  try {
    child = spawn(process.execPath, [bin(), 'daemon', 'run', ...(opts.port !== undefined ? ['--port', String(opts.port)] : [])], { detached: true, stdio: ['ignore', 'ignore', errFd], env: process.env });
  } finally {
    closeSync(errFd);
  }
  child.unref();
  return waitHealthy(paths, child, errFile);
}
