import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The unified log's files: pino-roll writes `logos.1.jsonl`, `logos.2.jsonl`, … in the
 * log directory and starts the next number when one reaches the size limit, removing
 * the oldest beyond a count. Several processes (commands, the daemon) append to the
 * highest number; readers take the files in number order.
 */

export const LOG_BASE = 'logos';
export const LOG_EXTENSION = '.jsonl';
/** A log file's name; its group is the number. */
export const LOG_NAME = /^logos\.([1-9][0-9]{0,8})\.jsonl$/;

export interface LogFile {
  n: number;
  path: string;
}

function fromNames(dir: string, names: string[]): LogFile[] {
  const out: LogFile[] = [];
  for (const name of names) {
    const m = LOG_NAME.exec(name);
    if (m) out.push({ n: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => a.n - b.n);
}

function missing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The log files, oldest (lowest number) first; none when the directory does not exist. */
export async function logFiles(dir: string): Promise<LogFile[]> {
  try {
    return fromNames(dir, await readdir(dir));
  } catch (err) {
    if (missing(err)) return [];
    throw err;
  }
}

export function logFilesSync(dir: string): LogFile[] {
  try {
    return fromNames(dir, readdirSync(dir));
  } catch (err) {
    if (missing(err)) return [];
    throw err;
  }
}

/** The file being written now (the highest number), or where the first will be. */
export function currentLogFile(dir: string): string {
  let files: LogFile[] = [];
  try {
    files = logFilesSync(dir);
  } catch {
    // unreadable directory: name the first file
  }
  return files.at(-1)?.path ?? join(dir, `${LOG_BASE}.1${LOG_EXTENSION}`);
}

/** The number in a log file's name (0 when it is not one). */
export function logFileNumber(path: string): number {
  const m = LOG_NAME.exec(path.slice(path.lastIndexOf('/') + 1));
  return m ? Number(m[1]) : 0;
}
