import { formatDuration, oneLine } from '../core/render-text.js';
import type { Style } from './run-lines.js';

/** Cell text for the lists. Pure; every value from the data goes through `cell` (no control characters, one line). */

/** One line of data text, at most `max` characters. */
export function cell(v: unknown, max = 200): string {
  if (v === undefined || v === null) return '';
  return oneLine(typeof v === 'string' ? v : String(v), max);
}

/** `12:03:04` of an ISO time (as written, UTC in Logos' records). */
export function clockTime(iso: string): string {
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? (m[1] as string) : cell(iso, 19);
}

export function uptime(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** A run's duration: final, or so far (with `…`) while it runs. */
export function runDuration(r: { status: string; startedAt: string; durationMs?: number }, now: number): string {
  if (r.durationMs !== undefined) return duration(r.durationMs);
  if (r.status !== 'running') return '';
  const start = Date.parse(r.startedAt);
  return Number.isFinite(start) && now >= start ? `${duration(now - start)}…` : '…';
}

/** formatDuration, and hours for long runs (`2h05m`). */
export function duration(ms: number): string {
  return ms >= 3_600_000 ? uptime(ms / 1000) : formatDuration(ms);
}

export function tokens(inT: number | undefined, outT: number | undefined): string {
  if (inT === undefined && outT === undefined) return '';
  return `${inT ?? '-'}/${outT ?? '-'}`;
}

export function statusStyle(status: string): Style | undefined {
  const s = status.toLowerCase();
  if (['ok', 'ready', 'running', 'up', 'active'].includes(s)) return s === 'running' ? 'accent' : 'ok';
  if (['error', 'failed', 'cancelled', 'down', 'unreachable', 'lost'].includes(s)) return 'err';
  if (['pending', 'starting', 'creating', 'unknown', 'stale'].includes(s)) return 'warn';
  return undefined;
}

export function levelStyle(level: string): Style | undefined {
  const l = level.toLowerCase();
  if (l === 'error' || l === 'fatal') return 'err';
  if (l === 'warn' || l === 'warning') return 'warn';
  if (l === 'debug' || l === 'trace') return 'dim';
  return undefined;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
