import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXIT_CODES, LogosError, exitCodeFor } from '../../core/errors.js';
import { parseDuration } from '../../core/names.js';
import type { Frame } from '../../core/protocol.js';
import { runTask } from '../../core/run-task.js';
import { colors, readAllStdin } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson } from '../shared.js';

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
    .option('-r, --route <name>', 'model route (default: the default route)')
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

async function readMessage(env: CommandEnv, words: string[], opts: RunOpts): Promise<string> {
  if (opts.file) {
    try {
      return await readFile(opts.file, 'utf8');
    } catch (err) {
      throw new LogosError('INVALID_ARGUMENT', `Cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, {
        hint: 'Check the path given to --file.',
      });
    }
  }
  if (words.length > 0) return words.join(' ');
  if (!env.io.stdinTTY) return readAllStdin(env.io.stdin);
  throw new LogosError('USAGE', 'No message given.', { hint: 'Try `logos run "Say hello"`, or pipe the message on stdin.' });
}

export async function runCommand(env: CommandEnv, words: string[], opts: RunOpts): Promise<void> {
  const a = await app(env);
  const message = await readMessage(env, words, opts);
  const timeoutMs = opts.timeout ? parseDuration(opts.timeout) : a.config.runTimeoutSec * 1000;
  const params: { max_tokens?: number; temperature?: number } = {};
  if (opts.maxTokens) params.max_tokens = positiveInt(opts.maxTokens, '--max-tokens');
  if (opts.temperature) params.temperature = Number(opts.temperature);
  if (params.temperature !== undefined && !(params.temperature >= 0 && params.temperature <= 2)) {
    throw new LogosError('INVALID_ARGUMENT', `--temperature must be between 0 and 2, got ${opts.temperature}.`);
  }

  const io = env.io;
  const c = colors(io, 'out');
  const ce = colors(io, 'err');
  const live = !env.json;
  let lastKind: 'token' | 'thinking' | undefined;
  let printedAnything = false;
  let tokenChars = 0;
  let endsWithNewline = true;
  const write = (s: string): void => {
    if (!s) return;
    io.out.write(s);
    printedAnything = true;
    endsWithNewline = s.endsWith('\n');
  };
  const onFrame = (frame: Frame): void => {
    if (env.json) {
      io.out.write(`${JSON.stringify(frame)}\n`);
      return;
    }
    if (frame.type === 'token') {
      const content = String((frame as { content?: unknown }).content ?? '');
      if (lastKind === 'thinking' && io.isTTY && !endsWithNewline) write('\n');
      write(content);
      tokenChars += content.length;
      lastKind = 'token';
    } else if (frame.type === 'thinking' && opts.thinking && io.isTTY) {
      // Reasoning is for a person watching; scripts reading stdout get only the reply.
      write(c.dim(String((frame as { content?: unknown }).content ?? '')));
      lastKind = 'thinking';
    }
  };

  const { run, outcome } = await runTask(a.runCtx(), {
    message,
    ...(opts.system ? { system: opts.system } : {}),
    ...(opts.sandbox ? { sandbox: opts.sandbox } : {}),
    ...(opts.route ? { route: opts.route } : {}),
    timeoutMs,
    ...(Object.keys(params).length ? { params } : {}),
    signal: env.signal,
    onFrame,
    onProgress: (m) => {
      if (live && io.errTTY) io.err.write(ce.dim(`• ${m}\n`));
    },
    onStart: (r) => {
      if (live && io.errTTY) io.err.write(ce.dim(`▸ ${r.id} · sandbox ${r.sandbox} · ${r.provider}/${r.model}\n`));
    },
  });

  if (live) {
    // The reply came as tokens; if the worker sent only a final_response (e.g. a fallback), print it.
    // No tokens came (e.g. the reasoning-only fallback): print the final response itself.
    if (outcome.status === 'ok' && tokenChars === 0 && outcome.finalResponse) {
      if (!endsWithNewline) write('\n');
      write(outcome.finalResponse);
    }
    if (printedAnything && !endsWithNewline) write('\n');
    if (io.errTTY || outcome.status === 'error') {
      const u = outcome.usage;
      const tokens = u ? ` · ${u.input_tokens ?? '?'} in / ${u.output_tokens ?? '?'} out tokens` : '';
      const status = outcome.status === 'ok' ? ce.green('✓ done') : ce.red(`✗ ${outcome.error?.code ?? 'error'}`);
      if (io.errTTY) io.err.write(ce.dim(`${status} in ${(outcome.durationMs / 1000).toFixed(1)}s${tokens} · run ${run.id}\n`));
    }
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

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new LogosError('INVALID_ARGUMENT', `${flag} must be a positive whole number, got '${text}'.`);
  return n;
}
