import type { RunSummary, StatusReport } from '../../app/status.js';
import type { ErrorView, GatewayView, LogRecordView, RunView, SandboxView, Snapshot } from '../../tui/model.js';

/**
 * What the dashboard shows, from what the daemon's API and the app layer return
 * (`GET /v1/status`, run summaries, log records). Pure: both data sources use it,
 * so the dashboard looks the same with or without a daemon.
 */

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function errorView(e: unknown): ErrorView | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as Record<string, unknown>;
  const code = str(o.code) ?? 'ERROR';
  const out: ErrorView = { code, message: str(o.message) ?? code };
  const hint = str(o.hint);
  if (hint) out.hint = hint;
  return out;
}

/** 0.0.x or 0.1.x from a version string, when it is one. */
export function versionLine(version: string | undefined): string | undefined {
  const m = version ? /^v?(\d+)\.(\d+)\./.exec(version) : null;
  return m ? `${m[1]}.${m[2]}.x` : undefined;
}

export function runView(r: RunSummary | Record<string, unknown>): RunView | undefined {
  const o = r as Record<string, unknown>;
  const id = str(o.id);
  if (!id) return undefined;
  const usage = (o.usage && typeof o.usage === 'object' ? o.usage : {}) as Record<string, unknown>;
  const v: RunView = {
    id,
    sandbox: str(o.sandbox) ?? '',
    route: str(o.route) ?? '',
    status: str(o.status) ?? 'unknown',
    startedAt: str(o.started_at) ?? '',
    promptPreview: str(o.prompt_preview) ?? '',
  };
  const d = num(o.duration_ms);
  if (d !== undefined) v.durationMs = d;
  const inT = num(usage.input_tokens);
  if (inT !== undefined) v.inputTokens = inT;
  const outT = num(usage.output_tokens);
  if (outT !== undefined) v.outputTokens = outT;
  const steps = num(o.steps);
  if (steps !== undefined) v.steps = steps;
  const err = errorView(o.error);
  if (err && v.status !== 'ok') v.error = err;
  return v;
}

export function logRecordView(rec: Record<string, unknown>): LogRecordView {
  const { ts, level, source, msg, pid: _pid, ...fields } = rec;
  return {
    ts: str(ts) ?? '',
    level: str(level) ?? 'info',
    source: str(source) ?? '',
    msg: typeof msg === 'string' ? msg : JSON.stringify(rec),
    fields,
  };
}

/** The dashboard's snapshot from a status report (the daemon's, or one collected from the files). */
export function snapshotOf(report: StatusReport, daemon: Snapshot['daemon']): Snapshot {
  const providerOf = new Map(report.providers.map((p) => [p.provider, p]));
  const routeGateway = new Map(report.routes.map((r) => [r.name, r.gateway]));
  const perGateway = new Map<string, number>();
  for (const s of report.sandboxes) {
    const g = routeGateway.get(s.route);
    if (s.driver !== 'local' && g) perGateway.set(g, (perGateway.get(g) ?? 0) + 1);
  }
  const gateways: GatewayView[] = report.gateways.map((g) => {
    const probed = g.status !== 'not probed';
    const v: GatewayView = { name: g.name, endpoint: g.endpoint ?? '', kind: g.kind ?? '', reachable: probed ? g.reachable : null };
    if (g.version) v.version = g.version;
    const line = versionLine(g.version);
    if (line) v.line = line;
    const n = g.sandboxes ?? perGateway.get(g.name);
    if (n !== undefined) v.sandboxes = n;
    const detail = g.reachable ? undefined : (g.error ?? (probed ? g.status : undefined));
    if (detail) v.detail = detail;
    return v;
  });
  const sandboxes: SandboxView[] = report.sandboxes.map((s) => ({
    name: s.name,
    driver: s.driver,
    route: s.route,
    phase: s.phase.toLowerCase(),
    running: s.running,
    ...(s.tools ? { tools: [...s.tools] } : {}),
  }));
  return {
    daemon,
    gateways,
    routes: report.routes.map((r) => {
      const hint = r.reason && r.reason !== 'OK' ? providerOf.get(r.provider)?.hint : undefined;
      return {
        name: r.name,
        provider: r.provider,
        model: r.model,
        status: r.status,
        isDefault: r.default,
        ...(r.gateway ? { gateway: r.gateway } : {}),
        ...(r.reason ? { reason: r.reason } : {}),
        ...(typeof r.latency_ms === 'number' ? { latencyMs: r.latency_ms } : {}),
        ...(hint ? { hint } : {}),
      };
    }),
    sandboxes,
    runs: report.runs.map((r) => runView(r)).filter((r): r is RunView => r !== undefined),
    takenAt: report.checked_at,
  };
}
