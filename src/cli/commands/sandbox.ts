import type { Command } from 'commander';
import { LogosError } from '../../core/errors.js';
import { parseWholeNumber } from '../../core/names.js';
import { resolveRoute } from '../../core/routes.js';
import { createSandbox, deleteSandbox, getSandbox, listSandboxes, type DriverKind } from '../../core/sandboxes.js';
import { stripControls } from '../../core/text.js';
import { colors, printFields, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

function parseDriver(v: string | undefined): DriverKind | undefined {
  if (v === undefined) return undefined;
  if (v === 'local' || v === 'openshell') return v;
  throw new LogosError('INVALID_ARGUMENT', `Unknown driver '${v}'.`, { hint: 'Use --driver local (bubblewrap) or --driver openshell.' });
}

export function registerSandbox(program: Command, env: CommandEnv): void {
  const sb = program.command('sandbox').description('Manage sandboxes (each bound to one model route)');

  sb.command('create')
    .description('Create a sandbox')
    .argument('<name>', 'lowercase letters, digits and "-" (OpenShell: at most 19 characters, no "."; local: "." and up to 63 too)')
    .option('--driver <driver>', 'local (bubblewrap) or openshell (default: openshell for routes on a gateway, else local)')
    .option('-r, --route <route>', 'model route, by name or provider/model (default: the default route); fixed for the sandbox\'s life')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ logos sandbox create work\n  $ logos sandbox create review --driver local --route qwen-qwen3-5-9b')
    .action(async (name: string, opts: JsonOpt & { driver?: string; route?: string }) => {
      setJson(env, opts);
      const a = await app(env);
      const route = await resolveRoute(a.routeCtx(), opts.route);
      const rec = await createSandbox(a.sandboxCtx(), { name, driver: parseDriver(opts.driver) ?? a.driverForRoute(route), route });
      if (opts.json) printJson(env.io, { ok: true, sandbox: rec });
      else printLine(env.io, `${colors(env.io).green('✓')} Sandbox ${rec.name} (${rec.driver}, route ${rec.route})${rec.dir ? ` at ${rec.dir}` : ''}`);
    });

  sb.command('list')
    .description('List sandboxes with their measured state')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const list = await listSandboxes(a.sandboxCtx());
      const withStatus = await Promise.all(list.map(async (s) => ({ ...s, status: await a.driver(s.driver).status(s) })));
      if (opts.json) {
        printJson(env.io, withStatus);
        return;
      }
      if (list.length === 0) {
        printLine(env.io, 'No sandboxes yet. Create one with `logos sandbox create <name>` (or just `logos run`).');
        return;
      }
      printLine(env.io, table(withStatus.map((s) => [s.name, s.driver, s.route, s.status.phase, s.created_at]), ['NAME', 'DRIVER', 'ROUTE', 'PHASE', 'CREATED']));
    });

  sb.command('show')
    .description('Show one sandbox')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const s = await getSandbox(a.sandboxCtx(), name);
      const status = await a.driver(s.driver).status(s);
      if (opts.json) {
        printJson(env.io, { ...s, status });
        return;
      }
      const rows: Array<[string, string]> = [
        ['Name', s.name],
        ['Driver', s.driver],
        ['Route', s.route],
        ['Phase', status.phase + (status.detail ? ` (${status.detail})` : '')],
        ['Created', s.created_at],
      ];
      if (s.dir) rows.push(['Directory', s.dir]);
      if (s.gateway) rows.push(['Gateway', `${s.gateway} (workspace ${s.workspace ?? '-'})`]);
      printFields(env.io, rows);
    });

  sb.command('delete')
    .description('Delete a sandbox and its files')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const rec = await deleteSandbox(a.sandboxCtx(), name);
      if (opts.json) printJson(env.io, { ok: true, deleted: rec.name });
      else printLine(env.io, `${colors(env.io).green('✓')} Deleted sandbox ${rec.name}`);
    });

  sb.command('logs')
    .description('Show the worker log kept inside a sandbox')
    .argument('<name>')
    .option('-n, --lines <n>', 'how many lines', '50')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt & { lines: string }) => {
      setJson(env, opts);
      const n = parseWholeNumber(opts.lines, { flag: '--lines', min: 1, max: 100_000 });
      const a = await app(env);
      const s = await getSandbox(a.sandboxCtx(), name);
      const lines = await a.driver(s.driver).logs(s, n);
      if (opts.json) {
        printJson(
          env.io,
          lines.map((l) => {
            try {
              return JSON.parse(l) as unknown;
            } catch {
              return { raw: l };
            }
          }),
        );
        return;
      }
      if (lines.length === 0) printLine(env.io, `No worker log in sandbox ${name} yet.`);
      // The worker wrote these lines: show them, but never let them drive the terminal.
      for (const l of lines) printLine(env.io, stripControls(l));
    });
}
