import { LogosError } from '../core/errors.js';
import { parseDuration } from '../core/names.js';
import { fieldText, isLogLevel, levelOf, levelRank, LOG_LEVELS, timeOf, type LogEntry, type LogLevel } from './record.js';

/** Which log lines `logos debug tail` shows: pure parsing of its flags and matching. */

export interface FieldFilter {
  key: string;
  op: '=' | '!=';
  value: string;
}

export interface Selection {
  filters: FieldFilter[];
  /** Records at or above this level. */
  minLevel?: LogLevel | undefined;
  /** Records at or after this time (ms since the epoch). */
  since?: number | undefined;
}

const LEVEL_HINT = `Use one of ${LOG_LEVELS.join(', ')}.`;

export function parseLevel(text: string, flag = '--level'): LogLevel {
  const l = text.trim().toLowerCase();
  if (!isLogLevel(l)) throw new LogosError('INVALID_ARGUMENT', `Unknown log level '${text}' in ${flag}.`, { hint: LEVEL_HINT });
  return l;
}

/** `key=value` or `key!=value`; the value may be empty and may itself contain '='. */
export function parseFilter(text: string): FieldFilter {
  const m = /^([^=!\s]+)(!=|=)(.*)$/s.exec(text);
  if (!m) {
    throw new LogosError('INVALID_ARGUMENT', `Invalid --filter '${text}'.`, {
      hint: 'Use key=value or key!=value, e.g. --filter sandbox=work --filter level!=debug (repeat --filter to require several).',
    });
  }
  const key = m[1] as string;
  const op = m[2] as '=' | '!=';
  const value = key === 'level' ? parseLevel(m[3] as string, `--filter ${text}`) : (m[3] as string);
  return { key, op, value };
}

/** 5s, 30m, 2h, 1d (that long ago) or an ISO time such as 2025-01-31T14:00:00Z. */
export function parseSince(text: string, now: number = Date.now()): number {
  const bad = (): LogosError =>
    new LogosError('INVALID_ARGUMENT', `Invalid --since '${text}'.`, {
      hint: 'Use a time ago (30s, 5m, 2h, 1d) or an ISO time (2025-01-31T14:00:00Z; without a zone it is local time).',
    });
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isFinite(ms)) throw bad();
    return ms;
  }
  try {
    return now - parseDuration(t, { max: 100 * 365 * 86_400_000 });
  } catch {
    throw bad();
  }
}

/** --lines: a whole number ≥ 0 (0 with --follow shows only new records). */
export function parseLineCount(text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new LogosError('INVALID_ARGUMENT', `--lines must be a whole number, got '${text}'.`, { hint: 'e.g. --lines 200 (or -n 0 -f for new records only).' });
  }
  return n;
}

function fieldMatches(entry: Extract<LogEntry, { kind: 'record' }>, f: FieldFilter): boolean {
  const actual = f.key === 'level' ? (levelOf(entry.record) ?? fieldText(entry.record.level)) : fieldText(entry.record[f.key]);
  return (actual === f.value) === (f.op === '=');
}

/**
 * Whether a line is shown. A line that is not JSON has no fields, so any --filter or
 * --level hides it; --since only hides records whose own `ts` is older.
 */
export function matches(entry: LogEntry, sel: Selection): boolean {
  if (entry.kind === 'text') return sel.filters.length === 0 && sel.minLevel === undefined;
  if (sel.minLevel !== undefined) {
    const l = levelOf(entry.record);
    if (l === undefined || levelRank(l) < levelRank(sel.minLevel)) return false;
  }
  if (sel.since !== undefined) {
    const t = timeOf(entry.record);
    if (t !== undefined && t < sel.since) return false;
  }
  return sel.filters.every((f) => fieldMatches(entry, f));
}
