import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { processStartTicks } from '../adapters/host/proc.js';
import { lazyBuiltin } from '../core/builtins.js';
import { LogosError } from '../core/errors.js';

export { processStartTicks };
import { atomicWrite } from '../store/json-file.js';

/**
 * The daemon's own files: the bearer token (created at first start, 0600 in a
 * 0700 directory, checked on every read) and the pid file, which records the
 * process's start time so a pid reused by another process after a crash is not
 * mistaken for a running daemon.
 */

export function tokenMode(file: string): number | undefined {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
}

/** node:crypto loads when a daemon first makes its token, not with every command that looks for one. */
const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/** The token, created if there is none. A token others can read is refused, never used. */
export function ensureToken(file: string): string {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${crypto().randomBytes(32).toString('base64url')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readToken(file);
}

export function readToken(file: string): string {
  const mode = tokenMode(file);
  if (mode === undefined) {
    throw new LogosError('NOT_FOUND', `There is no daemon token at ${file}.`, { hint: 'Start the daemon once (`logos daemon start`); it creates the token.' });
  }
  if ((mode & 0o077) !== 0) {
    throw new LogosError('PERMISSION_NOT_600', `The daemon token ${file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}).`, {
      hint: `Run \`chmod 600 ${file}\` (or \`logos doctor --fix\`).`,
    });
  }
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw new LogosError('STATE_CORRUPT', `The daemon token ${file} is empty or too short.`, { hint: `Remove ${file}; the next daemon start creates a new one.` });
  return token;
}

export function fixTokenMode(file: string): boolean {
  const mode = tokenMode(file);
  if (mode === undefined || (mode & 0o077) === 0) return false;
  chmodSync(file, 0o600);
  return true;
}

export interface PidRecord {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  start_ticks: number;
  started_at: string;
  host: string;
  port: number;
  version: string;
}

export async function writePidFile(file: string, rec: PidRecord): Promise<void> {
  await atomicWrite(file, `${JSON.stringify(rec, null, 2)}\n`, 0o600, 0o700);
}

export function readPidFile(file: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<PidRecord>;
    if (typeof v.pid === 'number' && typeof v.start_ticks === 'number' && typeof v.port === 'number' && typeof v.host === 'string') return v as PidRecord;
  } catch {
    // damaged: treated as no daemon (the file is rewritten at the next start)
  }
  return undefined;
}

/** The daemon this pid file names, if that very process still runs. */
export function liveDaemon(file: string): PidRecord | undefined {
  const rec = readPidFile(file);
  if (!rec) return undefined;
  const ticks = processStartTicks(rec.pid);
  return ticks !== undefined && ticks === rec.start_ticks ? rec : undefined;
}

export function removePidFile(file: string, pid: number): void {
  const rec = readPidFile(file);
  if (rec && rec.pid !== pid) return; // another daemon's
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}
