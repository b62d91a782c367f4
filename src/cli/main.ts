import { Command, CommanderError } from 'commander';
import { packageVersion } from '../adapters/assets.js';
import { EXIT_CODES, LogosError, toLogosError } from '../core/errors.js';
import { humanIo, processIo, type Io } from './io.js';
import { renderError } from './render-error.js';

export { renderError };

/**
 * The CLI entry: the only place that prints errors and decides the exit code.
 * Commands throw LogosError; this renders it (text, or JSON with --json).
 */

export function version(): string {
  return packageVersion();
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
  /**
   * A command that handles signals itself (e.g. `logos chat`: Ctrl-C cancels the
   * current turn, not the chat) returns true for the signals it took care of.
   */
  interrupt?: (sig: NodeJS.Signals) => boolean;
  /** The unified log's directory, once the app is built (errors name its current file). */
  logDir?: string;
}

type Register = (program: Command, env: CommandEnv) => void;

/**
 * The commands, each loaded only when it runs: `logos runs list` never loads the
 * gateway or run code (and what they pull in). Help and unknown commands load all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./commands/run.js')).registerRun,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  route: async () => (await import('./commands/route.js')).registerRoute,
  sandbox: async () => (await import('./commands/sandbox.js')).registerSandbox,
  gateway: async () => (await import('./commands/gateway.js')).registerGateway,
  image: async () => (await import('./commands/image.js')).registerImage,
  providers: async () => (await import('./commands/providers.js')).registerProviders,
  creds: async () => (await import('./commands/creds.js')).registerCreds,
  runs: async () => (await import('./commands/runs.js')).registerRuns,
  chat: async () => (await import('./commands/chat.js')).registerChat,
  sessions: async () => (await import('./commands/sessions.js')).registerSessions,
  debug: async () => (await import('./commands/debug.js')).registerDebug,
  config: async () => (await import('./commands/config.js')).registerConfig,
  daemon: async () => (await import('./commands/daemon.js')).registerDaemon,
  status: async () => (await import('./commands/status.js')).registerStatus,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  dashboard: async () => (await import('./commands/dashboard.js')).registerDashboard,
};

/** Global options that take no value, so the first other word is the command. */
const GLOBAL_FLAGS = new Set(['--json', '-V', '--version', '-h', '--help']);

/** Which commands to load for these arguments: just the one named, none for a bare --version, or all. */
export function commandsFor(args: string[]): string[] {
  const first = args.find((a) => !GLOBAL_FLAGS.has(a));
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [first];
  if (first === undefined && (args.includes('-V') || args.includes('--version')) && !args.includes('-h') && !args.includes('--help')) return [];
  return Object.keys(COMMANDS);
}

export async function buildProgram(env: CommandEnv, args: string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('logos')
    .description('Run AI agent tasks in sandboxes: a local bubblewrap sandbox by default, OpenShell gateways when you have them.')
    .version(version(), '-V, --version')
    // One mechanism: --json anywhere on the line (before or after the command) sets env.json in main().
    .option('--json', 'print JSON on stdout (every command; errors as {"ok":false,"error":{code,message,hint}})')
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
  $ logos chat                                  # a conversation with the agent, on a terminal
  $ printf %s "$OPENAI_API_KEY" | logos creds set openai --key-stdin
  $ logos runs list --json

Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 environment,
6 local state, 7 sandbox/worker unavailable, 124 timeout, 130 cancelled.`,
    );
  // The command's own `opts.json` follows the global flag wherever it was written.
  program.hook('preAction', (_program, action) => {
    if (env.json) action.setOptionValue('json', true);
  });
  const registers = await Promise.all(commandsFor(args).map((name) => (COMMANDS[name] as () => Promise<Register>)()));
  for (const register of registers) register(program, env);
  return program;
}

export async function main(argv: string[], rawIo: Io = processIo()): Promise<number> {
  const controller = new AbortController();
  const json = argv.includes('--json');
  // --json and `debug tail --raw` print data, not text for a person: it is not filtered.
  const io = humanIo(rawIo, json || argv.includes('--raw'));
  const env: CommandEnv = { io, json, exitCode: 0, signal: controller.signal, cancellable: 0 };
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (env.interrupt?.(sig)) return;
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
    const program = await buildProgram(env, argv.slice(2));
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
