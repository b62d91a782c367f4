/**
 * The event stream the daemon serves (WebSocket /v1/events, SSE per run) and the
 * TUI follows. One envelope for every event; a bounded ring buffer to replay from
 * (`?since=SEQ`); one bounded queue per subscriber that drops its oldest events
 * when the subscriber falls behind, and says how many it dropped. Publishing never
 * waits for a subscriber: a slow or dead client can not slow the others or the
 * dispatch path. Pure: no IO, no timers.
 */

export const EVENT_VERSION = 1;

export interface EventEntity {
  kind: 'run' | 'sandbox' | 'route' | 'provider' | 'gateway' | 'log' | 'daemon';
  id: string;
}

export interface LogosEvent<P = unknown> {
  v: 1;
  seq: number;
  /** `<domain>.<action>`: run.started, run.frame, run.tool, run.completed, run.failed, sandbox.phase_changed, … */
  type: string;
  ts: string;
  source: string;
  entity: EventEntity;
  payload: P;
}

/** `run.*`, `sandbox.*,run.completed`: which event types a subscriber wants (empty: all). */
export function typeMatcher(patterns: string[]): (type: string) => boolean {
  const list = patterns.map((p) => p.trim()).filter(Boolean);
  if (list.length === 0) return () => true;
  return (type) => list.some((p) => (p === '*' ? true : p.endsWith('.*') ? type.startsWith(p.slice(0, -1)) : type === p));
}

export interface SubscribeOptions {
  /** Event type patterns (see typeMatcher). */
  types?: string[];
  /** Replay events with seq > since from the ring buffer first. */
  since?: number;
  /** Most events held for this subscriber before the oldest are dropped. */
  queueLimit?: number;
  /** Called (synchronously, from publish) when the queue goes from empty to non-empty. */
  onReady?: () => void;
}

export interface Subscription {
  /** Events waiting, oldest first; takes them out of the queue. */
  drain(max?: number): LogosEvent[];
  /** Events dropped for this subscriber since the last call (and resets the count). */
  takeDropped(): number;
  /** Events asked for with `since` that had already left the ring buffer (0 when the replay was complete). */
  readonly missedBeforeReplay: number;
  readonly pending: number;
  close(): void;
}

class Sub implements Subscription {
  private queue: LogosEvent[] = [];
  private head = 0;
  private dropped = 0;
  closed = false;
  missedBeforeReplay = 0;

  constructor(
    readonly matches: (type: string) => boolean,
    private readonly limit: number,
    private readonly onReady: (() => void) | undefined,
    private readonly unsubscribe: (s: Sub) => void,
  ) {}

  get pending(): number {
    return this.queue.length - this.head;
  }

  push(ev: LogosEvent): void {
    if (this.closed || !this.matches(ev.type)) return;
    const wasEmpty = this.pending === 0;
    this.queue.push(ev);
    if (this.pending > this.limit) {
      this.head += 1;
      this.dropped += 1;
    }
    // Compact now and then so a long-lived queue does not keep what it already dropped.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (wasEmpty) this.onReady?.();
  }

  drain(max = Infinity): LogosEvent[] {
    const n = Math.min(max, this.pending);
    const out = this.queue.slice(this.head, this.head + n);
    this.head += n;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return out;
  }

  takeDropped(): number {
    const d = this.dropped;
    this.dropped = 0;
    return d;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.unsubscribe(this);
  }
}

export class EventBus {
  private seq = 0;
  private readonly ring: LogosEvent[] = [];
  private ringStart = 0;
  private readonly subs = new Set<Sub>();

  constructor(
    private readonly opts: { ringSize?: number; now?: () => Date } = {},
  ) {}

  get lastSeq(): number {
    return this.seq;
  }

  get subscribers(): number {
    return this.subs.size;
  }

  publish<P>(type: string, entity: EventEntity, payload: P, source = 'daemon'): LogosEvent<P> {
    this.seq += 1;
    const ev: LogosEvent<P> = { v: EVENT_VERSION, seq: this.seq, type, ts: (this.opts.now?.() ?? new Date()).toISOString(), source, entity, payload };
    const size = this.opts.ringSize ?? 10_000;
    this.ring.push(ev as LogosEvent);
    if (this.ring.length - this.ringStart > size) this.ringStart += 1;
    if (this.ringStart > 4096 && this.ringStart * 2 > this.ring.length) {
      this.ring.splice(0, this.ringStart);
      this.ringStart = 0;
    }
    for (const s of this.subs) s.push(ev as LogosEvent);
    return ev;
  }

  /** Events still in the ring buffer with seq > since that match. */
  replay(since: number, matches: (type: string) => boolean = () => true): { events: LogosEvent[]; missed: number } {
    const oldest = this.ring[this.ringStart]?.seq ?? this.seq + 1;
    const missed = Math.max(0, oldest - since - 1);
    const events: LogosEvent[] = [];
    for (let i = this.ringStart; i < this.ring.length; i++) {
      const ev = this.ring[i] as LogosEvent;
      if (ev.seq > since && matches(ev.type)) events.push(ev);
    }
    return { events, missed: since >= this.seq ? 0 : missed };
  }

  subscribe(opts: SubscribeOptions = {}): Subscription {
    const matches = typeMatcher(opts.types ?? []);
    const sub = new Sub(matches, opts.queueLimit ?? 1000, opts.onReady, (s) => this.subs.delete(s));
    if (opts.since !== undefined) {
      const { events, missed } = this.replay(opts.since, matches);
      sub.missedBeforeReplay = missed;
      for (const ev of events) sub.push(ev);
    }
    this.subs.add(sub);
    return sub;
  }
}
