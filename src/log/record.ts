import { LOG_LEVELS, type LogLevel } from './logger.js';

/**
 * One line of the unified log as a reader sees it: a JSON record, or a line
 * that is not JSON (a crash trace, a half-written line), kept as text.
 */

export type LogRecord = Record<string, unknown>;
export type LogEntry = { kind: 'record'; record: LogRecord; line: string } | { kind: 'text'; line: string };

export { LOG_LEVELS, type LogLevel };

/** pino's numeric levels, in case a record was written without the label formatter. */
const NUMERIC_LEVELS: Record<number, LogLevel> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function parseLine(line: string): LogEntry {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trimStart().startsWith('{')) {
    try {
      const v: unknown = JSON.parse(text);
      if (v && typeof v === 'object' && !Array.isArray(v)) return { kind: 'record', record: v as LogRecord, line: text };
    } catch {
      // not JSON after all: shown as text
    }
  }
  return { kind: 'text', line: text };
}

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

/** The record's level as a name, or undefined when it has none we know. */
export function levelOf(record: LogRecord): LogLevel | undefined {
  const v = record.level;
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    return isLogLevel(l) ? l : undefined;
  }
  if (typeof v === 'number') return NUMERIC_LEVELS[v];
  return undefined;
}

export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/** The record's time in ms since the epoch, or undefined when `ts` is missing or unparseable. */
export function timeOf(record: LogRecord): number | undefined {
  const v = record.ts;
  const t = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** A field as the string filters compare against: missing → '', objects as JSON. */
export function fieldText(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}
