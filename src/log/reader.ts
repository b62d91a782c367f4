import { open, type FileHandle } from 'node:fs/promises';
import { matches, type Selection } from './filter.js';
import { parseLine, timeOf, type LogEntry } from './record.js';

/**
 * Reading the unified log from its end: the last N matching lines of logos.jsonl,
 * continuing into the rotated logos.jsonl.1 when the current file has too few.
 * Returns data; printing is the CLI's job.
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

export interface RecentOptions {
  /** How many matching lines at most (Infinity: all). */
  limit: number;
  selection: Selection;
  /** The current log, already open, read up to `end` (the follower goes on from there). */
  current?: { log: OpenLog; end: number } | undefined;
}

/** The last `limit` matching lines of the log at `file` and its rotated `file.1`, oldest first. */
export async function readRecentLog(file: string, limit: number, selection: RecentOptions['selection']): Promise<LogEntry[]> {
  const current = await openLog(file);
  try {
    return await readRecent(file, { limit, selection, current: current && { log: current, end: current.size } });
  } finally {
    await current?.fh.close();
  }
}

/** The last `limit` matching lines of `opts.current` (the open log), then of `file.1`, oldest first. */
export async function readRecent(file: string, opts: RecentOptions): Promise<LogEntry[]> {
  const newestFirst: LogEntry[] = [];
  if (opts.limit <= 0) return newestFirst;
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

  const cur = opts.current;
  if (!cur || (await scan(cur.log.fh, cur.end))) {
    const rotated = await openLog(`${file}.1`);
    if (rotated) {
      try {
        // Rotated between our two opens: .1 is the file we already read.
        const same = cur && rotated.ino === cur.log.ino && rotated.dev === cur.log.dev;
        if (!same) await scan(rotated.fh, rotated.size);
      } finally {
        await rotated.fh.close();
      }
    }
  }
  return newestFirst.reverse();
}
