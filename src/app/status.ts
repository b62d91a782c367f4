import { packageVersion } from '../adapters/assets.js';
import { findExecutable } from '../adapters/exec/which.js';
import { gatewayStatus, type GatewayStatusEntry } from '../core/gateways.js';
import type { ProviderStatus } from '../core/provider-status.js';
import { effectiveRunStatus, type RunRecord } from '../core/runs.js';
import { listSandboxes, type SandboxStatus } from '../core/sandboxes.js';
import { pidAlive } from '../store/json-file.js';
import type { App } from './context.js';
import { getProviderStatuses } from './provider-status.js';

/**
 * One picture of Logos: daemon, gateways, routes, sandboxes (measured phase and
 * tasks in flight), providers (with reason codes) and recent runs. `logos status`
 * and the daemon's /v1/status return exactly this.
 */

export interface DaemonInfo {
  running: boolean;
  pid?: number;
  host?: string;
  port?: number;
  version?: string;
  started_at?: string;
  uptime_s?: number;
}

export interface RunSummary {
  id: string;
  status: string;
  sandbox: string;
  route: string;
  started_at: string;
  duration_ms?: number;
  steps?: number;
  usage?: RunRecord['usage'];
  error?: RunRecord['error'];
  prompt_preview: string;
}

export interface StatusReport {
  version: string;
  checked_at: string;
  daemon: DaemonInfo;
  gateways: Array<GatewayStatusEntry & { kind?: string }>;
  routes: Array<{ name: string; provider: string; model: string; status: string; default: boolean; gateway?: string; reason?: string; latency_ms?: number | null }>;
  sandboxes: Array<{ name: string; driver: string; route: string; phase: SandboxStatus['phase']; detail?: string; running: number; tools?: string[] }>;
  providers: ProviderStatus[];
  runs: RunSummary[];
}

export interface StatusOptions {
  daemon: DaemonInfo;
  /** Probe providers whose cached result is stale (CLI), or only read the cache (daemon, tests). */
  providers: 'refresh-stale' | 'cache-only' | 'skip';
  /** Ask each gateway for its state (`openshell status`); off: records only. */
  probeGateways: boolean;
  runsLimit?: number;
  /** How many of the runs read go into the report (default 10). */
  runsShown?: number;
  /**
   * Phases measured a moment ago, by sandbox name: used instead of asking the driver
   * again (a poller asks OpenShell every few ticks, not every second). Sandboxes not
   * in it are measured.
   */
  knownPhases?: ReadonlyMap<string, { phase: SandboxStatus['phase']; detail?: string }>;
  signal?: AbortSignal;
  /** Gateway results measured elsewhere (the daemon's own probe loop), used instead of "not probed". */
  gatewayResults?: GatewayStatusEntry[];
  /**
   * The previous report and which drivers to measure again: a sandbox whose driver is not
   * re-measured keeps its phase from `previous` (the daemon measures OpenShell sandboxes on a
   * slower loop than local ones, which cost nothing to look at).
   */
  previous?: StatusReport;
  remeasure?: (driver: string) => boolean;
}

export function runSummary(r: RunRecord): RunSummary {
  const s: RunSummary = { id: r.id, status: effectiveRunStatus(r, pidAlive), sandbox: r.sandbox, route: r.route, started_at: r.started_at, prompt_preview: r.prompt_preview };
  if (r.duration_ms !== undefined) s.duration_ms = r.duration_ms;
  if (r.steps !== undefined) s.steps = r.steps;
  if (r.usage) s.usage = r.usage;
  if (r.error) s.error = r.error;
  return s;
}

/**
 * Every registered gateway asked for its state (`openshell status`), as the daemon's probe
 * loop and the dashboard's files mode do it. No openshell, or no gateway: none. openshell
 * itself failing makes every gateway `error` (unknown now, not still as it was).
 */
export async function probeGateways(app: App): Promise<GatewayStatusEntry[]> {
  const names = Object.keys((await app.gateways.read()).gateways).sort();
  if (names.length === 0 || !findExecutable(app.config.binaries.openshell, app.env.PATH)) return [];
  return gatewayStatus(app.gatewayCtx(), names).catch((err: unknown) =>
    names.map((name): GatewayStatusEntry => ({ name, reachable: false, status: 'error', error: err instanceof Error ? err.message : String(err), latency_ms: 0, checked_at: new Date().toISOString() })),
  );
}

export async function collectStatus(app: App, opts: StatusOptions): Promise<StatusReport> {
  const [routesFile, sandboxes, gatewaysFile, runs] = await Promise.all([app.routes.read(), listSandboxes({ sandboxes: app.sandboxes }), app.gateways.read(), app.runs.list(opts.runsLimit ?? 200)]);
  const recent = runs.map(runSummary);
  const inFlight = new Map<string, number>();
  for (const r of recent) if (r.status === 'running') inFlight.set(r.sandbox, (inFlight.get(r.sandbox) ?? 0) + 1);

  const providers: ProviderStatus[] =
    opts.providers === 'skip' ? [] : await getProviderStatuses(app, opts.providers === 'cache-only' ? { cacheOnly: true } : {}).catch(() => []);
  const byRoute = new Map<string, ProviderStatus>();
  for (const p of providers) for (const r of p.routes) byRoute.set(r, p);

  const gatewayNames = Object.keys(gatewaysFile.gateways).sort();
  const openshellThere = !!findExecutable(app.config.binaries.openshell, app.env.PATH);
  const measured = new Map((opts.gatewayResults ?? []).map((g) => [g.name, g]));
  const gateways =
    opts.probeGateways && openshellThere && gatewayNames.length > 0
      ? (await gatewayStatus(app.gatewayCtx(), gatewayNames).catch(() => [])).map((g) => ({ ...g, kind: gatewaysFile.gateways[g.name]?.kind }))
      : gatewayNames.map((name) => {
          const g = gatewaysFile.gateways[name];
          const m = measured.get(name);
          if (m) return { ...m, kind: g?.kind };
          return { name, endpoint: g?.endpoint, kind: g?.kind, reachable: false, status: opts.probeGateways ? 'openshell not installed' : 'not probed', latency_ms: 0, checked_at: new Date().toISOString() };
        });

  const measure = (s: (typeof sandboxes)[number]): Promise<{ phase: SandboxStatus['phase']; detail?: string }> =>
    app.driver(s.driver).status(s).catch((e: Error) => ({ phase: 'Unknown' as const, detail: e.message }));
  const before = new Map((opts.previous?.sandboxes ?? []).map((s) => [s.name, s]));
  const phases = await Promise.all(
    sandboxes.map(async (s) => {
      const known = opts.knownPhases?.get(s.name);
      if (known) return { s, st: known };
      const prev = before.get(s.name);
      if (prev && opts.remeasure && !opts.remeasure(s.driver)) return { s, st: { phase: prev.phase, ...(prev.detail ? { detail: prev.detail } : {}) } };
      return { s, st: await measure(s) };
    }),
  );

  return {
    version: packageVersion(),
    checked_at: new Date().toISOString(),
    daemon: opts.daemon,
    gateways,
    routes: Object.values(routesFile.routes)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((r) => {
        const p = byRoute.get(r.name);
        return {
          name: r.name,
          provider: r.provider,
          model: r.model,
          status: r.status,
          default: routesFile.default === r.name,
          ...(r.gateway ? { gateway: r.gateway } : {}),
          ...(p ? { reason: p.reason, latency_ms: p.latency_ms } : {}),
        };
      }),
    sandboxes: phases.map(({ s, st }) => ({
      name: s.name,
      driver: s.driver,
      route: s.route,
      phase: st.phase,
      ...(st.detail ? { detail: st.detail } : {}),
      running: inFlight.get(s.name) ?? 0,
      ...(s.tools ? { tools: [...s.tools] } : {}),
    })),
    providers,
    runs: recent.slice(0, opts.runsShown ?? 10),
  };
}
