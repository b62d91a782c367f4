import type { Column } from './components/table.js';
import { cell, clockTime, levelStyle, runDuration, statusStyle, tokens } from './format.js';
import type { GatewayView, RouteView, RunView, SandboxView } from './model.js';
import type { LogEntry } from './state.js';

/** What each pane shows, column by column (widths in terminal cells; `drop` says which go first at 80 columns). */

export const GATEWAY_COLUMNS: readonly Column<GatewayView>[] = [
  { title: 'NAME', width: 14, text: (g) => cell(g.name) },
  {
    title: 'REACHABLE',
    width: 9,
    text: (g) => (g.reachable === null ? '?' : g.reachable ? '✓ yes' : '✗ no'),
    style: (g) => (g.reachable === null ? 'warn' : g.reachable ? 'ok' : 'err'),
  },
  { title: 'VERSION', width: 16, text: (g) => cell([g.version, g.line ? `(${g.line})` : ''].filter(Boolean).join(' ')), drop: 3 },
  { title: 'SANDBOXES', width: 9, text: (g) => (g.sandboxes === undefined ? '' : String(g.sandboxes)) },
  { title: 'KIND', width: 8, text: (g) => cell(g.kind), drop: 1 },
  { title: 'ENDPOINT', width: 20, grow: true, text: (g) => cell([g.endpoint, g.detail].filter(Boolean).join('  ')) },
];

export const ROUTE_COLUMNS: readonly Column<RouteView>[] = [
  { title: 'NAME', width: 18, text: (r) => `${cell(r.name)}${r.isDefault ? ' *' : ''}` },
  { title: 'PROVIDER/MODEL', width: 24, grow: true, text: (r) => cell(`${r.provider}/${r.model}`) },
  { title: 'STATUS', width: 8, text: (r) => cell(r.status), style: (r) => statusStyle(r.status) },
  { title: 'REASON', width: 14, text: (r) => cell(r.reason ?? ''), style: (r) => (r.reason && r.reason !== 'OK' ? 'err' : r.reason ? 'ok' : undefined) },
  { title: 'LATENCY', width: 7, text: (r) => (r.latencyMs === undefined ? '' : `${Math.round(r.latencyMs)}ms`), drop: 2 },
  { title: 'GATEWAY', width: 10, text: (r) => cell(r.gateway ?? '-'), drop: 1 },
];

export const SANDBOX_COLUMNS: readonly Column<SandboxView>[] = [
  { title: 'NAME', width: 18, text: (s) => cell(s.name) },
  { title: 'DRIVER', width: 9, text: (s) => cell(s.driver) },
  { title: 'PHASE', width: 10, text: (s) => cell(s.phase), style: (s) => statusStyle(s.phase) },
  { title: 'ROUTE', width: 18, text: (s) => cell(s.route) },
  { title: 'IN FLIGHT', width: 9, text: (s) => (s.running > 0 ? `${s.running} running` : '-'), style: (s) => (s.running > 0 ? 'accent' : undefined) },
  { title: 'TOOLS', width: 10, grow: true, text: (s) => cell(s.tools === undefined ? '' : s.tools.length === 0 ? 'none' : s.tools.join(',')), drop: 1 },
];

export const RUN_COLUMNS: readonly Column<RunView>[] = [
  { title: 'ID', width: 17, text: (r) => cell(r.id) },
  { title: 'SANDBOX', width: 12, text: (r) => cell(r.sandbox) },
  {
    title: 'STATUS',
    width: 10,
    text: (r) => cell(r.error && r.status !== 'ok' ? r.error.code : r.status),
    style: (r) => statusStyle(r.status),
  },
  { title: 'TOOK', width: 7, text: (r, now) => runDuration(r, now) },
  { title: 'TOKENS', width: 11, text: (r) => tokens(r.inputTokens, r.outputTokens), drop: 3 },
  { title: 'STEPS', width: 5, text: (r) => (r.steps === undefined ? '' : String(r.steps)), drop: 2 },
  { title: 'STARTED', width: 8, text: (r) => clockTime(r.startedAt), drop: 1 },
  { title: 'TASK', width: 10, grow: true, text: (r) => cell(r.promptPreview), drop: 4 },
];

export const LOG_COLUMNS: readonly Column<LogEntry>[] = [
  { title: 'TIME', width: 8, text: (r) => clockTime(r.ts) },
  { title: 'LEVEL', width: 5, text: (r) => cell(r.level, 5), style: (r) => levelStyle(r.level) },
  { title: 'SOURCE', width: 10, text: (r) => cell(r.source), drop: 1 },
  { title: 'MESSAGE', width: 20, grow: true, text: (r) => logMessage(r) },
];

const CONTEXT_FIELDS = ['sandbox', 'task_id', 'route'];

function logMessage(r: LogEntry): string {
  const ctx = CONTEXT_FIELDS.map((k) => (typeof r.fields[k] === 'string' ? `${k}=${r.fields[k] as string}` : '')).filter(Boolean);
  return cell(ctx.length > 0 ? `${r.msg}  ${ctx.join(' ')}` : r.msg, 400);
}

/** The text `/` matches against, per row. */
export const searchText = {
  gateways: (g: GatewayView): string => `${g.name} ${g.endpoint} ${g.kind} ${g.version ?? ''} ${g.detail ?? ''}`,
  routes: (r: RouteView): string => `${r.name} ${r.provider}/${r.model} ${r.status} ${r.reason ?? ''} ${r.gateway ?? ''}`,
  sandboxes: (s: SandboxView): string => `${s.name} ${s.driver} ${s.phase} ${s.route}`,
  runs: (r: RunView): string => `${r.id} ${r.sandbox} ${r.route} ${r.status} ${r.error?.code ?? ''} ${r.promptPreview}`,
};
