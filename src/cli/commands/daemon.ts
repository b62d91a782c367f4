import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../adapters/assets.js';
import { findExecutable } from '../../adapters/exec/which.js';
import { LogosError } from '../../core/errors.js';
import { parseWholeNumber } from '../../core/names.js';
import { findDaemon } from '../../daemon/client.js';
import { liveDaemon, processStartTicks, tokenMode } from '../../daemon/files.js';
import { logosHomeSetting, resolvePaths, systemdUserUnit } from '../../store/paths.js';
import { startDaemonProcess } from '../daemon-process.js';
import { colors, printFields, printJson, printLine } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, cancellable, setJson, type JsonOpt } from '../shared.js';

/**
 * `logos daemon start|stop|restart|status|run|install|uninstall`. `run` is the
 * daemon in the foreground (systemd, containers); `start` runs that in the
 * background and waits until it answers.
 */

const STOP_WAIT_MS = 15_000;

function bin(): string {
  return join(packageRoot(), 'bin', 'logos.js');
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

function describe(info: { pid: number; host: string; port: number; started_at: string; version: string }, tokenFile: string): Record<string, unknown> {
  return { running: true, pid: info.pid, host: info.host, port: info.port, url: `http://${info.host}:${info.port}/v1`, started_at: info.started_at, version: info.version, token_file: tokenFile };
}

export function registerDaemon(program: Command, env: CommandEnv): void {
  const d = program.command('daemon').description('The Logos daemon: an HTTP + WebSocket API, live events and health probes for this home');
  d.addHelpText(
    'after',
    `
Examples:
  $ logos daemon start && logos daemon status
  $ curl -s -H "Authorization: Bearer $(cat "$(logos daemon status --json | jq -r .token_file)")" http://127.0.0.1:17600/v1/status
  $ logos daemon install          # a systemd user unit (Restart=on-failure)
  $ logos daemon run              # in the foreground (systemd, containers)`,
  );

  d.command('run')
    .description('Run the daemon in the foreground until SIGTERM or Ctrl-C')
    .option('--port <port>', 'port to listen on (default: daemonPort from the settings, 17600; 0: any free port)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1; elsewhere every request needs the token)')
    .option('--json', 'print the address as JSON once listening')
    .action(async (opts: JsonOpt & { port?: string; host?: string }) => {
      setJson(env, opts);
      const port = opts.port !== undefined ? parseWholeNumber(opts.port, { flag: '--port', min: 0, max: 65535 }) : undefined;
      const a = await app(env);
      const { startDaemon } = await import('../../daemon/server.js');
      await cancellable(env, async () => {
        const daemon = await startDaemon(a, { ...(port !== undefined ? { port } : {}), ...(opts.host ? { host: opts.host } : {}) });
        // One line, so a supervisor or a script can read the address as soon as it is there.
        if (opts.json) env.io.out.write(`${JSON.stringify({ ok: true, pid: process.pid, host: daemon.host, port: daemon.port })}\n`);
        else printLine(env.io, `Logos daemon listening on http://${daemon.host}:${daemon.port}/v1 (pid ${process.pid})`);
        const onAbort = (): void => void daemon.stop('stopping (signal)');
        env.signal.addEventListener('abort', onAbort, { once: true });
        await daemon.stopped;
      });
    });

  d.command('start')
    .description('Start the daemon in the background (nothing happens if it already runs)')
    .option('--port <port>', 'port to listen on (default: daemonPort from the settings)')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt & { port?: string }) => {
      setJson(env, opts);
      const port = opts.port !== undefined ? parseWholeNumber(opts.port, { flag: '--port', min: 0, max: 65535 }) : undefined;
      const paths = resolvePaths();
      const already = findDaemon(paths);
      if (already) {
        if (opts.json) printJson(env.io, { ok: true, already_running: true, ...describe(already.info, paths.daemonTokenFile) });
        else printLine(env.io, `The daemon already runs (pid ${already.info.pid}, http://${already.info.host}:${already.info.port}/v1).`);
        return;
      }
      const client = await startDaemonProcess(paths, port !== undefined ? { port } : {});
      if (opts.json) printJson(env.io, { ok: true, ...describe(client.info, paths.daemonTokenFile) });
      else printLine(env.io, `${colors(env.io).green('✓')} Daemon started (pid ${client.info.pid}, http://${client.info.host}:${client.info.port}/v1)`);
    });

  const stopDaemon = async (): Promise<number | undefined> => {
    const paths = resolvePaths();
    const info = liveDaemon(paths.daemonPidFile);
    if (!info) return undefined;
    process.kill(info.pid, 'SIGTERM');
    // Stopped means the process is gone, not only its pid file (removed first, while the daemon
    // still finishes its runs' records and its last log line): the caller may restart it or remove the home.
    const running = (): boolean => processStartTicks(info.pid) === info.start_ticks;
    const deadline = Date.now() + STOP_WAIT_MS;
    while (running() && Date.now() < deadline) await sleep(50);
    if (running()) {
      process.kill(info.pid, 'SIGKILL');
      while (running() && Date.now() < deadline + 5_000) await sleep(50);
    }
    return info.pid;
  };

  d.command('stop')
    .description('Stop the daemon (its runs are cancelled)')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const pid = await stopDaemon();
      if (pid === undefined) throw new LogosError('DAEMON_NOT_RUNNING', 'No daemon runs for this home.', { hint: 'Start one with `logos daemon start`.' });
      if (opts.json) printJson(env.io, { ok: true, stopped: pid });
      else printLine(env.io, `${colors(env.io).green('✓')} Daemon stopped (pid ${pid})`);
    });

  d.command('restart')
    .description('Stop the daemon if it runs, then start it')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      await stopDaemon();
      const paths = resolvePaths();
      const client = await startDaemonProcess(paths);
      if (opts.json) printJson(env.io, { ok: true, ...describe(client.info, paths.daemonTokenFile) });
      else printLine(env.io, `${colors(env.io).green('✓')} Daemon restarted (pid ${client.info.pid})`);
    });

  d.command('status')
    .description('Whether the daemon runs, where, and since when (exit 3 when it does not)')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const paths = resolvePaths();
      const client = findDaemon(paths);
      if (!client) {
        if (opts.json) printJson(env.io, { ok: false, running: false });
        else printLine(env.io, 'No daemon runs for this home. Start one with `logos daemon start`.');
        env.exitCode = 3;
        return;
      }
      const health = await client.get<{ uptime_s?: number }>('/v1/health', { timeoutMs: 2000 }).catch((e: Error) => ({ error: e.message }));
      const out = { ...describe(client.info, paths.daemonTokenFile), token_mode: (tokenMode(paths.daemonTokenFile) ?? 0).toString(8).padStart(4, '0'), health };
      if (opts.json) {
        printJson(env.io, out);
        return;
      }
      printFields(env.io, [
        ['Daemon', `running (pid ${client.info.pid})`],
        ['API', `http://${client.info.host}:${client.info.port}/v1`],
        ['Started', client.info.started_at],
        ['Version', client.info.version],
        ['Token', `${paths.daemonTokenFile} (mode ${out.token_mode})`],
      ]);
    });

  d.command('install')
    .description('Write a systemd user unit for the daemon (and print how to enable it)')
    .option('--json', 'print JSON')
    .action((opts: JsonOpt) => {
      setJson(env, opts);
      if (!findExecutable('systemctl')) {
        throw new LogosError('INVALID_ARGUMENT', 'systemd (systemctl) is not available here, so there is no user unit to install.', {
          hint: 'Run the daemon another way: `logos daemon start` (background), or `logos daemon run` under your own supervisor.',
        });
      }
      const file = systemdUserUnit('logos.service');
      const home = logosHomeSetting();
      const envLines = home ? `Environment=LOGOS_HOME=${home}` : '# Environment=LOGOS_HOME=…  (set it to use another home)';
      const unit = readFileSync(join(packageRoot(), 'templates', 'logos.service'), 'utf8').replace('{{NODE}}', process.execPath).replace('{{BIN}}', bin()).replace('{{ENVIRONMENT}}', envLines);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, unit, { mode: 0o644 });
      const next = ['systemctl --user daemon-reload', 'systemctl --user enable --now logos', 'loginctl enable-linger "$USER"   # keep it running without a login session'];
      if (opts.json) printJson(env.io, { ok: true, unit: file, next });
      else {
        printLine(env.io, `${colors(env.io).green('✓')} Wrote ${file}`);
        printLine(env.io, 'Enable it with:');
        for (const n of next) printLine(env.io, `  ${n}`);
      }
    });

  d.command('uninstall')
    .description('Remove the systemd user unit (stop and disable it first)')
    .option('--json', 'print JSON')
    .action((opts: JsonOpt) => {
      setJson(env, opts);
      const file = systemdUserUnit('logos.service');
      const had = existsSync(file);
      if (had) rmSync(file);
      const next = had ? ['systemctl --user disable --now logos', 'systemctl --user daemon-reload'] : [];
      if (opts.json) printJson(env.io, { ok: true, removed: had ? file : null, next });
      else printLine(env.io, had ? `${colors(env.io).green('✓')} Removed ${file} (run: ${next.join(' && ')})` : `No unit at ${file}.`);
    });
}
