import type { Command } from 'commander';
import { parseWholeNumber } from '../../core/names.js';
import {
  DEFAULT_GATEWAY,
  gatewayDown,
  gatewayList,
  gatewayRegister,
  gatewayStatus,
  gatewayUnregister,
  gatewayUp,
} from '../../core/gateways.js';
import { colors, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

/** openshell's own default: `openshell` for a loopback endpoint, else the URL's host (as a gateway name). */
export function defaultGatewayName(endpoint: string): string {
  let host = '';
  try {
    host = new URL(endpoint).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return 'openshell';
  }
  if (['127.0.0.1', 'localhost', '::1'].includes(host) || host.startsWith('127.')) return 'openshell';
  return host.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'openshell';
}

/** Quote an argv for display (copy-paste into a POSIX shell). */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function parsePort(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  return parseWholeNumber(v, { flag: '--port', min: 1, max: 65535 });
}

export function registerGateway(program: Command, env: CommandEnv): void {
  const gw = program.command('gateway').description('OpenShell gateways: local ones as docker containers, remote ones registered');

  gw.command('up')
    .description('Start (or adopt) a local gateway container and register it with openshell')
    .argument('[name]', 'gateway name', DEFAULT_GATEWAY)
    .option('-p, --port <port>', 'host port on 127.0.0.1 (default: the first free one in gatewayPortRange)')
    .option('--dry-run', 'print the docker and openshell commands instead of running them')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ logos gateway up                      # gateway "logos" on a free port from 17670
  $ logos gateway up lab --port 17680
  $ logos gateway up --dry-run            # see exactly what would run

The gateway image is pinned to the installed openshell version (client/server skew breaks calls),
from ghcr.io/nvidia/openshell up to 0.1.9 and quay.io/ai-openshell from 0.1.10. Logos writes its
gateway.toml (shown by --dry-run). On OpenShell 0.1.x the gateway accepts unauthenticated calls,
which is safe only because its port is bound to 127.0.0.1. Running it again when it is up
changes nothing; a container of another version or an older Logos is recreated (state kept).`,
    )
    .action(async (name: string, opts: JsonOpt & { port?: string; dryRun?: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      const planned: string[][] = [];
      const notes: string[] = [];
      const ce = colors(env.io, 'err');
      const progress = !opts.json && env.io.errTTY ? (m: string) => env.io.err.write(`${ce.dim('•')} ${m}\n`) : undefined;
      const port = parsePort(opts.port);
      const dry = opts.dryRun ? { dryRun: (argv: string[]) => planned.push(argv), dryRunNote: (t: string) => notes.push(t) } : {};
      const res = await gatewayUp(a.gatewayCtx({ ...dry, ...(progress ? { progress } : {}) }), {
        name,
        ...(port !== undefined ? { port } : {}),
      });
      if (opts.dryRun) {
        if (opts.json) {
          printJson(env.io, { ok: true, dry_run: true, commands: planned, notes, ...(res.config ? { config: res.config } : {}) });
          return;
        }
        if (res.config) {
          printLine(env.io, `# ${res.config.path}`);
          for (const l of res.config.text.trimEnd().split('\n')) printLine(env.io, `#   ${l}`);
        }
        for (const argv of planned) printLine(env.io, shellQuote(argv));
        for (const n of notes) printLine(env.io, `# ${n}`);
        return;
      }
      if (opts.json) {
        printJson(env.io, { ok: true, gateway: res.gateway, already_running: res.alreadyRunning, ...(res.recreated ? { recreated: res.recreated } : {}) });
        return;
      }
      const c = colors(env.io);
      if (res.recreated) env.io.err.write(`${colors(env.io, 'err').yellow('!')} Recreated ${res.gateway.container}: ${res.recreated}\n`);
      printLine(env.io, res.alreadyRunning ? `${c.green('✓')} Gateway ${name} is already up at ${res.gateway.endpoint}` : `${c.green('✓')} Gateway ${name} is up at ${res.gateway.endpoint}`);
    });

  gw.command('down')
    .description('Stop and remove a local gateway container Logos started, and unregister it (its state volume is kept)')
    .argument('[name]', 'gateway name', DEFAULT_GATEWAY)
    .option('--dry-run', 'print the commands instead of running them')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt & { dryRun?: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      const planned: string[][] = [];
      const rec = await gatewayDown(a.gatewayCtx(opts.dryRun ? { dryRun: (argv) => planned.push(argv) } : {}), name);
      if (opts.dryRun) {
        if (opts.json) printJson(env.io, { ok: true, dry_run: true, commands: planned });
        else for (const argv of planned) printLine(env.io, shellQuote(argv));
        return;
      }
      if (opts.json) printJson(env.io, { ok: true, gateway: rec });
      else printLine(env.io, `${colors(env.io).green('✓')} Gateway ${name} is down (state kept in volume ${rec.volume ?? '-'}; \`logos gateway up ${name}\` brings it back)`);
    });

  gw.command('add')
    .description('Register a gateway Logos did not start: a remote cluster, or a package-managed local one')
    .argument('<endpoint>', 'gateway URL, e.g. https://gw.example.org or https://127.0.0.1:17670')
    .option('-n, --name <name>', 'gateway name (default, as openshell does: "openshell" for a loopback endpoint, else its host)')
    .option('--remote <user@host>', 'remote gateway reached over SSH (mTLS certificates from that host)')
    .option('--local', 'a gateway on this machine (mTLS certificates found locally)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ logos gateway add https://127.0.0.1:17670 --local      # the gateway your OpenShell package runs (mTLS)
  $ logos gateway add https://gw.lab.example:17670 --name lab
  $ logos gateway add http://127.0.0.1:8080 --name dev --local

openshell makes a gateway it registers the active one; Logos puts your active gateway back.`,
    )
    .action(async (endpoint: string, opts: JsonOpt & { name?: string; remote?: string; local?: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      const res = await gatewayRegister(a.gatewayCtx(), {
        name: opts.name ?? defaultGatewayName(endpoint),
        endpoint,
        ...(opts.remote ? { remote: opts.remote } : {}),
        ...(opts.local ? { local: true } : {}),
      });
      const reachable = res.status.status === 'connected';
      if (opts.json) {
        printJson(env.io, { ok: true, gateway: res.gateway, reachable, status: res.status });
        return;
      }
      const c = colors(env.io);
      printLine(env.io, `${c.green('✓')} Gateway ${res.gateway.name} registered (${res.gateway.kind}, ${res.gateway.endpoint})`);
      if (!reachable) env.io.err.write(`${colors(env.io, 'err').yellow('!')} It does not answer right now: ${res.status.error ?? res.status.status}\n`);
    });

  gw.command('remove')
    .description('Unregister a gateway (a local one must be down first)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const onIt = Object.values((await a.routes.read()).routes)
        .filter((r) => r.gateway === name)
        .map((r) => r.name);
      await gatewayUnregister(a.gatewayCtx(), name, onIt);
      if (opts.json) printJson(env.io, { ok: true, removed: name });
      else printLine(env.io, `${colors(env.io).green('✓')} Removed gateway ${name}`);
    });

  gw.command('list')
    .description("List gateways: Logos' records merged with openshell's and docker's view")
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const { gateways, warnings } = await gatewayList(a.gatewayCtx());
      if (opts.json) {
        printJson(env.io, { gateways, warnings });
        return;
      }
      for (const w of warnings) env.io.err.write(`${colors(env.io, 'err').yellow('!')} ${w}\n`);
      if (gateways.length === 0) {
        printLine(env.io, 'No gateways. Start a local one with `logos gateway up`, or register one with `logos gateway add <endpoint> --name <n>`.');
        return;
      }
      printLine(
        env.io,
        table(
          gateways.map((g) => [g.name, g.endpoint, g.kind, g.managed ? 'logos' : 'external', g.registered ? 'yes' : 'no', g.state ?? '-']),
          ['NAME', 'ENDPOINT', 'KIND', 'STARTED BY', 'REGISTERED', 'STATE'],
        ),
      );
    });

  gw.command('status')
    .description('Reachability, version and sandbox count of one gateway or all')
    .argument('[name]', 'gateway name (default: all known)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      let names: string[];
      if (name) names = [name];
      else {
        const { gateways } = await gatewayList(a.gatewayCtx());
        names = gateways.filter((g) => g.state !== 'down').map((g) => g.name);
      }
      const sandboxes = Object.values((await a.sandboxes.read()).sandboxes).filter((sb) => sb.driver === 'openshell');
      const statuses = await gatewayStatus(a.gatewayCtx(), names, sandboxes);
      if (opts.json) {
        printJson(env.io, statuses);
      } else if (statuses.length === 0) {
        printLine(env.io, 'No gateways to check. Start one with `logos gateway up`.');
      } else {
        const c = colors(env.io);
        printLine(
          env.io,
          table(
            statuses.map((s) => [
              s.name,
              s.reachable ? c.green('reachable') : c.red(s.status === 'connected_http' ? 'gRPC down' : s.status),
              s.version ?? '-',
              s.cli_version ?? '-',
              s.sandboxes === undefined ? '-' : String(s.sandboxes),
              `${s.latency_ms}ms`,
              s.error ?? '',
            ]),
            ['NAME', 'STATUS', 'GATEWAY', 'CLI', 'SANDBOXES', 'LATENCY', 'ERROR'],
          ),
        );
        for (const s of statuses) {
          if (s.auth) printLine(env.io, `${c.dim(`${s.name}: authentication:`)} ${s.auth}`);
          for (const adv of s.advice ?? []) printLine(env.io, `${c.yellow('!')} ${s.name}: ${adv}`);
        }
      }
      if (name && statuses.every((s) => !s.reachable)) env.exitCode = 7;
    });
}
