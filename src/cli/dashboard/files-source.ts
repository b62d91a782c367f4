import type { App } from '../../app/context.js';
import { getProviderStatuses } from '../../app/provider-status.js';
import { collectStatus, probeGateways, runSummary, type StatusReport } from '../../app/status.js';
import { LogosError } from '../../core/errors.js';
import type { GatewayStatusEntry } from '../../core/gateways.js';
import type { Frame } from '../../core/protocol.js';
import { redactValue } from '../../core/redact.js';
import { recordedResultFrame } from '../../core/runs.js';
import { daemonServices } from '../../daemon/services.js';
import { followLines } from '../../log/follow.js';
import { markLogEnd, readRecentLog } from '../../log/reader.js';
import { parseLine } from '../../log/record.js';
import type { DataSource, FrameView, LogRecordView, StartRunInput, Update } from '../../tui/model.js';
import { logRecordView, runView, snapshotOf } from './views.js';

/**
 * The dashboard's data with no daemon: the state files read once a second through
 * the app layer (the same code `logos status` runs), the unified log followed, and
 * actions done in this process with the same use cases the CLI and the daemon call.
 * Runs started here run in this process: their frames come live, and quitting the
 * dashboard cancels them. Other runs show their outcome
 * from their records (the reply itself is not kept). Gateways are asked for their
 * state every `daemonProbeSec`, OpenShell sandboxes every `daemonSandboxSec`, as
 * the daemon does: every look there is an `openshell` call.
 */

export interface FilesSourceOptions {
  pollMs?: number;
}

/** Frames kept per run started here (a viewer opening it later sees these). */
const MAX_FRAMES = 5000;

export class FilesSource implements DataSource {
  readonly mode = 'files' as const;
  private readonly services;
  private readonly live = new Map<string, { controller: AbortController; frames: FrameView[] }>();
  private readonly listeners = new Set<(u: Update) => void>();
  private readonly pollMs: number;

  constructor(
    private readonly app: App,
    opts: FilesSourceOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 1000;
    this.services = daemonServices(app, {
      status: () => this.collect(undefined),
      refreshProviders: () => getProviderStatuses(app, { refresh: true }),
    });
  }

  /** Runs this dashboard started that have not ended. */
  get runsInFlight(): number {
    return this.live.size;
  }

  private collect(previous: StatusReport | undefined, gatewayResults: GatewayStatusEntry[] = [], remoteDue = true): Promise<StatusReport> {
    return collectStatus(this.app, {
      daemon: { running: false },
      providers: 'cache-only',
      probeGateways: false,
      gatewayResults,
      runsShown: 200,
      ...(previous ? { previous } : {}),
      remeasure: (driver) => driver === 'local' || remoteDue,
    });
  }

  private emit(u: Update): void {
    for (const l of this.listeners) l(u);
  }

  subscribe(onUpdate: (u: Update) => void): () => void {
    this.listeners.add(onUpdate);
    const stop = new AbortController();
    let previous: StatusReport | undefined;
    let gatewayResults: GatewayStatusEntry[] = [];
    let gatewaysAt = 0;
    let remoteAt = 0;
    const cfg = this.app.config;

    const tick = async (): Promise<void> => {
      const now = Date.now();
      if (now - gatewaysAt >= cfg.daemonProbeSec * 1000) {
        gatewaysAt = now;
        gatewayResults = await probeGateways(this.app);
      }
      const remoteDue = now - remoteAt >= cfg.daemonSandboxSec * 1000;
      const report = await this.collect(previous, gatewayResults, remoteDue);
      if (remoteDue) remoteAt = now;
      previous = report;
      if (!stop.signal.aborted) onUpdate({ kind: 'snapshot', snapshot: snapshotOf(report, { running: false }) });
    };
    const loop = async (): Promise<void> => {
      while (!stop.signal.aborted) {
        await tick().catch((err: unknown) => {
          if (!stop.signal.aborted) onUpdate({ kind: 'notice', level: 'error', text: `Could not read the state: ${err instanceof Error ? err.message : String(err)}` });
        });
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.pollMs);
          stop.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
        });
      }
    };
    void loop();

    // The unified log from its end: new records as they are written (rotation followed).
    void (async () => {
      const dir = this.app.paths.logs;
      const start = await markLogEnd(dir);
      for await (const lines of followLines(dir, { signal: stop.signal, start })) {
        const records: LogRecordView[] = [];
        for (const line of lines) {
          const e = parseLine(line);
          if (e.kind === 'record') records.push(logRecordView(redactValue(e.record) as Record<string, unknown>));
        }
        if (records.length > 0 && !stop.signal.aborted) onUpdate({ kind: 'log', records });
      }
    })().catch(() => undefined);

    return () => {
      stop.abort();
      this.listeners.delete(onUpdate);
    };
  }

  async recentLogs(limit: number): Promise<LogRecordView[]> {
    const entries = await readRecentLog(this.app.paths.logs, Math.max(1, Math.floor(limit)), { filters: [] });
    return entries.flatMap((e) => (e.kind === 'record' ? [logRecordView(redactValue(e.record) as Record<string, unknown>)] : []));
  }

  async runFrames(runId: string): Promise<FrameView[]> {
    const live = this.live.get(runId);
    if (live) return [...live.frames];
    const rec = await this.app.runs.get(runId);
    if (!rec) throw new LogosError('NOT_FOUND', `No run with id '${runId}'.`, { hint: 'See `logos runs list`.' });
    const result = recordedResultFrame({ ...rec, status: runSummary(rec).status });
    return result ? [result as FrameView] : [];
  }

  async startRun(input: StartRunInput): Promise<{ id: string }> {
    const controller = new AbortController();
    let id = '';
    const early: FrameView[] = [];
    // Frames come numbered (`seq`) from startRun, as the daemon serves them.
    const onFrame = (raw: Frame): void => {
      const frame = raw as FrameView;
      if (!id) {
        early.push(frame);
        return;
      }
      const live = this.live.get(id);
      if (live && live.frames.length < MAX_FRAMES) live.frames.push(frame);
      this.emit({ kind: 'frame', runId: id, frame });
    };
    const started = await this.services.startRun({ message: input.message, sandbox: input.sandbox, ...(input.session ? { session: input.session } : {}) }, { signal: controller.signal, onFrame });
    id = started.id;
    this.live.set(id, { controller, frames: early.slice(0, MAX_FRAMES) });
    for (const f of early) this.emit({ kind: 'frame', runId: id, frame: f });
    void started.done.finally(async () => {
      this.live.delete(id);
      const rec = await this.app.runs.get(id).catch(() => undefined);
      const v = rec ? runView(runSummary(rec)) : undefined;
      if (v) this.emit({ kind: 'run', run: v });
    });
    return { id };
  }

  async cancelRun(id: string): Promise<void> {
    const live = this.live.get(id);
    if (!live) {
      throw new LogosError('NOT_FOUND', `Run ${id} was not started from this dashboard, so it cannot be cancelled from here.`, {
        hint: 'Stop the `logos run` that started it (Ctrl-C there), or run the daemon (`logos daemon start`) so that runs it starts can be cancelled from anywhere.',
      });
    }
    live.controller.abort(new LogosError('CANCELLED', 'Cancelled from the dashboard.'));
  }

  /** Quitting: cancel the runs started here (they run in this process) and wait for their records. */
  async close(): Promise<void> {
    for (const r of this.live.values()) r.controller.abort(new LogosError('CANCELLED', 'The dashboard that started it quit.'));
    for (let i = 0; i < 100 && this.live.size > 0; i += 1) await new Promise((r) => setTimeout(r, 50));
  }

  async createSandbox(name: string, route: string): Promise<void> {
    await this.services.createSandbox({ name, route }, new AbortController().signal);
  }
  async deleteSandbox(name: string): Promise<void> {
    await this.services.deleteSandbox(name, new AbortController().signal);
  }
  async syncRoute(name: string): Promise<void> {
    await this.services.syncRoute(name, new AbortController().signal);
  }
  async removeRoute(name: string): Promise<void> {
    await this.services.removeRoute(name, false, new AbortController().signal);
  }
  async gatewayUp(name: string): Promise<void> {
    await this.services.gatewayUp(name, {}, new AbortController().signal);
  }
  async gatewayDown(name: string): Promise<void> {
    await this.services.gatewayDown(name, new AbortController().signal);
  }
  async refreshProviders(): Promise<void> {
    await this.services.refreshProviders(new AbortController().signal);
  }
}
