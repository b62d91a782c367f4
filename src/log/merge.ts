import { matches, type Selection } from './filter.js';
import { parseLine, timeOf, type LogEntry, type LogRecord } from './record.js';

/**
 * `logos debug tail --sandbox NAME`: the unified log's records about one sandbox and
 * the worker log kept inside that sandbox, merged by time. The worker's lines were
 * also relayed into the unified log while its runs lasted (up to a cap per run):
 * those show once, as the host recorded them. Pure.
 */

/** Same line, whether read from the sandbox's file or relayed (the relay nests the worker's own ts under `worker`). */
function keyOf(ts: unknown, msg: unknown): string | undefined {
  // The relay may shorten a long message: the beginning is enough to know the line again.
  return typeof ts === 'string' && typeof msg === 'string' ? `${ts}\u0000${msg.slice(0, 200)}` : undefined;
}

/** A worker log line (the sandbox's file) as a record shaped like the host's: source `sandbox`, the rest under `worker`. */
export function workerLineRecord(line: string, sandbox: string): LogRecord {
  const e = parseLine(line);
  if (e.kind === 'text') return { level: 'info', source: 'sandbox', sandbox, msg: e.line };
  const { ts, level, msg, task_id, ...rest } = e.record;
  const rec: LogRecord = { ts, level: typeof level === 'string' ? level : 'info', source: 'sandbox', sandbox, msg: typeof msg === 'string' ? msg : JSON.stringify(e.record) };
  if (typeof task_id === 'string') rec.task_id = task_id;
  if (Object.keys(rest).length > 0) rec.worker = rest;
  return rec;
}

export function mergeSandboxLog(host: LogEntry[], workerLines: string[], sandbox: string, selection: Selection, limit: number): LogEntry[] {
  const relayed = new Set<string>();
  for (const e of host) {
    if (e.kind !== 'record') continue;
    const w = e.record.worker;
    const k = w && typeof w === 'object' ? keyOf((w as LogRecord).ts, e.record.msg) : undefined;
    if (k) relayed.add(k);
  }
  const fromSandbox: LogEntry[] = [];
  for (const line of workerLines) {
    if (!line.trim()) continue;
    const record = workerLineRecord(line, sandbox);
    const k = keyOf(record.ts, record.msg);
    if (k && relayed.has(k)) continue;
    const entry: LogEntry = { kind: 'record', record, line: JSON.stringify(record) };
    if (matches(entry, selection)) fromSandbox.push(entry);
  }
  // Merge by time; a line without a time keeps its place after the one before it.
  const stamped = (list: LogEntry[], from: number) => {
    let last = -Infinity;
    return list.map((e, i) => {
      const t = e.kind === 'record' ? timeOf(e.record) : undefined;
      if (t !== undefined) last = t;
      return { e, t: last, order: from + i };
    });
  };
  const all = [...stamped(host, 0), ...stamped(fromSandbox, host.length)].sort((a, b) => a.t - b.t || a.order - b.order);
  const out = all.map((x) => x.e);
  return Number.isFinite(limit) ? out.slice(Math.max(0, out.length - limit)) : out;
}
