import type { FrameView, LogRecordView, RunView, Snapshot, Update } from './model.js';
import { EMPTY_TRANSCRIPT, foldFrames, type Transcript } from './transcript.js';

/**
 * What the dashboard knows, folded from the data source's updates. Pure: the store
 * (store.ts) batches updates and calls `applyUpdates` at most ~10 times a second.
 * Objects that did not change keep their identity (a snapshot polled every second
 * re-creates every row), so memoised rows are not drawn again.
 */

export interface LogEntry extends LogRecordView {
  /** Position in the stream of records this dashboard received; a stable row key. */
  seq: number;
}

export interface WatchedRun {
  id: string;
  transcript: Transcript;
  /** The run's frames so far are being fetched. */
  loading: boolean;
  /** Frames that arrived while fetching, folded in after the fetched ones. */
  pending: FrameView[];
}

export interface DataState {
  snapshot: Snapshot | undefined;
  /** Newest first. */
  runs: readonly RunView[];
  /** At most `maxLogs`, oldest first. */
  logs: readonly LogEntry[];
  /** Records received in all (kept or not). */
  logSeen: number;
  notice: { level: 'info' | 'warn' | 'error'; text: string } | undefined;
  watched: WatchedRun | undefined;
  /** The clock when this state was made (durations of running runs, uptime). */
  now: number;
}

export const INITIAL_STATE: DataState = { snapshot: undefined, runs: [], logs: [], logSeen: 0, notice: undefined, watched: undefined, now: 0 };

function sameValue(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth > 2) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i], depth + 1));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1));
}

/** `next`, with the objects of `prev` that are equal to their new version in their place (and `prev` itself if nothing changed). */
export function reuse<T extends object>(prev: readonly T[], next: readonly T[], keyOf: (x: T) => string): readonly T[] {
  const old = new Map(prev.map((x) => [keyOf(x), x]));
  let changed = prev.length !== next.length;
  const out = next.map((x, i) => {
    const o = old.get(keyOf(x));
    const keep = o !== undefined && sameValue(o, x, 0) ? o : x;
    if (keep !== prev[i]) changed = true;
    return keep;
  });
  return changed ? out : prev;
}

function newestFirst(a: RunView, b: RunView): number {
  return a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : -1;
}

function upsertRun(runs: RunView[], run: RunView): void {
  const i = runs.findIndex((r) => r.id === run.id);
  if (i !== -1) {
    if (!sameValue(runs[i], run, 0)) runs[i] = run;
    return;
  }
  // Usually the newest: found at the front.
  let at = 0;
  while (at < runs.length && newestFirst(runs[at] as RunView, run) < 0) at += 1;
  runs.splice(at, 0, run);
}

export interface ApplyOptions {
  maxLogs: number;
  now: number;
}

export function applyUpdates(state: DataState, updates: readonly Update[], opts: ApplyOptions): DataState {
  let snapshot = state.snapshot;
  let runs: RunView[] | undefined;
  const newLogs: LogRecordView[] = [];
  let notice = state.notice;
  let watched = state.watched;
  const frames: FrameView[] = [];
  for (const u of updates) {
    switch (u.kind) {
      case 'snapshot': {
        const s = u.snapshot;
        const prev = snapshot;
        snapshot = {
          ...s,
          gateways: reuse(prev?.gateways ?? [], s.gateways, (g) => g.name) as Snapshot['gateways'],
          routes: reuse(prev?.routes ?? [], s.routes, (r) => r.name) as Snapshot['routes'],
          sandboxes: reuse(prev?.sandboxes ?? [], s.sandboxes, (x) => x.name) as Snapshot['sandboxes'],
          runs: s.runs,
        };
        if (prev && sameValue(prev.daemon, s.daemon, 0)) snapshot.daemon = prev.daemon;
        runs = reuse(runs ?? state.runs, [...s.runs].sort(newestFirst), (r) => r.id).slice();
        break;
      }
      case 'run':
        runs ??= state.runs.slice();
        upsertRun(runs, u.run);
        break;
      case 'log':
        for (const r of u.records) newLogs.push(r);
        break;
      case 'notice':
        notice = { level: u.level, text: u.text };
        break;
      case 'frame':
        if (watched && u.runId === watched.id) frames.push(u.frame);
        break;
    }
  }
  if (frames.length > 0 && watched) {
    watched = watched.loading ? { ...watched, pending: [...watched.pending, ...frames] } : { ...watched, transcript: foldFrames(watched.transcript, frames) };
  }
  let logs = state.logs;
  let logSeen = state.logSeen;
  if (newLogs.length > 0) {
    const add = newLogs.length > opts.maxLogs ? newLogs.slice(newLogs.length - opts.maxLogs) : newLogs;
    const first = logSeen + (newLogs.length - add.length);
    const entries = add.map((r, i) => ({ ...r, seq: first + i }));
    const keep = Math.max(0, opts.maxLogs - entries.length);
    logs = [...(keep > 0 ? logs.slice(Math.max(0, logs.length - keep)) : []), ...entries];
    logSeen += newLogs.length;
  }
  return {
    snapshot,
    runs: runs === undefined ? state.runs : reuse(state.runs, runs, (r) => r.id),
    logs,
    logSeen,
    notice,
    watched,
    now: opts.now,
  };
}

/** The log records from before the dashboard started, put before the ones received since (duplicates dropped). */
export function prependLogs(state: DataState, older: readonly LogRecordView[], maxLogs: number): DataState {
  if (older.length === 0) return state;
  const key = (r: LogRecordView): string => `${r.ts}\u0000${r.source}\u0000${r.msg}`;
  const seen = new Set(state.logs.map(key));
  const fresh = older.filter((r) => !seen.has(key(r)));
  const room = Math.max(0, maxLogs - state.logs.length);
  const add = fresh.slice(Math.max(0, fresh.length - room));
  if (add.length === 0) return state;
  // Negative positions: these came before everything received live.
  const entries = add.map((r, i) => ({ ...r, seq: -add.length + i }));
  return { ...state, logs: [...entries, ...state.logs] };
}

export function startWatching(state: DataState, id: string): DataState {
  return { ...state, watched: { id, transcript: EMPTY_TRANSCRIPT, loading: true, pending: [] } };
}

/** The fetched frames of the watched run, then the frames that arrived meanwhile. */
export function framesLoaded(state: DataState, id: string, frames: readonly FrameView[]): DataState {
  const w = state.watched;
  if (!w || w.id !== id || !w.loading) return state;
  const transcript = foldFrames(foldFrames(EMPTY_TRANSCRIPT, frames), w.pending);
  return { ...state, watched: { id, transcript, loading: false, pending: [] } };
}
