import type WebSocket from 'ws';
import type { StatusReport } from '../../app/status.js';
import type { DaemonClient } from '../../daemon/client.js';
import type { DataSource, FrameView, LogRecordView, Snapshot, StartRunInput, Update } from '../../tui/model.js';
import { logRecordView, runView, snapshotOf } from './views.js';

/**
 * The dashboard's data from a running daemon: one `GET /v1/status` for the picture,
 * then the live event stream (`WS /v1/events`) for everything that changes. Frames
 * and log records arrive as they are; anything that changes the picture (a phase, a
 * route, a provider, a gateway, a run starting or ending) asks for the snapshot again,
 * at most a few times a second. When the connection drops it reconnects with
 * `?since=<last seq>` and loses nothing the daemon still keeps; when the daemon has
 * gone, the header says so and it keeps trying (a restarted daemon is found again).
 */

/** How the source finds the daemon: called again at each reconnect (a restarted daemon has a new port and token). */
export type ClientLookup = () => DaemonClient | undefined;

export interface DaemonSourceOptions {
  /** Coalesce snapshot refreshes triggered by events (ms). */
  resyncMs?: number;
  /** Snapshot refresh even with no events (uptime, run durations). */
  pollMs?: number;
  /** Reconnect backoff: first and longest wait (ms). */
  retryMs?: number;
  maxRetryMs?: number;
}

interface EventItem {
  type?: unknown;
  seq?: unknown;
  entity?: { kind?: unknown; id?: unknown };
  payload?: unknown;
  last_seq?: unknown;
  count?: unknown;
  reason?: unknown;
}

const RESYNC_TYPES = /^(sandbox|route|provider|gateway|daemon)\./;
const RUN_LIFECYCLE = new Set(['run.started', 'run.completed', 'run.failed']);

const enc = encodeURIComponent;

export class DaemonSource implements DataSource {
  readonly mode = 'daemon' as const;
  private client: DaemonClient | undefined;
  private readonly opts: Required<DaemonSourceOptions>;

  constructor(
    private readonly lookup: ClientLookup,
    opts: DaemonSourceOptions = {},
  ) {
    this.opts = { resyncMs: 200, pollMs: 5000, retryMs: 250, maxRetryMs: 5000, ...opts };
    this.client = lookup();
  }

  private current(): DaemonClient {
    // Looked up at each action: a daemon that went away or restarted is noticed here, not at the next event.
    const c = this.lookup();
    if (c) this.client = c;
    if (!c) throw Object.assign(new Error('The daemon is not running.'), { code: 'DAEMON_NOT_RUNNING', hint: 'Start it with `logos daemon start`, or quit and run `logos dashboard --no-daemon`.' });
    return c;
  }

  subscribe(onUpdate: (u: Update) => void): () => void {
    let stopped = false;
    let ws: WebSocket | undefined;
    let lastSeq: number | undefined;
    let wait = this.opts.retryMs;
    let connected = false;
    let resyncTimer: NodeJS.Timeout | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let syncing = false;
    let syncAgain = false;
    let last: Snapshot | undefined;

    const emit = (u: Update): void => {
      if (!stopped) onUpdate(u);
    };

    const sync = async (): Promise<void> => {
      if (syncing) {
        syncAgain = true;
        return;
      }
      syncing = true;
      try {
        do {
          syncAgain = false;
          const c = this.client;
          if (!c) return;
          const report = await c.get<StatusReport>('/v1/status', { timeoutMs: 10_000 }).catch(() => undefined);
          if (!report || stopped) return;
          const d = report.daemon;
          last = snapshotOf(report, { running: true, ...(d.version ? { version: d.version } : {}), ...(d.uptime_s !== undefined ? { uptimeS: d.uptime_s } : {}) });
          emit({ kind: 'snapshot', snapshot: last });
        } while (syncAgain && !stopped);
      } finally {
        syncing = false;
      }
    };
    const resyncSoon = (): void => {
      if (resyncTimer || stopped) return;
      resyncTimer = setTimeout(() => {
        resyncTimer = undefined;
        void sync();
      }, this.opts.resyncMs);
    };
    const poll = setInterval(() => {
      if (connected) void sync();
    }, this.opts.pollMs);

    const runChanged = async (id: string): Promise<void> => {
      const rec = await this.client?.get<Record<string, unknown>>(`/v1/runs/${enc(id)}`, { timeoutMs: 10_000 }).catch(() => undefined);
      const v = rec ? runView(rec) : undefined;
      if (v) emit({ kind: 'run', run: v });
    };

    const onMessage = (data: WebSocket.RawData): void => {
      let items: EventItem[];
      try {
        const parsed = JSON.parse(data.toString()) as unknown;
        items = (Array.isArray(parsed) ? parsed : [parsed]) as EventItem[];
      } catch {
        return; // not ours to show; the next message is read as usual
      }
      const logs: LogRecordView[] = [];
      for (const it of items) {
        if (!it || typeof it !== 'object') continue;
        if (typeof it.seq === 'number') lastSeq = it.seq;
        const type = typeof it.type === 'string' ? it.type : '';
        if (type === 'hello') {
          // A first connection starts from now; a reconnection has been replayed what it missed.
          if (lastSeq === undefined && typeof it.last_seq === 'number') lastSeq = it.last_seq;
          void sync();
          continue;
        }
        if (type === 'events.dropped') {
          emit({ kind: 'notice', level: 'warn', text: `${typeof it.count === 'number' ? it.count : 'Some'} events were missed (${String(it.reason ?? 'the client fell behind')}); the picture was read again.` });
          void sync();
          continue;
        }
        const id = typeof it.entity?.id === 'string' ? it.entity.id : '';
        if (type === 'log.record' && it.payload && typeof it.payload === 'object') logs.push(logRecordView(it.payload as Record<string, unknown>));
        else if ((type === 'run.frame' || type === 'run.tool') && id && it.payload && typeof it.payload === 'object') {
          const frame = it.payload as FrameView;
          if (typeof frame.type === 'string') emit({ kind: 'frame', runId: id, frame });
        } else if (RUN_LIFECYCLE.has(type) && id) {
          void runChanged(id);
          resyncSoon(); // sandbox counts of runs in flight
        } else if (RESYNC_TYPES.test(type)) resyncSoon();
      }
      if (logs.length > 0) emit({ kind: 'log', records: logs });
    };

    const connect = (): void => {
      if (stopped) return;
      const c = this.lookup();
      if (!c) {
        this.client = undefined;
        scheduleRetry();
        return;
      }
      // A different daemon (restarted): its sequence numbers start again.
      if (this.client && (this.client.info.pid !== c.info.pid || this.client.info.port !== c.info.port)) lastSeq = undefined;
      this.client = c;
      void c.events(lastSeq !== undefined ? { since: lastSeq } : {}).then(
        (sock) => watch(sock),
        () => scheduleRetry(),
      );
    };
    const watch = (sock: WebSocket): void => {
      if (stopped) {
        sock.terminate();
        return;
      }
      let opened = false;
      ws = sock;
      sock.on('open', () => {
        opened = true;
        if (!connected && wait > this.opts.retryMs) emit({ kind: 'notice', level: 'info', text: 'Connected to the daemon again.' });
        connected = true;
        wait = this.opts.retryMs;
      });
      sock.on('message', onMessage);
      sock.on('error', () => {
        // 'close' follows; the reason is told there.
      });
      sock.on('close', () => {
        if (ws === sock) ws = undefined;
        if (stopped) return;
        if (opened) {
          connected = false;
          emit({ kind: 'notice', level: 'warn', text: 'Lost the connection to the daemon; reconnecting…' });
        }
        scheduleRetry();
      });
    };
    const scheduleRetry = (): void => {
      if (stopped || retryTimer) return;
      if (!this.lookup()) {
        // The header shows it: the rest of the picture stays as it was last seen.
        const daemon = { running: false, detail: 'stopped; waiting for it to start again' };
        emit({ kind: 'snapshot', snapshot: last ? { ...last, daemon } : { daemon, gateways: [], routes: [], sandboxes: [], runs: [], takenAt: new Date().toISOString() } });
      }
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        connect();
      }, wait);
      wait = Math.min(wait * 2, this.opts.maxRetryMs);
    };

    connect();
    return () => {
      stopped = true;
      clearInterval(poll);
      if (resyncTimer) clearTimeout(resyncTimer);
      if (retryTimer) clearTimeout(retryTimer);
      ws?.removeAllListeners('message');
      ws?.terminate();
    };
  }

  async recentLogs(limit: number): Promise<LogRecordView[]> {
    const r = await this.current().get<{ items: unknown[] }>(`/v1/logs?lines=${Math.max(1, Math.floor(limit))}`, { timeoutMs: 15_000 });
    return r.items.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object' && !('text' in x && Object.keys(x).length === 1)).map(logRecordView);
  }

  async runFrames(runId: string): Promise<FrameView[]> {
    const r = await this.current().get<{ items: unknown[] }>(`/v1/runs/${enc(runId)}/frames`, { timeoutMs: 15_000 });
    return r.items.filter((x): x is FrameView => !!x && typeof x === 'object' && typeof (x as { type?: unknown }).type === 'string');
  }

  async startRun(input: StartRunInput): Promise<{ id: string }> {
    const r = await this.current().post<{ id: string }>('/v1/runs', { message: input.message, sandbox: input.sandbox, ...(input.session ? { session: input.session } : {}) }, { timeoutMs: 120_000 });
    return { id: r.id };
  }
  async cancelRun(id: string): Promise<void> {
    await this.current().post(`/v1/runs/${enc(id)}/cancel`, {});
  }
  async createSandbox(name: string, route: string): Promise<void> {
    await this.current().post('/v1/sandboxes', { name, route }, { timeoutMs: 600_000 });
  }
  async deleteSandbox(name: string): Promise<void> {
    await this.current().del(`/v1/sandboxes/${enc(name)}`, { timeoutMs: 600_000 });
  }
  async syncRoute(name: string): Promise<void> {
    await this.current().post(`/v1/routes/${enc(name)}/sync`, {}, { timeoutMs: 600_000 });
  }
  async removeRoute(name: string): Promise<void> {
    await this.current().del(`/v1/routes/${enc(name)}`, { timeoutMs: 600_000 });
  }
  async gatewayUp(name: string): Promise<void> {
    await this.current().post(`/v1/gateways/${enc(name)}/up`, {}, { timeoutMs: 900_000 });
  }
  async gatewayDown(name: string): Promise<void> {
    await this.current().post(`/v1/gateways/${enc(name)}/down`, {}, { timeoutMs: 300_000 });
  }
  async refreshProviders(): Promise<void> {
    await this.current().post('/v1/providers/refresh', {}, { timeoutMs: 120_000 });
  }
}
