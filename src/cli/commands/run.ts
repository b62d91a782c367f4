import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXIT_CODES, LogosError, exitCodeFor } from '../../core/errors.js';
import { parseDecimal, parseDuration, parseWholeNumber } from '../../core/names.js';
import { MAX_TASK_BYTES, type Frame } from '../../core/protocol.js';
import { runTask } from '../../core/run-task.js';
import { stripControls } from '../../core/text.js';
import { colors, decodeUtf8, formatBytes, readBounded, type Io } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, cancellable, setJson } from '../shared.js';

export interface RunOpts {
  sandbox?: string;
  route?: string;
  system?: string;
  file?: string;
  timeout?: string;
  json?: boolean;
  thinking: boolean;
  maxTokens?: string;
  temperature?: string;
}

export function registerRun(program: Command, env: CommandEnv): void {
  program
    .command('run')
    .description('Send one task to a fresh worker in a sandbox and stream the reply')
    .argument('[message...]', 'the message (or use --file, or pipe it on stdin)')
    .option('-s, --sandbox <name>', 'sandbox to run in (default: the sandbox of the route, created on first use)')
    .option('-r, --route <name>', 'model route, by name or as the provider/model it was added with (default: the default route)')
    .option('--system <text>', 'system prompt')
    .option('-f, --file <path>', 'read the message from a file')
    .option('-t, --timeout <duration>', 'deadline for the whole task, e.g. 90s, 10m (default: 600s)')
    .option('--max-tokens <n>', 'limit the reply length')
    .option('--temperature <t>', 'sampling temperature')
    .option('--no-thinking', 'hide the model\'s reasoning')
    .option('--json', 'print the worker\'s frames as JSON lines, unchanged')
    .addHelpText(
      'after',
      `
Examples:
  $ logos run "What is in this directory?"
  $ logos run --sandbox work --timeout 20m --file task.md
  $ git diff | logos run --system "Review this diff" --json > frames.jsonl

With --json each frame is one JSON line (ready, token, thinking, …, task_result).
The exit code follows the result: 0 ok, 1 model error, 124 deadline, 7 worker lost.`,
    )
    .action(async (words: string[], opts: RunOpts) => {
      setJson(env, opts);
      await runCommand(env, words, opts);
    });
}

const tooLarge = (what: string): LogosError =>
  new LogosError('TASK_TOO_LARGE', `${what} is larger than ${formatBytes(MAX_TASK_BYTES)}, the most a task can carry; nothing was sent.`, {
    hint: 'Shorten it; sandboxes accept at most 4 MiB on stdin (OpenShell `sandbox exec`).',
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

/**
 * Human output of a run, written in batches: frames that arrive together go out
 * in one write, and when the reader is slower than the model the returned promise
 * holds the worker back instead of piling the reply up in memory.
 */
class BatchedWriter {
  private pending = '';
  private scheduled = false;
  private blocked: Promise<void> | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  write(text: string): Promise<void> | undefined {
    if (!text) return this.blocked;
    this.pending += text;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return this.blocked;
  }

  flush(): void {
    this.scheduled = false;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    if (!this.stream.write(text) && !this.blocked) {
      this.blocked = new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          this.stream.off('close', done);
          this.blocked = undefined;
          resolve();
        };
        this.stream.once('drain', done);
        this.stream.once('error', done);
        this.stream.once('close', done);
      });
    }
  }
}

interface RenderState {
  lastKind?: 'token' | 'thinking';
  printedAnything: boolean;
  tokenChars: number;
  endsWithNewline: boolean;
}

function frameRenderer(io: Io, out: BatchedWriter, showThinking: boolean, st: RenderState) {
  const c = colors(io, 'out');
  const write = (s: string): Promise<void> | undefined => {
    if (!s) return undefined;
    st.printedAnything = true;
    st.endsWithNewline = s.endsWith('\n');
    return out.write(s);
  };
  return {
    write,
    frame(frame: Frame): Promise<void> | undefined {
      if (frame.type === 'token') {
        // Model text is data: no control sequence of its own reaches the terminal.
        const content = stripControls(String((frame as { content?: unknown }).content ?? ''));
        if (st.lastKind === 'thinking' && io.isTTY && !st.endsWithNewline) write('\n');
        st.tokenChars += content.length;
        st.lastKind = 'token';
        return write(content);
      }
      if (frame.type === 'thinking' && showThinking && io.isTTY) {
        // Reasoning is for a person watching; scripts reading stdout get only the reply.
        st.lastKind = 'thinking';
        return write(c.dim(stripControls(String((frame as { content?: unknown }).content ?? ''))));
      }
      return undefined;
    },
  };
}

export async function runCommand(env: CommandEnv, words: string[], opts: RunOpts): Promise<void> {
  // Every option is checked before anything is read, created or recorded.
  const timeoutOpt = opts.timeout ? parseDuration(opts.timeout, { flag: '--timeout', min: 1000 }) : undefined;
  const params: { max_tokens?: number; temperature?: number } = {};
  if (opts.maxTokens !== undefined) params.max_tokens = parseWholeNumber(opts.maxTokens, { flag: '--max-tokens', min: 1, max: 2 ** 31 - 1 });
  if (opts.temperature !== undefined) params.temperature = parseDecimal(opts.temperature, { flag: '--temperature', min: 0, max: 2 });
  const message = await readMessage(env, words, opts);
  if (!message.trim()) {
    throw new LogosError('USAGE', 'The message is empty.', {
      hint: 'Pass it as an argument (`logos run "Summarise README.md"`), with --file, or on stdin.',
    });
  }
  const a = await app(env);
  const timeoutMs = timeoutOpt ?? a.config.runTimeoutSec * 1000;

  const io = env.io;
  const ce = colors(io, 'err');
  const live = !env.json;
  const out = new BatchedWriter(io.out);
  const st: RenderState = { printedAnything: false, tokenChars: 0, endsWithNewline: true };
  const render = frameRenderer(io, out, opts.thinking, st);
  // --json: the worker's own line, unchanged (it was checked to be a JSON object).
  const onFrame = env.json ? (_frame: Frame, line: string) => out.write(`${line}\n`) : (frame: Frame) => render.frame(frame);

  const { run, outcome } = await cancellable(env, () =>
    runTask(a.runCtx(), {
      message,
      ...(opts.system ? { system: opts.system } : {}),
      ...(opts.sandbox ? { sandbox: opts.sandbox } : {}),
      ...(opts.route ? { route: opts.route } : {}),
      timeoutMs,
      ...(Object.keys(params).length ? { params } : {}),
      signal: env.signal,
      onFrame,
      onProgress: (m) => {
        if (live && io.errTTY) io.err.write(ce.dim(`• ${stripControls(m)}\n`));
      },
      onStart: (r) => {
        if (live && io.errTTY) io.err.write(ce.dim(`▸ ${r.id} · sandbox ${r.sandbox} · ${stripControls(`${r.provider}/${r.model}`)}\n`));
      },
    }),
  );

  if (live) {
    // No tokens came (e.g. the reasoning-only fallback): print the final response itself.
    if (outcome.status === 'ok' && st.tokenChars === 0 && outcome.finalResponse) {
      if (!st.endsWithNewline) render.write('\n');
      render.write(stripControls(outcome.finalResponse));
    }
    if (st.printedAnything && !st.endsWithNewline) render.write('\n');
  }
  out.flush();
  if (live && io.errTTY) {
    const u = outcome.usage;
    const tokens = u ? ` · ${u.input_tokens ?? '?'} in / ${u.output_tokens ?? '?'} out tokens` : '';
    const status = outcome.status === 'ok' ? ce.green('✓ done') : ce.red(`✗ ${stripControls(outcome.error?.code ?? 'error')}`);
    io.err.write(ce.dim(`${status} in ${(outcome.durationMs / 1000).toFixed(1)}s${tokens} · run ${run.id}\n`));
  }
  if (outcome.status === 'error' && outcome.error) {
    if (env.json && !outcome.result) {
      // The worker never produced a result: the host's error closes the JSON stream.
      io.out.write(`${JSON.stringify({ ok: false, run_id: run.id, error: outcome.error.toJSON() })}\n`);
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
