import { packageVersion } from '../adapters/assets.js';
import { findOrphans } from '../adapters/exec/owner.js';
import { killGroup } from '../adapters/exec/runner.js';
import type { App } from '../app/context.js';
import { getProviderStatuses } from '../app/provider-status.js';
import { collectStatus, probeGateways, type DaemonInfo, type StatusReport } from '../app/status.js';
import type { ProviderStatus } from '../core/provider-status.js';
import { EventBus } from '../core/events.js';
import type { GatewayStatusEntry } from '../core/gateways.js';
import { LogosError } from '../core/errors.js';
import { redactText, redactValue } from '../core/redact.js';
import { followLines } from '../log/follow.js';
import { markLogEnd } from '../log/reader.js';
import { parseLine } from '../log/record.js';
import { apiRoutes, RunRegistry } from './api.js';
import { ensureToken, liveDaemon, processStartTicks, removePidFile, writePidFile } from './files.js';
import { isLoopback, startHttpServer, type HttpServer } from './http.js';
import { logRoutes } from './logs.js';
import { daemonServices } from './services.js';
import { wsEvents } from './streams.js';

/**
 * The daemon: one process per LOGOS_HOME serving the API over HTTP and WebSocket,
 * keeping a status snapshot fresh, probing providers and gateways on a jittered
 * schedule and publishing what changes as events. `logos daemon run` runs it in
 * the foreground (systemd, containers); `logos daemon start` in the background.
 */

export interface DaemonOptions {
  host?: string;
  port?: number;
  /** Status snapshot refresh, and the probes' base interval (jittered ±20%). */
  refreshMs?: number;
  probeMs?: number;
  /** How often to look for processes Logos started whose owner died. */
  reapMs?: number;
  /** Bring back the local gateways Logos started whose containers are not running (default on). */
  recover?: boolean;
  /** How often sandboxes on gateways (OpenShell) are measured again; local ones every refresh. */
  remoteSandboxMs?: number;
}

export interface RunningDaemon {
  port: number;
  host: string;
  token: string;
  bus: EventBus;
  /** Resolves when the daemon has stopped (stop() or a fatal error). */
  stopped: Promise<void>;
  stop(reason?: string): Promise<void>;
}

function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

export async function startDaemon(a: App, opts: DaemonOptions = {}): Promise<RunningDaemon> {
  const host = opts.host ?? a.config.daemonHost;
  const port = opts.port ?? a.config.daemonPort;
  const log = a.logger.child({ source: 'daemon' });
  const existing = liveDaemon(a.paths.daemonPidFile);
  if (existing && existing.pid !== process.pid) {
    throw new LogosError('ALREADY_EXISTS', `A daemon already runs for this home (pid ${existing.pid}, ${existing.host}:${existing.port}).`, {
      hint: 'Use it, or stop it first with `logos daemon stop`.',
      details: { pid: existing.pid, port: existing.port },
    });
  }
  const token = ensureToken(a.paths.daemonTokenFile);
  const started = new Date();
  const bus = new EventBus();
  const runs = new RunRegistry();

  // The status snapshot: refreshed in the background, served from memory.
  const info = (): DaemonInfo => ({ running: true, pid: process.pid, host, port: server.port, version: packageVersion(), started_at: started.toISOString(), uptime_s: Math.round((Date.now() - started.getTime()) / 1000) });
  let snapshot: StatusReport | undefined;
  let refreshing: Promise<StatusReport> | undefined;
  // Gateways are asked for their state on the probe loop, not on every refresh; OpenShell
  // sandboxes are measured again every remoteSandboxMs (each look is an openshell call).
  let gatewayResults: GatewayStatusEntry[] = [];
  let remoteMeasuredAt = 0;
  const remoteEvery = opts.remoteSandboxMs ?? a.config.daemonSandboxSec * 1000;
  const refresh = (): Promise<StatusReport> => {
    const remoteDue = Date.now() - remoteMeasuredAt >= remoteEvery;
    return (refreshing ??= collectStatus(a, {
      daemon: info(),
      providers: 'cache-only',
      probeGateways: false,
      gatewayResults,
      ...(snapshot ? { previous: snapshot } : {}),
      remeasure: (driver) => driver === 'local' || remoteDue,
    })
      .then((s) => {
        if (remoteDue) remoteMeasuredAt = Date.now();
        publishChanges(snapshot, s);
        snapshot = s;
        return s;
      })
      .finally(() => {
        refreshing = undefined;
      }));
  };
  /** A snapshot taken after a change made now (one already under way may have read the state before it). */
  const refreshAfterChange = async (): Promise<StatusReport> => {
    await refreshing?.catch(() => undefined);
    return refresh();
  };
  const publishChanges = (before: StatusReport | undefined, after: StatusReport): void => {
    if (!before) return;
    const phase = new Map(before.sandboxes.map((s) => [s.name, s.phase]));
    for (const s of after.sandboxes) if (phase.get(s.name) !== s.phase) bus.publish('sandbox.phase_changed', { kind: 'sandbox', id: s.name }, { from: phase.get(s.name) ?? null, to: s.phase, detail: s.detail ?? null });
    // Runs started elsewhere (the CLI, cron) appear and end in the records: tell the clients too.
    const seen = new Map(before.runs.map((r) => [r.id, r.status]));
    for (const r of [...after.runs].reverse()) {
      if (runs.startedHere(r.id)) continue; // this daemon's own runs publish their events as they happen
      const was = seen.get(r.id);
      if (was === r.status) continue;
      if (was === undefined) bus.publish('run.started', { kind: 'run', id: r.id }, { sandbox: r.sandbox, route: r.route, external: true });
      if (r.status !== 'running') bus.publish(r.status === 'ok' ? 'run.completed' : 'run.failed', { kind: 'run', id: r.id }, { ...r, external: true });
    }
    const reason = new Map(before.routes.map((r) => [r.name, `${r.status}/${r.reason ?? ''}`]));
    for (const r of after.routes) if (reason.get(r.name) !== `${r.status}/${r.reason ?? ''}`) bus.publish('route.status_changed', { kind: 'route', id: r.name }, { status: r.status, reason: r.reason ?? null });
  };
  const status = async (): Promise<StatusReport> => {
    const s = snapshot ?? (await refresh());
    return { ...s, daemon: info() };
  };
  // The JSON of the latest snapshot, made once per snapshot and second of uptime.
  let cached: { of: StatusReport; second: number; text: string } | undefined;
  const statusJson = async (): Promise<string> => {
    const s = snapshot ?? (await refresh());
    const second = Math.floor(Date.now() / 1000);
    if (cached?.of !== s || cached.second !== second) cached = { of: s, second, text: `${JSON.stringify(redactValue({ ok: true, ...s, daemon: info() }))}\n` };
    return cached.text;
  };

  // Provider probes: on a schedule (below) and when a client asks (POST /v1/providers/refresh).
  // What changed is published; the snapshot is refreshed after a forced probe so /v1/status shows it.
  let lastProviders = new Map<string, string>();
  const probeProviders = async (force: boolean): Promise<ProviderStatus[]> => {
    const statuses = await getProviderStatuses(a, force ? { refresh: true } : {});
    const now = new Map(statuses.map((p) => [`${p.provider} ${p.endpoint}`, p.reason]));
    for (const p of statuses) {
      const key = `${p.provider} ${p.endpoint}`;
      if (lastProviders.get(key) !== p.reason) bus.publish('provider.status_changed', { kind: 'provider', id: p.provider }, { endpoint: p.endpoint, reason: p.reason, state: p.state, hint: p.hint });
    }
    lastProviders = now;
    return statuses;
  };
  const refreshProviders = async (): Promise<ProviderStatus[]> => {
    const statuses = await probeProviders(true);
    await refreshAfterChange();
    return statuses;
  };

  const services = daemonServices(a, { status, statusJson, refreshProviders });
  const events = wsEvents(bus);
  const server: HttpServer = await startHttpServer({
    host,
    port,
    token,
    logger: a.logger,
    routes: [...apiRoutes(services, bus, runs, started), ...logRoutes(a, bus)],
    onUpgrade: (req, socket, head, url) => events.handleUpgrade(req, socket, head, url),
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') {
      throw new LogosError('PORT_IN_USE', `Port ${port} on ${host} is in use; the daemon could not listen.`, {
        hint: `Pick another: \`logos config set daemonPort <port>\` (0: any free port), or find what uses it: \`ss -ltnp 'sport = :${port}'\`.`,
      });
    }
    throw err;
  });
  // The first snapshot now: what exists before this moment is the baseline changes are told against.
  await refresh();
  const ticks = processStartTicks(process.pid) ?? 0;
  await writePidFile(a.paths.daemonPidFile, { pid: process.pid, start_ticks: ticks, started_at: started.toISOString(), host, port: server.port, version: packageVersion() });
  log.info('daemon started', { host, port: server.port, loopback: isLoopback(host) });
  bus.publish('daemon.started', { kind: 'daemon', id: String(process.pid) }, { host, port: server.port, version: packageVersion() });
  // After a reboot: the local gateways Logos started come back, their sandboxes are looked at
  // again (records kept whatever happens), and what was done is an event and a log record.
  if (opts.recover !== false) {
    void import('../app/recover.js')
      .then(({ recoverAfterRestart }) => recoverAfterRestart(a))
      .then(async (report) => {
        if (report.gateways.length === 0) return;
        bus.publish('daemon.recovered', { kind: 'daemon', id: String(process.pid) }, report);
        await refreshAfterChange().catch(() => undefined);
      })
      .catch((err: unknown) => log.warn('recovery after start failed', { error: err instanceof Error ? err.message : String(err) }));
  }

  // Background work: keep the snapshot fresh; probe providers on a jittered schedule.
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => Promise<unknown>): void => {
    const tick = (): void => {
      fn()
        .catch((err: unknown) => log.warn('background task failed', { error: err instanceof Error ? err.message : String(err) }))
        .finally(() => {
          if (!stopping) timers.push(setTimeout(tick, jitter(ms)).unref());
        });
    };
    timers.push(setTimeout(tick, jitter(Math.min(ms, 1000))).unref());
  };
  every(opts.refreshMs ?? 2000, refresh);
  every(opts.probeMs ?? a.config.daemonProbeSec * 1000, () => probeProviders(false));
  // Processes Logos started for this home whose owner died (kill -9, a crash): stopped, group and all.
  // Found by the owner tag in their environment (adapters/exec/owner.ts), never by a name.
  every(opts.reapMs ?? 30_000, async () => {
    const orphans = findOrphans(a.paths.state);
    if (orphans.length === 0) return;
    const shown = orphans.map((o) => ({ pid: o.pid, owner_pid: o.ownerPid, command: redactText(o.cmdline).slice(0, 200) }));
    for (const o of shown) log.warn('stopping a process whose logos owner is gone', o);
    for (const o of orphans) killGroup(o.pgid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 2000));
    // Only a process that is still the same one (its start time) gets the SIGKILL.
    for (const o of orphans) if (processStartTicks(o.pid) === o.startTicks) killGroup(o.pgid, 'SIGKILL');
    bus.publish('daemon.reaped', { kind: 'daemon', id: String(process.pid) }, { processes: shown });
  });
  // Gateways: reachability and versions on the same jittered schedule, changes as events.
  every(opts.probeMs ?? a.config.daemonProbeSec * 1000, async () => {
    const results = await probeGateways(a);
    const before = new Map(gatewayResults.map((g) => [g.name, `${g.reachable}/${g.status}/${g.version ?? ''}`]));
    const changed = results.filter((g) => before.get(g.name) !== `${g.reachable}/${g.status}/${g.version ?? ''}`);
    gatewayResults = results;
    if (changed.length === 0) return;
    // The snapshot first, so that a client reading /v1/status on the event sees what it says.
    await refreshAfterChange().catch(() => undefined);
    for (const g of changed) {
      bus.publish('gateway.status_changed', { kind: 'gateway', id: g.name }, { reachable: g.reachable, status: g.status, version: g.version ?? null, error: g.error ?? null });
    }
  });

  // The unified log as events (log.record), for the dashboard and any WebSocket client.
  const logFollow = new AbortController();
  void (async () => {
    const start = await markLogEnd(a.paths.logs);
    for await (const lines of followLines(a.paths.logs, { signal: logFollow.signal, start })) {
      for (const line of lines) {
        const e = parseLine(line);
        if (e.kind === 'record') bus.publish('log.record', { kind: 'log', id: typeof e.record.source === 'string' ? e.record.source : 'log' }, redactValue(e.record), 'log');
      }
    }
  })().catch((err: unknown) => log.warn('log follower stopped', { error: err instanceof Error ? err.message : String(err) }));

  let stopping = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const stop = async (reason = 'stopping'): Promise<void> => {
    if (stopping) return stopped;
    stopping = true;
    for (const t of timers) clearTimeout(t);
    logFollow.abort();
    runs.abortAll(`The daemon is ${reason}.`);
    events.close();
    await server.close();
    removePidFile(a.paths.daemonPidFile, process.pid);
    log.info('daemon stopped', { reason });
    resolveStopped();
    return stopped;
  };
  return { port: server.port, host, token, bus, stopped, stop };
}
