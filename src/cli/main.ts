import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT_CODES, LogosError, toLogosError } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { stripControls } from '../core/text.js';
import { colors, humanIo, processIo, type Io } from './io.js';
import { registerCreds } from './commands/creds.js';
import { registerDebug } from './commands/debug.js';
import { registerDemo } from './commands/demo.js';
import { registerGateway } from './commands/gateway.js';
import { registerProviders } from './commands/providers.js';
import { registerRoute } from './commands/route.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSandbox } from './commands/sandbox.js';

/**
 * The CLI entry: the only place that prints errors and decides the exit code.
 * Commands throw LogosError; this renders it (text, or JSON with --json).
 */

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export interface CommandEnv {
  io: Io;
  /** Set by commands that print JSON, so errors are JSON too. */
  json: boolean;
  /** Exit code a command wants (default 0). */
  exitCode: number;
  /** Aborted on Ctrl-C / SIGTERM while cancellable work runs (see shared.ts `cancellable`). */
  signal: AbortSignal;
  /** How many cancellable operations are running; with none, a signal ends the command at once. */
  cancellable: number;
  logFile?: string;
}

export function buildProgram(env: CommandEnv): Command {
  const program = new Command();
  program
    .name('logos')
    .description('Run AI agent tasks in sandboxes: a local bubblewrap sandbox by default, OpenShell gateways when you have them.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => env.io.out.write(s),
      writeErr: (s) => env.io.err.write(s),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ logos demo                                  # see the whole path work, no model needed
  $ logos route add lmstudio/qwen/qwen3.5-9b --default
  $ logos run "Summarise the README in three lines"
  $ printf %s "$OPENAI_API_KEY" | logos creds set openai --key-stdin
  $ logos runs list --json

Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 environment,
6 local state, 7 sandbox/worker unavailable, 124 timeout, 130 cancelled.`,
    );
  registerRun(program, env);
  registerDemo(program, env);
  registerRoute(program, env);
  registerSandbox(program, env);
  registerGateway(program, env);
  registerProviders(program, env);
  registerCreds(program, env);
  registerRuns(program, env);
  registerDebug(program, env);
  return program;
}

export function renderError(env: CommandEnv, err: LogosError): void {
  if (env.json) {
    env.io.out.write(`${redactText(JSON.stringify({ ok: false, error: err.toJSON() }))}\n`);
    return;
  }
  const c = colors(env.io, 'err');
  // Messages can carry text from a worker or an upstream server: no control sequences.
  env.io.err.write(`${c.red('Error:')} ${stripControls(redactText(err.message))}\n`);
  if (err.hint) env.io.err.write(`${c.dim('Hint:')} ${stripControls(redactText(err.hint))}\n`);
  if (env.logFile && err.exitCode !== EXIT_CODES.USAGE) env.io.err.write(c.dim(`Log: ${env.logFile}\n`));
}

export async function main(argv: string[], rawIo: Io = processIo()): Promise<number> {
  const controller = new AbortController();
  const json = argv.includes('--json');
  const io = humanIo(rawIo, json);
  const env: CommandEnv = { io, json, exitCode: 0, signal: controller.signal, cancellable: 0 };
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstSignalAt === 0) {
      firstSignalAt = now;
      if (env.cancellable > 0) {
        // A task is running: stop it cleanly (worker killed, run recorded as cancelled).
        controller.abort(new LogosError('CANCELLED', `Interrupted by ${sig}.`));
        return;
      }
      // Nothing to clean up (reading input, waiting on a lock, talking to docker):
      // leave at once. State writes are atomic and the runner's exit hook kills
      // any child process group.
      renderError(env, new LogosError('CANCELLED', `Interrupted by ${sig}.`));
      process.exit(EXIT_CODES.CANCELLED);
    }
    // conf's atomic writer (when-exit) re-raises every signal it sees at once; only a
    // second signal from the user (a moment later) means "leave now". The runner's exit
    // hook still kills the child process groups.
    if (now - firstSignalAt > 1000) process.exit(EXIT_CODES.CANCELLED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const program = buildProgram(env);
    await program.parseAsync(argv);
    return env.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      // commander already printed the message
      if (env.json) env.io.out.write(`${JSON.stringify({ ok: false, error: { code: 'USAGE', message: err.message.replace(/^error: /, '') } })}\n`);
      return EXIT_CODES.USAGE;
    }
    const e = toLogosError(err);
    renderError(env, e);
    return e.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
