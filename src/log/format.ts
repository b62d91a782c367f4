import { LogosError } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { levelOf, timeOf, type LogEntry, type LogLevel, type LogRecord } from './record.js';

/**
 * The human form of a log line: `HH:MM:SS.mmm LEVEL source msg key=value…`, correlation
 * fields first. Pure: returns text, prints nothing. Secrets are masked again here, and
 * control characters escaped, so a log line can neither leak a key nor drive the terminal.
 */

export type ColorMode = 'auto' | 'always' | 'never';

export function parseColorMode(text: string): ColorMode {
  if (text === 'auto' || text === 'always' || text === 'never') return text;
  throw new LogosError('INVALID_ARGUMENT', `Invalid --color '${text}'.`, { hint: 'Use auto (colour on a terminal unless NO_COLOR is set), always or never.' });
}

export interface FormatOptions {
  color: boolean;
  /** Show times in UTC instead of local time (tests). */
  utc?: boolean;
  /** Longest value shown for one key before it is cut with '…'. */
  maxValue?: number;
}

export const CORRELATION_FIELDS = ['task_id', 'sandbox', 'route', 'gateway'] as const;
/** Shown in their own columns, or (pid) on every line and only noise here; --raw/--json keep them. */
const HEADER_FIELDS = new Set(['ts', 'level', 'source', 'msg', 'pid']);
const DEFAULT_MAX_VALUE = 160;

const LEVEL_COLOR: Record<LogLevel, [string, string]> = {
  trace: ['\u001b[90m', '\u001b[39m'],
  debug: ['\u001b[36m', '\u001b[39m'],
  info: ['\u001b[32m', '\u001b[39m'],
  warn: ['\u001b[33m', '\u001b[39m'],
  error: ['\u001b[31m', '\u001b[39m'],
  fatal: ['\u001b[1;31m', '\u001b[22;39m'],
};

/** Escape control characters (ESC included) so the text stays one inert line. */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function valueText(v: unknown, max: number): string {
  if (typeof v === 'string') {
    const s = cut(v, max);
    return s === '' || /[\s"=\u0000-\u001f\u007f-\u009f]/.test(s) ? JSON.stringify(s) : s;
  }
  if (v === null || typeof v !== 'object') return String(v);
  return escapeControls(cut(JSON.stringify(v), max));
}

function pad2(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function clock(record: LogRecord, utc: boolean): string {
  const t = timeOf(record);
  if (t === undefined) return '--:--:--.---';
  const d = new Date(t);
  return utc
    ? `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${pad2(d.getUTCMilliseconds(), 3)}`
    : `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad2(d.getMilliseconds(), 3)}`;
}

export function formatEntry(entry: LogEntry, opts: FormatOptions): string {
  if (entry.kind === 'text') return redactText(escapeControls(entry.line));
  const r = entry.record;
  const max = opts.maxValue ?? DEFAULT_MAX_VALUE;
  const level = levelOf(r);
  const label = (level ?? (typeof r.level === 'string' || typeof r.level === 'number' ? escapeControls(String(r.level)) : '-')).toUpperCase();
  const keys = [...CORRELATION_FIELDS.filter((k) => k in r), ...Object.keys(r).filter((k) => !HEADER_FIELDS.has(k) && !(CORRELATION_FIELDS as readonly string[]).includes(k))];
  const rest = [
    escapeControls(typeof r.source === 'string' ? r.source : '-'),
    escapeControls(typeof r.msg === 'string' ? r.msg : r.msg === undefined ? '' : JSON.stringify(r.msg)),
    ...keys.map((k) => `${escapeControls(k)}=${valueText(r[k], max)}`),
  ]
    .filter((s) => s !== '')
    .join(' ');
  const [on, off] = opts.color && level ? LEVEL_COLOR[level] : ['', ''];
  return `${clock(r, opts.utc ?? false)} ${on}${label}${off}${' '.repeat(Math.max(0, 5 - label.length))} ${redactText(rest)}`;
}
