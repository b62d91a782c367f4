import type { Command } from 'commander';
import { LogosError } from '../../core/errors.js';
import { parseDuration } from '../../core/names.js';
import { getRoute, listRoutes, setDefaultRoute } from '../../core/routes.js';
import { sandboxesUsingRoute } from '../../core/sandboxes.js';
import { DEFAULT_GATEWAY } from '../../core/gateways.js';
import { addRouteUseCase, removeRouteUseCase, syncRoutesUseCase } from '../../app/routes.js';
import { providerIds } from '../../core/providers.js';
import { colors, printFields, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

export function registerRoute(program: Command, env: CommandEnv): void {
  const route = program.command('route').description('Manage model routes (one provider + model each)');
  route.addHelpText('after', `\nProviders: ${providerIds().join(', ')}.`);

  route
    .command('add')
    .description('Add a model route (on an OpenShell gateway as its own workspace, or local)')
    .argument('<provider/model>', 'e.g. lmstudio/qwen/qwen3.5-9b, ollama/llama3.2, openai/gpt-4o-mini')
    .option('-e, --endpoint <url>', 'base URL with /v1 (local servers are found on their usual ports when omitted)')
    .option('-n, --name <name>', 'route name (default: the sanitised model id)')
    .option('-d, --default', 'make it the default route')
    .option('--timeout <duration>', 'per-request upstream timeout (default 600s, long enough for reasoning models)')
    .option('-g, --gateway <name>', `OpenShell gateway for the route (default when openshell is installed: "${DEFAULT_GATEWAY}", started on demand)`)
    .option('--no-gateway', 'keep the route local (bubblewrap sandboxes only), even when openshell is installed')
    .option('--json', 'print the route as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ logos route add lmstudio/qwen/qwen3.5-9b --default
  $ logos route add ollama/llama3.2 --endpoint http://127.0.0.1:11434/v1
  $ logos route add openai/gpt-4o-mini --gateway lab
  $ logos route add custom/my-model --endpoint http://10.0.0.5:8000/v1 --name lab-model --no-gateway

On a gateway the route is an OpenShell workspace with its own provider and inference route,
so one gateway serves many models. A local server's 127.0.0.1 endpoint is given to a local
gateway as host.openshell.internal.`,
    )
    .action(async (spec: string, opts: JsonOpt & { endpoint?: string; name?: string; default?: boolean; timeout?: string; gateway?: string | false }) => {
      setJson(env, opts);
      const timeoutSec = opts.timeout ? Math.ceil(parseDuration(opts.timeout, { flag: '--timeout', min: 1000, max: 86_400_000 }) / 1000) : undefined;
      const a = await app(env);
      const ce = colors(env.io, 'err');
      const progress = !opts.json && env.io.errTTY ? (m: string) => env.io.err.write(`${ce.dim('•')} ${m}\n`) : undefined;
      const res = await addRouteUseCase(
        a,
        {
          spec,
          ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.default ? { makeDefault: true } : {}),
          ...(timeoutSec !== undefined ? { timeoutSec } : {}),
          ...(opts.gateway !== undefined ? { gateway: opts.gateway } : {}),
        },
        progress ? { onProgress: progress } : {},
      );
      const routeRec = res.route;
      if (opts.json) {
        printJson(env.io, { ok: true, route: routeRec, default: res.isDefault, endpoint_source: res.endpointSource, ...(res.warning ? { warning: res.warning } : {}) });
        return;
      }
      const c = colors(env.io);
      const where = routeRec.gateway ? ` on gateway ${routeRec.gateway} (workspace ${routeRec.workspace})` : '';
      printLine(env.io, `${c.green('✓')} Route ${c.bold(routeRec.name)} → ${routeRec.provider}/${routeRec.model} at ${routeRec.endpoint}${where}${res.isDefault ? ' (default)' : ''}`);
      if (res.warning) env.io.err.write(`${colors(env.io, 'err').yellow('!')} ${res.warning}\n`);
    });

  route
    .command('sync')
    .description("Re-push a gateway route's credential and base URL into its workspace")
    .argument('[name]', 'route name')
    .option('--all', 'every route on a gateway')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nRuns by itself before every OpenShell sandbox spawn and after `logos creds set`.\n\nExamples:\n  $ logos route sync qwen-qwen3-5-9b\n  $ logos route sync --all')
    .action(async (name: string | undefined, opts: JsonOpt & { all?: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      if (!name && !opts.all) throw new LogosError('USAGE', 'Name a route or pass --all.', { hint: 'e.g. `logos route sync --all`.' });
      const results = await syncRoutesUseCase(a, name);
      if (results.some((x) => !x.ok)) env.exitCode = 1;
      if (opts.json) {
        printJson(env.io, { ok: results.every((x) => x.ok), results });
        return;
      }
      const c = colors(env.io);
      if (results.length === 0) printLine(env.io, 'No routes on a gateway.');
      for (const x of results) {
        printLine(env.io, x.ok ? `${c.green('✓')} ${x.route}${x.skipped ? ` (${x.skipped})` : ' synced'}` : `${c.red('✗')} ${x.route}: ${x.error?.message}`);
      }
    });

  route
    .command('list')
    .description('List model routes')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const { routes, default: def } = await listRoutes(a.routeCtx());
      if (opts.json) {
        printJson(env.io, routes.map((r) => ({ ...r, default: r.name === def })));
        return;
      }
      if (routes.length === 0) {
        printLine(env.io, 'No routes yet. Add one with `logos route add <provider>/<model>` (or try `logos demo`).');
        return;
      }
      printLine(
        env.io,
        table(
          routes.map((r) => [`${r.name === def ? '* ' : '  '}${r.name}`, `${r.provider}/${r.model}`, r.endpoint, r.gateway ?? '-', r.status, r.demo ? 'demo' : '']),
          ['  NAME', 'MODEL', 'ENDPOINT', 'GATEWAY', 'STATUS', ''],
        ).trimEnd(),
      );
    });

  route
    .command('show')
    .description('Show one route')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const r = await getRoute(a.routeCtx(), name);
      const { default: def } = await listRoutes(a.routeCtx());
      const used = await sandboxesUsingRoute(a.sandboxCtx(), name);
      if (opts.json) {
        printJson(env.io, { ...r, default: def === r.name, sandboxes: used });
        return;
      }
      const rows: Array<[string, string]> = [
        ['Name', r.name + (def === r.name ? ' (default)' : '')],
        ['Provider', r.provider],
        ['Model', r.model],
        ['API', r.api],
        ['Endpoint', r.endpoint],
        ['Timeout', `${r.timeout_sec}s`],
        ['Status', r.status + (r.status_detail ? ` (${r.status_detail})` : '')],
        ['Gateway', r.gateway ? `${r.gateway} (workspace ${r.workspace})` : 'none (local sandboxes only)'],
        ['Created', r.created_at],
        ['Sandboxes', used.length ? used.join(', ') : '-'],
      ];
      if (r.demo) rows.push(['Note', 'demo route (its server runs only during `logos demo`)']);
      printFields(env.io, rows);
    });

  route
    .command('remove')
    .description('Remove a route (and its workspace on the gateway)')
    .argument('<name>')
    .option('--force', 'also delete the sandboxes that use it')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt & { force?: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      const { removed, deletedSandboxes: used } = await removeRouteUseCase(a, name, !!opts.force);
      if (opts.json) printJson(env.io, { ok: true, removed: removed.name, deleted_sandboxes: used });
      else printLine(env.io, `${colors(env.io).green('✓')} Removed route ${removed.name}${used.length ? ` and sandbox${used.length > 1 ? 'es' : ''} ${used.join(', ')}` : ''}`);
    });

  route
    .command('set-default')
    .description('Make a route the default')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      await setDefaultRoute(a.routeCtx(), name);
      if (opts.json) printJson(env.io, { ok: true, default: name });
      else printLine(env.io, `${colors(env.io).green('✓')} Default route is now ${name}`);
    });

}
