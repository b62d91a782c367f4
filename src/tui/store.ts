import type { DataSource, Update } from './model.js';
import { applyUpdates, framesLoaded, INITIAL_STATE, prependLogs, startWatching, type DataState } from './state.js';

/**
 * Between the data source and React: updates are queued and folded in at most once
 * per `flushMs` (100 ms: ≤10 renders a second however fast the source pushes — a log
 * at 1,000 records/s is 10 renders of ~100 records, not 1,000 renders), and the log
 * keeps at most `maxLogs` records. Components read it with useSyncExternalStore.
 */

export interface StoreOptions {
  maxLogs?: number;
  flushMs?: number;
  /** How often the clock in the state moves when nothing else happens (durations, uptime). */
  tickMs?: number;
  /** Log records to ask for at start. */
  recentLogs?: number;
  clock?: () => number;
}

export const DEFAULT_MAX_LOGS = 2000;

export class DashboardStore {
  readonly maxLogs: number;
  private readonly flushMs: number;
  private readonly tickMs: number;
  private readonly recent: number;
  private readonly clock: () => number;
  private state: DataState;
  private queue: Update[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  /** How many times the state changed (a measure of render pressure). */
  flushes = 0;

  constructor(
    private readonly source: DataSource,
    opts: StoreOptions = {},
  ) {
    this.maxLogs = opts.maxLogs ?? DEFAULT_MAX_LOGS;
    this.flushMs = opts.flushMs ?? 100;
    this.tickMs = opts.tickMs ?? 1000;
    this.recent = opts.recentLogs ?? 500;
    this.clock = opts.clock ?? Date.now;
    this.state = { ...INITIAL_STATE, now: this.clock() };
  }

  start(): void {
    if (this.unsubscribe || this.stopped) return;
    this.unsubscribe = this.source.subscribe((u) => this.push(u));
    this.source.recentLogs(this.recent).then(
      (records) => this.set(prependLogs(this.state, records, this.maxLogs)),
      (err: unknown) => this.push({ kind: 'notice', level: 'warn', text: `Could not read the log: ${err instanceof Error ? err.message : String(err)}` }),
    );
    if (this.tickMs > 0) {
      this.ticker = setInterval(() => this.set({ ...this.state, now: this.clock() }), this.tickMs);
      this.ticker.unref?.();
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    this.timer = undefined;
    this.ticker = undefined;
    this.listeners.clear();
  }

  getState = (): DataState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Take an update from the source; it shows with the next flush. */
  push(u: Update): void {
    if (this.stopped) return;
    this.queue.push(u);
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.flushMs - this.clock());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Fold in what is queued now (the timer does this; tests may too). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const updates = this.queue;
    this.queue = [];
    this.lastFlush = this.clock();
    this.set(applyUpdates(this.state, updates, { maxLogs: this.maxLogs, now: this.lastFlush }));
  }

  /** Follow one run's frames: those so far from the source, then the live ones. */
  watch(id: string): void {
    if (this.state.watched?.id === id) return;
    this.set(startWatching(this.state, id));
    this.source.runFrames(id).then(
      (frames) => this.set(framesLoaded(this.state, id, frames)),
      (err: unknown) => {
        this.set(framesLoaded(this.state, id, []));
        this.push({ kind: 'notice', level: 'warn', text: `Could not read the frames of ${id}: ${err instanceof Error ? err.message : String(err)}` });
      },
    );
  }

  unwatch(): void {
    if (this.state.watched) this.set({ ...this.state, watched: undefined });
  }

  private set(next: DataState): void {
    if (this.stopped || next === this.state) return;
    this.state = next;
    this.flushes += 1;
    for (const l of this.listeners) l();
  }
}
