/**
 * Entry of the in-sandbox worker bundle (dist/worker/logos-worker.mjs).
 * Reads one task from stdin to EOF, writes JSON-line frames on stdout (and
 * nothing else), logs to stderr and a file, and exits: 0 ok, 1 error,
 * 2 unreadable task, 143/130 when terminated/interrupted.
 * Importing this module runs the worker: never import it from tests.
 */
import { MAX_TASK_BYTES, type Frame, type TaskResultFrame } from '../core/protocol.js';
import { HINTS, toWorkerFailure, WorkerFailure, deadlineFailure } from './classify.js';
import { createLogger, DEFAULT_LOG_FILE, parseLogLevel } from './log.js';
import { frameLine, FrameWriter } from './output.js';
import { registerSecret } from './redact.js';
import { DEFAULT_DEADLINE_MS, runTask } from './run.js';
import { parseTask } from './task.js';
import { BoundedText } from './text.js';
import { killAllShellsNow, runningShells, stopAllShells } from './tool-shell.js';
import { WORKER_VERSION } from './version.js';

const startedAt = Date.now();
const env = process.env;
registerSecret(env.OPENAI_API_KEY);
registerSecret(env.ANTHROPIC_API_KEY);

const log = createLogger({
  file: env.LOGOS_WORKER_LOG && env.LOGOS_WORKER_LOG.trim() !== '' ? env.LOGOS_WORKER_LOG : DEFAULT_LOG_FILE,
  level: parseLogLevel(env.LOGOS_WORKER_LOG_LEVEL),
});

// Frames are gathered and written together (see output.ts); every way out flushes them first.
const out = new FrameWriter(process.stdout);
let resultSent = false;
/** Exiting: nothing more is queued, so the task_result (if any) stays the last line. */
let exiting = false;
let taskId = '';
/** The visible text already sent as tokens, kept for an error result (bounded like the reply). */
const partial = new BoundedText();

/** One frame = one line. Nothing else ever goes to stdout. */
function emit(frame: Frame): void {
  if (resultSent || exiting) return;
  const last = frame.type === 'task_result';
  if (last) resultSent = true;
  out.write(frameLine(frame), last);
}

let exitStarted = false;
/** Aborted at the deadline or by a signal: stops the model request and any running command. */
const controller = new AbortController();

function exitAfterFlush(code: number): void {
  exiting = true;
  if (exitStarted) return;
  exitStarted = true;
  // Pipe writes may still be queued in Node (the reader is slow): exit once they are written.
  out.end(() => process.exit(code));
  setTimeout(() => process.exit(code), 2000).unref();
}

/** final_response and, when it had to be cut, the fields that say so. */
function responseFields(text: string, fullBytes: number | undefined): Pick<TaskResultFrame, 'final_response' | 'final_response_truncated' | 'final_response_bytes'> {
  return fullBytes === undefined ? { final_response: text } : { final_response: text, final_response_truncated: true, final_response_bytes: fullBytes };
}

function finishWithFailure(failure: WorkerFailure): void {
  // Being stopped by a signal: no result, the signal's exit code.
  if (exiting) return;
  // Tokens already reached the user; the result keeps what was shown.
  const shown = partial.capped();
  const frame: TaskResultFrame = {
    type: 'task_result',
    task_id: taskId,
    status: 'error',
    ...responseFields(shown.text, shown.truncated ? shown.bytes : undefined),
    error: failure.toFrameError(),
    duration_ms: Date.now() - startedAt,
  };
  // A task with tools says how far it got (and what it cost) even when it fails.
  if (failure.progress) {
    if (failure.progress.usage && Object.keys(failure.progress.usage).length > 0) frame.usage = failure.progress.usage;
    frame.steps = failure.progress.steps;
    frame.tools_used = failure.progress.toolsUsed;
  }
  emit(frame);
  log.error('task failed', { code: failure.code, error: failure.message, duration_ms: frame.duration_ms, frames: out.lines, stdout_writes: out.writes });
  exitAfterFlush(failure.code === 'INVALID_TASK' ? 2 : 1);
}

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  // The host closed our stdout (EPIPE): nobody can read a result any more.
  log.error('stdout closed', { code: err.code ?? null });
  process.exit(1);
});

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  process.on(signal, () => {
    if (exiting) return;
    log.warn('terminated by signal', { signal, running_commands: runningShells() });
    // Commands run in their own process groups, out of reach of a signal to ours: stop them first.
    exiting = true;
    controller.abort(new Error(`terminated by ${signal}`));
    void stopAllShells().finally(() => exitAfterFlush(code));
    setTimeout(() => exitAfterFlush(code), 1500).unref();
  });
}

// Whatever way the worker ends, no command it started keeps running.
process.on('exit', killAllShellsNow);

// A bug must not lose frames already gathered: report it as the result, like main().catch.
process.on('uncaughtException', (err) => {
  if (exiting) return;
  finishWithFailure(toWorkerFailure(err));
});

async function readStdin(limit: number): Promise<{ text: string; tooLarge: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) return { text: '', tooLarge: true };
    parts.push(buf);
  }
  return { text: Buffer.concat(parts).toString('utf8'), tooLarge: false };
}

async function main(): Promise<void> {
  const input = await readStdin(MAX_TASK_BYTES);
  if (input.tooLarge) {
    finishWithFailure(new WorkerFailure('INVALID_TASK', `task larger than ${MAX_TASK_BYTES} bytes`, HINTS.INVALID_TASK(WORKER_VERSION)));
    return;
  }
  const parsed = parseTask(input.text);
  if (!parsed.ok) {
    taskId = parsed.taskId;
    log.setTaskId(parsed.taskId || undefined);
    finishWithFailure(new WorkerFailure('INVALID_TASK', `invalid task: ${parsed.message}`, HINTS.INVALID_TASK(WORKER_VERSION)));
    return;
  }
  const task = parsed.task;
  taskId = task.task_id;
  log.setTaskId(task.task_id);
  emit({
    v: 1,
    type: 'ready',
    task_id: task.task_id,
    worker: { version: WORKER_VERSION, runtime: `node ${process.versions.node}`, pid: process.pid },
    ts: new Date().toISOString(),
  });
  log.info('task received', { sandbox: task.sandbox, gateway: task.gateway ?? null, provider: task.route.provider, api: task.route.api });

  const deadlineMs = task.deadline_ms ?? DEFAULT_DEADLINE_MS;
  const deadline = setTimeout(() => controller.abort(deadlineFailure(deadlineMs)), Math.max(0, deadlineMs - (Date.now() - startedAt)));
  // Backstop: if something ignores the abort, still report the timeout and exit.
  const backstop = setTimeout(() => finishWithFailure(deadlineFailure(deadlineMs)), deadlineMs + 5000);
  backstop.unref();

  try {
    const outcome = await runTask(task, {
      env,
      log,
      signal: controller.signal,
      emit: (frame) => {
        if (frame.type === 'token' && typeof frame.content === 'string') partial.append(frame.content);
        emit(frame);
      },
      backpressure: () => out.backpressure(),
    });
    clearTimeout(deadline);
    clearTimeout(backstop);
    const frame: TaskResultFrame = {
      type: 'task_result',
      task_id: task.task_id,
      status: 'ok',
      ...responseFields(outcome.finalResponse, outcome.finalResponseBytes),
      usage: outcome.usage,
      duration_ms: Date.now() - startedAt,
    };
    if (outcome.steps !== undefined) frame.steps = outcome.steps;
    if (outcome.toolsUsed !== undefined) frame.tools_used = outcome.toolsUsed;
    emit(frame);
    log.info('task done', { duration_ms: frame.duration_ms, frames: out.lines, stdout_writes: out.writes });
    exitAfterFlush(0);
  } catch (err) {
    clearTimeout(deadline);
    clearTimeout(backstop);
    finishWithFailure(toWorkerFailure(err, { model: task.route.model, provider: task.route.provider, api: task.route.api }));
  }
}

main().catch((err: unknown) => {
  finishWithFailure(toWorkerFailure(err));
});
