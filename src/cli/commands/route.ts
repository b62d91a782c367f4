import type { Command } from 'commander';
import { LogosError } from '../../core/errors.js';
import { parseDuration } from '../../core/names.js';
import { addRoute, getRoute, listRoutes, removeRoute, setDefaultRoute } from '../../core/routes.js';
import { sandboxesUsingRoute } from '../../core/sandboxes.js';
import { providerIds } from '../../core/providers.js';
import { colors, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

export function registerRoute(program: Command, env: CommandEnv): void {
  const route = program.command('route').description('Manage model routes (one provider + model each)');
  route.addHelpText('after', `\nProviders: ${providerIds().join(', ')}.`);

  route
    .command('add')
    .description('Add a model route')
    .argument('<provider/model>', 'e.g. lmstudio/qwen/qwen3.5-9b, ollama/llama3.2, openai/gpt-4o-mini')
    .option('-e, --endpoint <url>', 'base URL with /v1 (local servers are found on their usual ports when omitted)')
    .option('-n, --name <name>', 'route name (default: the sanitised model id)')
    .option('-d, --default', 'make it the default route')
    .option('--timeout <duration>', 'per-request upstream timeout (default 600s, long enough for reasoning models)')
    .option('--json', 'print the route as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ logos route add lmstudio/qwen/qwen3.5-9b --default
  $ logos route add ollama/llama3.2 --endpoint http://127.0.0.1:11434/v1
  $ logos route add custom/my-model --endpoint http://10.0.0.5:8000/v1 --name lab`,
    )
    .action(async (spec: string, opts: JsonOpt & { endpoint?: string; name?: string; default?: boolean; timeout?: string }) => {
      setJson(env, opts);
      const a = await app(env);
      const res = await addRoute(a.routeCtx(), {
        spec,
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.default ? { makeDefault: true } : {}),
        ...(opts.timeout ? { timeoutSec: Math.ceil(parseDuration(opts.timeout) / 1000) } : {}),
      });
      if (opts.json) {
        printJson(env.io, { ok: true, route: res.route, default: res.isDefault, endpoint_source: res.endpointSource, ...(res.warning ? { warning: res.warning } : {}) });
        return;
      }
      const c = colors(env.io);
      printLine(env.io, `${c.green('✓')} Route ${c.bold(res.route.name)} → ${res.route.provider}/${res.route.model} at ${res.route.endpoint}${res.isDefault ? ' (default)' : ''}`);
      if (res.warning) env.io.err.write(`${colors(env.io, 'err').yellow('!')} ${res.warning}\n`);
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
          routes.map((r) => [`${r.name === def ? '* ' : '  '}${r.name}`, `${r.provider}/${r.model}`, r.endpoint, r.status, r.demo ? 'demo' : '']),
          ['  NAME', 'MODEL', 'ENDPOINT', 'STATUS', ''],
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
        ['Created', r.created_at],
        ['Sandboxes', used.length ? used.join(', ') : '-'],
      ];
      if (r.demo) rows.push(['Note', 'demo route (its server runs only during `logos demo`)']);
      for (const [k, v] of rows) printLine(env.io, `${`${k}:`.padEnd(11)} ${v}`);
    });

  route
    .command('remove')
    .description('Remove a route')
    .argument('<name>')
    .option('--force', 'remove even while sandboxes use it')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt & { force?: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      const used = await sandboxesUsingRoute(a.sandboxCtx(), name);
      const removed = await removeRoute(a.routeCtx(), name, used, !!opts.force);
      if (opts.json) printJson(env.io, { ok: true, removed: removed.name });
      else printLine(env.io, `${colors(env.io).green('✓')} Removed route ${removed.name}`);
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

  route.action(() => {
    throw new LogosError('USAGE', 'Missing subcommand.', { hint: 'Try `logos route list` or `logos route --help`.' });
  });
}
