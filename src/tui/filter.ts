import type { LogRecordView } from './model.js';

/**
 * The `/` filter of a list. Words must all appear (any case) in the row's text;
 * in the log, `level:warn` keeps warnings and worse, `source:daemon` and
 * `sandbox:work` keep records from that source or sandbox. Pure.
 */

export interface ParsedFilter {
  words: string[];
  /** Minimum level rank (log only). */
  level?: number;
  source?: string;
  sandbox?: string;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, warning: 40, error: 50, fatal: 60 };

export function levelRank(level: string): number {
  return LEVELS[level.toLowerCase()] ?? 30;
}

export function parseFilter(query: string): ParsedFilter {
  const f: ParsedFilter = { words: [] };
  for (const raw of query.toLowerCase().split(/\s+/)) {
    if (!raw) continue;
    const m = /^(level|source|sandbox):(.+)$/.exec(raw);
    if (m && m[1] === 'level' && m[2] !== undefined && Object.hasOwn(LEVELS, m[2])) f.level = LEVELS[m[2]];
    else if (m && m[1] === 'source') f.source = m[2];
    else if (m && m[1] === 'sandbox') f.sandbox = m[2];
    else f.words.push(raw);
  }
  return f;
}

export function matchesWords(text: string, words: readonly string[]): boolean {
  if (words.length === 0) return true;
  const t = text.toLowerCase();
  return words.every((w) => t.includes(w));
}

/** Rows whose text (as `textOf` gives it) holds every word of the query. Returns `rows` itself when the query is empty. */
export function filterRows<T>(rows: readonly T[], query: string, textOf: (row: T) => string): readonly T[] {
  const f = parseFilter(query);
  if (f.words.length === 0) return rows;
  return rows.filter((r) => matchesWords(textOf(r), f.words));
}

function field(r: LogRecordView, k: string): string {
  const v = r.fields[k];
  return typeof v === 'string' ? v : '';
}

export function logMatches(r: LogRecordView, f: ParsedFilter): boolean {
  if (f.level !== undefined && levelRank(r.level) < f.level) return false;
  if (f.source !== undefined && !r.source.toLowerCase().includes(f.source)) return false;
  if (f.sandbox !== undefined && field(r, 'sandbox').toLowerCase() !== f.sandbox) return false;
  if (f.words.length === 0) return true;
  return matchesWords(`${r.level} ${r.source} ${r.msg} ${field(r, 'sandbox')} ${field(r, 'task_id')} ${field(r, 'route')}`, f.words);
}

export function filterLog<T extends LogRecordView>(records: readonly T[], query: string): readonly T[] {
  const f = parseFilter(query);
  if (f.words.length === 0 && f.level === undefined && f.source === undefined && f.sandbox === undefined) return records;
  return records.filter((r) => logMatches(r, f));
}
