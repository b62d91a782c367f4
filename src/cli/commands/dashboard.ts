import type { Command } from 'commander';
import { EXIT_CODES, LogosError } from '../../core/errors.js';
import type { DataSourceFactory } from '../dashboard-source.js';
import type { CommandEnv } from '../main.js';
import { setJson, type JsonOpt } from '../shared.js';

/**
 * `logos dashboard [--readonly]`: the interactive TUI. ink and react load only here,
 * and only once it is clear there is a terminal to draw on.
 */

export interface DashboardOpts extends JsonOpt {
  readonly?: boolean;
  /** true: --daemon, false: --no-daemon, undefined: the daemon if it runs. */
  daemon?: boolean;
}

export function registerDashboard(program: Command, env: CommandEnv): void {
  program
    .command('dashboard')
    .description('Watch and drive Logos from one screen: gateways, routes, sandboxes, runs and the log, live')
    .option('--readonly', 'look only: hide every action that changes something')
    .option('--daemon', 'use the daemon, starting it if it is not running (live updates; runs outlive the dashboard)')
    .option('--no-daemon', 'read the state files and the log (polled every second) even when a daemon runs')
    .option('--json', 'not available: the dashboard is interactive (use `logos status --json`)')
    .addHelpText(
      'after',
      `
Keys: Tab / : switch panes (:gateways :routes :sandboxes :runs :logs), / filters,
Enter opens, Esc goes back, ? lists every key, q quits.

Examples:
  $ logos dashboard
  $ logos dashboard --readonly                  # on a shared screen
  $ logos dashboard --daemon                    # start the daemon first if needed
  $ logos dashboard --no-daemon                 # straight from the files

With no daemon running it asks whether to start one (Enter: no, read the files).
Runs started from the dashboard without a daemon run inside it: quitting cancels them.

Needs a terminal. In scripts use \`logos status --json\` and \`logos debug tail --follow\`.`,
    )
    .action(async (opts: DashboardOpts) => {
      setJson(env, opts);
      const factory = (await import('../dashboard-source.js')).dashboardSource;
      await dashboardCommand(env, opts, factory);
    });
}

export async function dashboardCommand(env: CommandEnv, opts: DashboardOpts, factory: DataSourceFactory): Promise<void> {
  const { io } = env;
  if (!io.stdinTTY || !io.isTTY) {
    throw new LogosError('NO_TTY', `logos dashboard needs a terminal, and ${!io.stdinTTY ? 'stdin' : 'stdout'} is not one.`, {
      hint: 'For scripts: `logos status --json` (a snapshot) or `logos debug tail --follow` (the live log).',
    });
  }
  if (opts.json) {
    throw new LogosError('INVALID_ARGUMENT', 'logos dashboard is interactive and has no JSON output.', {
      hint: 'For scripts: `logos status --json` (a snapshot) or `logos debug tail --follow --json` (the live log).',
    });
  }
  // The data source first (it may fail, e.g. no state to read) so the screen is never taken for nothing.
  const { promptYesNo } = await import('../io.js');
  const [tui, source] = await Promise.all([
    import('../load-tui.js').then((m) => m.loadTui()),
    factory(env, { ...(opts.daemon !== undefined ? { daemon: opts.daemon } : {}), ask: (q) => promptYesNo(io, q) }),
  ]);
  const controller = new AbortController();
  let signalled = false;
  // A signal (SIGTERM, or SIGINT sent from outside; Ctrl-C at the keyboard is a key ink handles) ends the dashboard cleanly.
  env.interrupt = () => {
    signalled = true;
    controller.abort();
    return true;
  };
  try {
    await tui.runDashboard({
      source,
      readonly: opts.readonly === true,
      color: !process.env.NO_COLOR,
      stdin: io.stdin,
      // The raw terminal: ink draws with cursor movement, which the human-output filter would strip. Data is cleaned inside the TUI.
      stdout: io.term ?? io.out,
      stderr: io.err,
      signal: controller.signal,
    });
  } finally {
    env.interrupt = undefined;
    await source.close?.();
  }
  if (signalled) env.exitCode = EXIT_CODES.CANCELLED;
}
