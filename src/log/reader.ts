import { open, type FileHandle } from 'node:fs/promises';
import { matches, type Selection } from './filter.js';
import { logFiles } from './files.js';
import { parseLine, timeOf, type LogEntry } from './record.js';

/**
 * Reading the unified log from its end: the last N matching lines of the newest file,
 * continuing into older ones when it has too few. Returns data; printing is the CLI's job.
 */

export interface OpenLog {
  fh: FileHandle;
  dev: number;
  ino: number;
  size: number;
}

const CHUNK = 64 * 1024;
/**
 * Several processes append to the log, so records are only nearly in time order.
 * Scanning backwards stops this long before --since, not at the first older record.
 */
const SINCE_SLACK_MS = 60_000;

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Open a log file for reading; undefined when it does not exist. */
export async function openLog(file: string): Promise<OpenLog | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  try {
    const st = await fh.stat();
    return { fh, dev: st.dev, ino: st.ino, size: st.size };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Fill `buf` from `pos` (reads may come back short); returns the bytes read. */
export async function readAt(fh: FileHandle, buf: Buffer, pos: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Lines of the file before `end`, newest first. Blank lines are skipped. */
export async function* linesBackward(fh: FileHandle, end: number, chunkSize = CHUNK): AsyncGenerator<string> {
  let pos = end;
  let carry = Buffer.alloc(0);
  while (pos > 0) {
    const n = Math.min(chunkSize, pos);
    pos -= n;
    const buf = Buffer.alloc(n);
    const got = await readAt(fh, buf, pos);
    const data = Buffer.concat([buf.subarray(0, got), carry]);
    let stop = data.length;
    for (let i = data.lastIndexOf(0x0a, stop - 1); i >= 0; i = i > 0 ? data.lastIndexOf(0x0a, i - 1) : -1) {
      const line = data.toString('utf8', i + 1, stop);
      if (line.trim() !== '') yield line;
      stop = i;
    }
    carry = Buffer.from(data.subarray(0, stop));
  }
  const first = carry.toString('utf8');
  if (first.trim() !== '') yield first;
}

/** The offset just after the last newline before `end`: where the complete lines stop. */
export async function completeLinesEnd(fh: FileHandle, end: number, chunkSize = CHUNK): Promise<number> {
  let pos = end;
  while (pos > 0) {
    const n = Math.min(chunkSize, pos);
    pos -= n;
    const buf = Buffer.alloc(n);
    const got = await readAt(fh, buf, pos);
    const i = buf.subarray(0, got).lastIndexOf(0x0a);
    if (i >= 0) return pos + i + 1;
  }
  return 0;
}

/** Where reading stopped in each log file: a follower goes on from there (log/follow.ts). */
export interface LogMark {
  files: { path: string; dev: number; ino: number; end: number }[];
}

export interface RecentOptions {
  /** How many matching lines at most (Infinity: all). */
  limit: number;
  selection: Selection;
  /** Stop each file at its last complete line (a follower takes the rest). */
  completeLines?: boolean;
}

/** The last `limit` matching lines of the log in `dir`, oldest first. */
export async function readRecentLog(dir: string, limit: number, selection: Selection): Promise<LogEntry[]> {
  return (await readRecent(dir, { limit, selection })).entries;
}

/** Where the log ends now (for a follower that shows only what comes next). */
export async function markLogEnd(dir: string): Promise<LogMark> {
  return (await readRecent(dir, { limit: 0, selection: { filters: [] }, completeLines: true })).mark;
}

/** The last `limit` matching lines, newest file first and back into older ones, and where each file was read to. */
export async function readRecent(dir: string, opts: RecentOptions): Promise<{ entries: LogEntry[]; mark: LogMark }> {
  const newestFirst: LogEntry[] = [];
  const mark: LogMark = { files: [] };
  const opened: { log: OpenLog; end: number }[] = [];
  try {
    for (const f of await logFiles(dir)) {
      const log = await openLog(f.path);
      if (!log) continue; // removed since the listing
      opened.push({ log, end: opts.completeLines ? await completeLinesEnd(log.fh, log.size) : log.size });
      mark.files.push({ path: f.path, dev: log.dev, ino: log.ino, end: opened.at(-1)!.end });
    }
    if (opts.limit <= 0) return { entries: [], mark };
    const stopBefore = opts.selection.since === undefined ? undefined : opts.selection.since - SINCE_SLACK_MS;

    /** Scan one file; false when the scan should not go on to older files. */
    const scan = async (fh: FileHandle, end: number): Promise<boolean> => {
      for await (const line of linesBackward(fh, end)) {
        const entry = parseLine(line);
        if (stopBefore !== undefined && entry.kind === 'record') {
          const t = timeOf(entry.record);
          if (t !== undefined && t < stopBefore) return false;
        }
        if (!matches(entry, opts.selection)) continue;
        newestFirst.push(entry);
        if (newestFirst.length >= opts.limit) return false;
      }
      return true;
    };
    for (let i = opened.length - 1; i >= 0; i--) {
      const o = opened[i]!;
      if (!(await scan(o.log.fh, o.end))) break;
    }
    return { entries: newestFirst.reverse(), mark };
  } finally {
    await Promise.all(opened.map((o) => o.log.fh.close()));
  }
}
