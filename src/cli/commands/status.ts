import type { Command } from 'commander';
import type { StatusReport } from '../../app/status.js';
import { findDaemon } from '../../daemon/client.js';
import { resolvePaths } from '../../store/paths.js';
import { colors, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

/**
 * `logos status`: one screen of everything. From the daemon when one runs (its
 * snapshot, fresh and cheap), otherwise gathered here (providers probed when their
 * cached result is stale, gateways asked).
 */

async function gather(env: CommandEnv): Promise<StatusReport> {
  const client = findDaemon(resolvePaths());
  if (client) {
    const s = await client.get<StatusReport>('/v1/status', { timeoutMs: 5000 }).catch(() => undefined);
    if (s) return s;
  }
  const a = await app(env);
  const { collectStatus } = await import('../../app/status.js');
  return collectStatus(a, { daemon: { running: false }, providers: 'refresh-stale', probeGateways: true, signal: env.signal });
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86_400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86_400)}d ago`;
}

export function registerStatus(program: Command, env: CommandEnv): void {
  program
    .command('status')
    .description('One screen: daemon, gateways, routes, sandboxes, providers and recent runs')
    .option('--json', 'print JSON (the same as the daemon\'s GET /v1/status)')
    .addHelpText('after', '\nExamples:\n  $ logos status\n  $ logos status --json | jq \'.providers[] | select(.reason != "OK")\'\n\nExit code 0 even when something is down: read the reasons (cron can alert on them).')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const s = await gather(env);
      if (opts.json) {
        printJson(env.io, s);
        return;
      }
      const c = colors(env.io);
      const good = (ok: boolean, text: string): string => (ok ? c.green(text) : c.red(text));
      const d = s.daemon;
      printLine(env.io, `${c.bold('Logos')} ${s.version} · daemon ${d.running ? good(true, `running (pid ${d.pid}, :${d.port}, up ${d.uptime_s}s)`) : c.dim('not running')}`);
      printLine(env.io);
      printLine(env.io, c.bold('Gateways'));
      printLine(env.io, s.gateways.length ? table(s.gateways.map((g) => [g.name, g.endpoint ?? '-', good(g.reachable, g.reachable ? 'reachable' : g.status), g.version ?? '-', g.sandboxes === undefined ? '-' : String(g.sandboxes)]), ['NAME', 'ENDPOINT', 'STATE', 'VERSION', 'SANDBOXES']) : c.dim('  none'));
      printLine(env.io);
      printLine(env.io, c.bold('Routes'));
      printLine(env.io, s.routes.length ? table(s.routes.map((r) => [`${r.default ? '* ' : '  '}${r.name}`, `${r.provider}/${r.model}`, r.status, r.reason ? good(r.reason === 'OK', r.reason) : '-', r.latency_ms == null ? '-' : `${r.latency_ms}ms`, r.gateway ?? '-']), ['  NAME', 'MODEL', 'STATUS', 'PROVIDER', 'LATENCY', 'GATEWAY']) : c.dim('  none (add one with `logos route add …`, or try `logos demo`)'));
      printLine(env.io);
      printLine(env.io, c.bold('Sandboxes'));
      printLine(env.io, s.sandboxes.length ? table(s.sandboxes.map((x) => [x.name, x.driver, x.route, good(x.phase === 'Ready', x.phase), String(x.running)]), ['NAME', 'DRIVER', 'ROUTE', 'PHASE', 'RUNNING']) : c.dim('  none'));
      const bad = s.providers.filter((p) => p.reason !== 'OK');
      if (bad.length) {
        printLine(env.io);
        printLine(env.io, c.bold('Providers needing attention'));
        for (const p of bad) printLine(env.io, `  ${c.red(p.reason)} ${p.provider} (${p.endpoint}): ${p.hint}`);
      }
      printLine(env.io);
      printLine(env.io, c.bold('Recent runs'));
      printLine(env.io, s.runs.length ? table(s.runs.map((r) => [r.id, r.status === 'ok' ? c.green('ok') : r.status === 'running' ? 'running' : c.red(r.error?.code ?? r.status), r.sandbox, ago(r.started_at), r.duration_ms === undefined ? '-' : `${(r.duration_ms / 1000).toFixed(1)}s`, r.prompt_preview.slice(0, 40)]), ['ID', 'STATUS', 'SANDBOX', 'STARTED', 'TOOK', 'PROMPT']) : c.dim('  none yet'));
    });
}
