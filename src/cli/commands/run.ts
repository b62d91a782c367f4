import { open, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXIT_CODES, LogosError, exitCodeFor } from '../../core/errors.js';
import { parseDecimal, parseDuration, parseWholeNumber } from '../../core/names.js';
import { MAX_TASK_BYTES, type Frame, type TaskInput, type ToolName } from '../../core/protocol.js';
import { runTask, type RunTaskResult } from '../../core/run-task.js';
import { stripControls } from '../../core/text.js';
import { DEFAULT_MAX_STEPS, MAX_STEPS_LIMIT, parseToolList } from '../../core/tools.js';
import type { App } from '../../app/context.js';
import { colors, decodeUtf8, formatBytes, readBounded, type Io } from '../io.js';
import type { CommandEnv } from '../main.js';
import { BatchedWriter, RunRenderer } from '../renderer.js';
import { app, cancellable, setJson } from '../shared.js';
import { selectorOf } from '../../adapters/local/prestart.js';

/** Options shared by `logos run` and `logos chat` (one turn of a chat is one run). */
export interface TurnOpts {
  sandbox?: string;
  route?: string;
  system?: string;
  persona?: string;
  session?: string;
  timeout?: string;
  thinking: boolean;
  maxTokens?: string;
  temperature?: string;
  /** `--tools a,b` (a string) or `--no-tools` (false); undefined: the sandbox's default. */
  tools?: string | boolean;
  maxSteps?: string;
  verbose?: boolean;
}

export interface RunOpts extends TurnOpts {
  file?: string;
  json?: boolean;
  attach?: string[];
  /** Send the task to the running daemon (the dashboard then sees it live). */
  daemon?: boolean;
}

/** A turn's options, checked. */
export interface TurnSettings {
  sandbox?: string;
  route?: string;
  system?: string;
  persona?: string;
  session?: string;
  tools?: ToolName[];
  maxSteps?: number;
  attachments: string[];
  timeoutMs?: number;
  params?: TaskInput['params'];
  thinking: boolean;
  verbose: boolean;
  /** `logos run` only: the key its sandbox's start is kept under for the next run (local/prestart.ts). */
  plan?: string;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The options of one turn, on `run` and on `chat`. */
export function addTurnOptions(cmd: Command): Command {
  return cmd
    .option('-s, --sandbox <name>', 'sandbox to run in (default: the sandbox of the route, created on first use)')
    .option('-r, --route <name>', 'model route, by name or as the provider/model it was added with (default: the default route)')
    .option('--session <name>', 'continue (or start) a conversation: its history goes with the task')
    .option('--persona <name>', 'a system prompt shipped with Logos: default, coder, … (default: `default` when tools are on)')
    .option('--system <text>', 'your own system prompt (wins over --persona)')
    .option('--tools <list>', `tools the agent may use, comma-separated: shell, read_file, write_file, edit_file, list_files, search, or all (default: the sandbox's, set at \`sandbox create\`)`)
    .option('--no-tools', 'no tools: a plain chat reply')
    .option('--max-steps <n>', `model calls the agent may make in one task, 1-${MAX_STEPS_LIMIT} (default ${DEFAULT_MAX_STEPS})`)
    .option('-v, --verbose', "on a terminal, also show the tools' output and what the model got back")
    .option('-t, --timeout <duration>', 'deadline for the whole task, e.g. 90s, 10m (default: 600s)')
    .option('--max-tokens <n>', 'limit the reply length')
    .option('--temperature <t>', 'sampling temperature')
    .option('--no-thinking', "hide the model's reasoning");
}

export function registerRun(program: Command, env: CommandEnv): void {
  const cmd = program
    .command('run')
    .description('Send one task to a fresh worker in a sandbox and stream the reply')
    .argument('[message...]', 'the message (or use --file, or pipe it on stdin)');
  addTurnOptions(cmd)
    .option('-f, --file <path>', 'read the message from a file')
    .option('-a, --attach <file>', 'put a file into /sandbox/attachments/ first and tell the model (repeatable)', collect)
    .option('--json', "print the worker's frames as JSON lines, unchanged")
    .option('--daemon', 'send the task to the running daemon, so the dashboard and event-stream clients see it live (its keys and environment are used)')
    .addHelpText(
      'after',
      `
Examples:
  $ logos run "What is in this directory?"
  $ logos run --tools read_file,list_files --max-steps 10 "Summarise the notes in /sandbox"
  $ logos run --no-tools "Explain process groups in two lines"
  $ logos run --session review "Read attachments/diff.patch and review it" --attach diff.patch
  $ logos run --session review "Now suggest a commit message"
  $ logos run --sandbox work --timeout 20m --file task.md
  $ git diff | logos run --system "Review this diff" --json > frames.jsonl
  $ logos run --daemon "Tidy the notes"             # run by the daemon, live in \`logos dashboard\`

On a terminal each tool call is one line between the reply text (--verbose adds its
output); piped, only the reply is printed. With --json each frame is one JSON line
(ready, token, thinking, tool_start, tool_output, tool_end, message, task_result).
The exit code follows the result: 0 ok, 1 model error or MAX_STEPS, 124 deadline, 7 worker lost.`,
    )
    .action(async (words: string[], opts: RunOpts) => {
      setJson(env, opts);
      await runCommand(env, words, opts);
    });
}

/** Check a turn's options (no IO): every flag is refused before anything is read, created or recorded. */
export function parseTurnOptions(opts: TurnOpts & { attach?: string[] }): TurnSettings {
  const s: TurnSettings = { attachments: opts.attach ?? [], thinking: opts.thinking, verbose: opts.verbose === true };
  if (opts.timeout) s.timeoutMs = parseDuration(opts.timeout, { flag: '--timeout', min: 1000 });
  const params: NonNullable<TaskInput['params']> = {};
  if (opts.maxTokens !== undefined) params.max_tokens = parseWholeNumber(opts.maxTokens, { flag: '--max-tokens', min: 1, max: 2 ** 31 - 1 });
  if (opts.temperature !== undefined) params.temperature = parseDecimal(opts.temperature, { flag: '--temperature', min: 0, max: 2 });
  if (Object.keys(params).length > 0) s.params = params;
  if (opts.tools === false) s.tools = [];
  else if (typeof opts.tools === 'string') s.tools = parseToolList(opts.tools);
  if (opts.maxSteps !== undefined) s.maxSteps = parseWholeNumber(opts.maxSteps, { flag: '--max-steps', min: 1, max: MAX_STEPS_LIMIT });
  for (const [k, v] of [
    ['sandbox', opts.sandbox],
    ['route', opts.route],
    ['system', opts.system],
    ['persona', opts.persona],
    ['session', opts.session],
  ] as const) {
    if (v !== undefined) s[k] = v;
  }
  return s;
}

const tooLarge = (what: string): LogosError =>
  new LogosError('TASK_TOO_LARGE', `${what} is larger than ${formatBytes(MAX_TASK_BYTES)}, the most a task can carry; nothing was sent.`, {
    hint: 'Shorten it; sandboxes accept at most 4 MiB on stdin (OpenShell `sandbox exec`). Larger files go in with --attach.',
    details: { limit: MAX_TASK_BYTES },
  });

async function readMessage(env: CommandEnv, words: string[], opts: RunOpts): Promise<string> {
  if (opts.file) {
    let fh;
    try {
      fh = await open(opts.file, 'r');
    } catch (err) {
      throw new LogosError('INVALID_ARGUMENT', `Cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, {
        hint: 'Check the path given to --file.',
      });
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new LogosError('INVALID_ARGUMENT', `${opts.file} is not a regular file.`, { hint: 'Give --file a file; pipe other input on stdin.' });
      if (st.size > MAX_TASK_BYTES) throw tooLarge(`The file ${opts.file}`);
      return decodeUtf8(await fh.readFile(), `The file ${opts.file}`);
    } finally {
      await fh.close();
    }
  }
  if (words.length > 0) return words.join(' ');
  if (!env.io.stdinTTY) return readBounded(env.io.stdin, MAX_TASK_BYTES, 'The message on stdin', tooLarge);
  throw new LogosError('USAGE', 'No message given.', { hint: 'Try `logos run "Say hello"`, or pipe the message on stdin.' });
}

/** Attachments are the user's files: each must be a regular file, checked before anything is sent. */
async function checkAttachments(paths: string[]): Promise<void> {
  for (const p of paths) {
    const st = await stat(p).catch((err: NodeJS.ErrnoException) => {
      throw new LogosError('INVALID_ARGUMENT', `Cannot attach ${p}: ${err.code ?? err.message}.`, { hint: 'Check the path given to --attach.' });
    });
    if (!st.isFile()) throw new LogosError('INVALID_ARGUMENT', `Cannot attach ${p}: it is not a regular file.`, { hint: 'Attach files one by one (pack a directory with tar first).' });
  }
}

function summary(io: Io, r: RunTaskResult): string {
  const ce = colors(io, 'err');
  const { outcome, run } = r;
  const parts = [`${outcome.status === 'ok' ? ce.green('✓ done') : ce.red(`✗ ${stripControls(outcome.error?.code ?? 'error')}`)} in ${(outcome.durationMs / 1000).toFixed(1)}s`];
  if (typeof run.steps === 'number' && run.steps > 1) parts.push(`${run.steps} steps`);
  const calls = Object.values(run.tools_used ?? {}).reduce((a, b) => a + b, 0);
  if (calls > 0) parts.push(`${calls} tool call${calls > 1 ? 's' : ''}`);
  const u = outcome.usage;
  if (u) parts.push(`${u.input_tokens ?? '?'} in / ${u.output_tokens ?? '?'} out tokens`);
  parts.push(`run ${run.id}`);
  if (run.session) parts.push(`session ${run.session}`);
  return ce.dim(`${parts.join(' · ')}\n`);
}

/**
 * One run, shown as it streams: frames unchanged with --json, otherwise through the
 * renderer; progress, warnings and the summary on stderr when it is a terminal.
 * Returns the outcome (an error outcome included); throws only when the run could
 * not be made (bad input, no sandbox, …). `logos chat` calls this for every turn.
 */
export async function executeRun(env: CommandEnv, a: App, message: string, s: TurnSettings, signal: AbortSignal): Promise<RunTaskResult> {
  const io = env.io;
  const ce = colors(io, 'err');
  const live = !env.json;
  const out = new BatchedWriter(io.out);
  const renderer = new RunRenderer((t) => out.write(t), {
    tty: io.isTTY,
    thinking: s.thinking,
    verbose: s.verbose,
    columns: io.out.columns || 100,
    paint: colors(io, 'out'),
  });
  // --json: the worker's own line, unchanged (it was checked to be a JSON object).
  const onFrame = env.json ? (_frame: Frame, line: string) => out.write(`${line}\n`) : (frame: Frame) => renderer.frame(frame);
  let result: RunTaskResult;
  try {
    result = await runTask(a.runCtx(), {
      message,
      ...(s.system !== undefined ? { system: s.system } : {}),
      ...(s.persona !== undefined ? { persona: s.persona } : {}),
      ...(s.sandbox ? { sandbox: s.sandbox } : {}),
      ...(s.route ? { route: s.route } : {}),
      ...(s.session !== undefined ? { session: s.session } : {}),
      ...(s.tools ? { tools: s.tools } : {}),
      ...(s.maxSteps !== undefined ? { maxSteps: s.maxSteps } : {}),
      ...(s.attachments.length > 0 ? { attachments: s.attachments } : {}),
      timeoutMs: s.timeoutMs ?? a.config.runTimeoutSec * 1000,
      ...(s.params ? { params: s.params } : {}),
      ...(s.plan !== undefined ? { plan: s.plan } : {}),
      signal,
      onFrame,
      onProgress: (m) => {
        if (live && io.errTTY) io.err.write(ce.dim(`• ${stripControls(m)}\n`));
      },
      onWarning: (m) => {
        if (io.errTTY) io.err.write(ce.yellow(`! ${stripControls(m)}\n`));
      },
      onStart: (r) => {
        if (live && io.errTTY) io.err.write(ce.dim(`▸ ${r.id} · sandbox ${r.sandbox} · ${stripControls(`${r.provider}/${r.model}`)}\n`));
      },
    });
  } finally {
    out.flush();
  }
  if (live) renderer.finish(result.outcome);
  out.flush();
  if (live && io.errTTY) io.err.write(summary(io, result));
  return result;
}

export async function runCommand(env: CommandEnv, words: string[], opts: RunOpts): Promise<void> {
  // Every option is checked before anything is read, created or recorded.
  const settings = parseTurnOptions(opts);
  await checkAttachments(settings.attachments);
  const message = await readMessage(env, words, opts);
  if (!message.trim()) {
    throw new LogosError('USAGE', 'The message is empty.', {
      hint: 'Pass it as an argument (`logos run "Summarise README.md"`), with --file, or on stdin.',
    });
  }
  if (opts.daemon) {
    const { runViaDaemon } = await import('../run-daemon.js');
    await runViaDaemon(env, message, settings);
    return;
  }
  const a = await app(env);
  // A sandbox chosen by the command line alone (not by a session) can be started before the next such run loads.
  if (settings.session === undefined) settings.plan = selectorOf({ sandbox: settings.sandbox, route: settings.route });
  const { run, outcome } = await cancellable(env, () => executeRun(env, a, message, settings, env.signal));

  if (outcome.status === 'error' && outcome.error) {
    if (env.json && !outcome.result) {
      // The worker never produced a result: the host's error closes the JSON stream.
      env.io.out.write(`${JSON.stringify({ ok: false, run_id: run.id, error: outcome.error.toJSON() })}\n`);
      env.exitCode = outcome.error.exitCode;
      return;
    }
    if (env.json) {
      env.exitCode = exitCodeFor(outcome.error.code);
      return;
    }
    throw outcome.error;
  }
  env.exitCode = EXIT_CODES.OK;
}
