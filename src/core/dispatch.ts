import type { Clock, Logger } from './context.js';
import { LogosError } from './errors.js';
import { decodeFrameLine, isTaskResult } from './frames.js';
import { MAX_TASK_BYTES, type ChatMessage, type Frame, type TaskInput, type TaskResultFrame, type Usage } from './protocol.js';
import type { RouteRecord } from './routes.js';
import type { SandboxDriver, SandboxRecord } from './sandboxes.js';

/**
 * Dispatch: one task → one fresh worker in one sandbox. Writes the task on the
 * worker's stdin, decodes the JSON-line frames it streams back, and turns the
 * way the worker ended into exactly one outcome.
 */

export interface DispatchInput {
  taskId: string;
  sandbox: SandboxRecord;
  route: RouteRecord;
  messages: ChatMessage[];
  timeoutMs: number;
  params?: TaskInput['params'];
  signal?: AbortSignal;
  /** Every decoded frame, unchanged, as it arrives. */
  onFrame?: (frame: Frame) => void;
}

export interface DispatchStats {
  frames: number;
  malformed: number;
  oversized: number;
  afterResult: number;
}

export interface DispatchOutcome {
  status: 'ok' | 'error';
  result?: TaskResultFrame;
  /** Host-side or worker-reported error, as a LogosError (reason code = frame error code). */
  error?: LogosError;
  finalResponse: string;
  usage?: Usage;
  durationMs: number;
  exitCode: number | null;
  stats: DispatchStats;
  /** The sandbox record changed during dispatch and should be saved. */
  sandboxUpdate?: SandboxRecord;
}

export interface DispatchContext {
  clock: Clock;
  logger: Logger;
  driver: SandboxDriver;
}

/** How long to wait for the process after its stdout closed without a result. */
const DISCONNECT_GRACE_MS = 500;

export function buildTask(input: Omit<DispatchInput, 'timeoutMs' | 'signal' | 'onFrame'> & { deadlineMs: number; baseUrl: string }): TaskInput {
  const task: TaskInput = {
    v: 1,
    type: 'task',
    task_id: input.taskId,
    sandbox: input.sandbox.name,
    route: {
      provider: input.route.provider,
      model: input.route.model,
      api: input.route.api,
      // The worker never sees the real endpoint or key: the driver's proxy (or OpenShell's router) adds them.
      base_url: input.baseUrl,
    },
    messages: input.messages,
    deadline_ms: input.deadlineMs,
  };
  if (input.sandbox.gateway) task.gateway = input.sandbox.gateway;
  if (input.params) task.params = input.params;
  return task;
}

export function encodeTask(task: TaskInput): string {
  const json = `${JSON.stringify(task)}\n`;
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_TASK_BYTES) {
    throw new LogosError('TASK_TOO_LARGE', `The task is ${(bytes / 1048576).toFixed(1)} MiB; the limit is 4 MiB.`, {
      hint: 'Shorten the message or the system prompt; sandboxes accept at most 4 MiB on stdin (OpenShell `sandbox exec`).',
      details: { bytes, limit: MAX_TASK_BYTES },
    });
  }
  return json;
}

export async function dispatchTask(ctx: DispatchContext, input: DispatchInput): Promise<DispatchOutcome> {
  const log = ctx.logger.child({ task_id: input.taskId, sandbox: input.sandbox.name, route: input.route.name });
  const task = buildTask({ ...input, deadlineMs: input.timeoutMs, baseUrl: ctx.driver.inferenceBaseUrl });
  const taskJson = encodeTask(task); // refuses oversized tasks before anything is spawned
  const started = ctx.clock.now().getTime();
  const stats: DispatchStats = { frames: 0, malformed: 0, oversized: 0, afterResult: 0 };
  let result: TaskResultFrame | undefined;
  let sawReady = false;
  let tokens = '';
  const workerLog = ctx.logger.child({ source: 'worker', task_id: input.taskId, sandbox: input.sandbox.name, route: input.route.name });

  const handle: { running?: Awaited<ReturnType<SandboxDriver['exec']>> } = {};
  let eofTimer: NodeJS.Timeout | undefined;
  let disconnected = false;

  const running = await ctx.driver.exec(input.sandbox, input.route, {
    taskJson,
    timeoutMs: input.timeoutMs,
    ...(input.signal ? { signal: input.signal } : {}),
    onStdoutLine: (line) => {
      const d = decodeFrameLine(line);
      if (d.kind === 'blank') return;
      if (d.kind === 'malformed') {
        stats.malformed += 1;
        log.warn('worker printed a line that is not a frame', { reason: d.reason, preview: d.preview });
        return;
      }
      stats.frames += 1;
      if (result) {
        stats.afterResult += 1;
        log.warn('frame after task_result ignored', { type: d.frame.type });
        return;
      }
      const frame = d.frame;
      if (frame.type === 'ready') sawReady = true;
      if (frame.type === 'token' && typeof (frame as { content?: unknown }).content === 'string') tokens += (frame as { content: string }).content;
      if (isTaskResult(frame)) result = frame;
      input.onFrame?.(frame);
    },
    onOversizedLine: (bytes) => {
      stats.oversized += 1;
      log.warn('worker printed an oversized line; dropped', { bytes });
    },
    onStderrLine: (line) => relayWorkerLog(workerLog, line),
    onStdoutEnd: () => {
      if (result) return;
      // The pipe closed without a result: if the process does not exit promptly, it is gone for us.
      eofTimer = setTimeout(() => {
        disconnected = true;
        handle.running?.kill();
      }, DISCONNECT_GRACE_MS);
      eofTimer.unref();
    },
  });

  handle.running = running;
  const end = await running.outcome;
  if (eofTimer) clearTimeout(eofTimer);
  const durationMs = ctx.clock.now().getTime() - started;
  const base = { durationMs, exitCode: end.exitCode, stats, ...(running.updatedRecord ? { sandboxUpdate: running.updatedRecord } : {}) };

  // A result means the worker ran, whatever else the driver noticed.
  if (result) {
    const out: DispatchOutcome = { ...base, status: result.status, result, finalResponse: result.final_response ?? '' };
    if (result.usage) out.usage = result.usage;
    if (result.status === 'error') {
      const e = result.error ?? { code: 'INTERNAL', message: 'The worker reported an error without details.' };
      out.error = new LogosError((e.code || 'INTERNAL') as LogosError['code'], e.message || 'The worker reported an error.', {
        hint: e.hint,
        details: { sandbox: input.sandbox.name, route: input.route.name },
      });
    }
    log.info('task finished', { status: result.status, duration_ms: durationMs, exit_code: end.exitCode, ...statsFields(stats) });
    return out;
  }

  if (end.startError) {
    log.error('sandbox could not start the worker', { code: end.startError.code, error: end.startError.message });
    return { ...base, status: 'error', error: end.startError, finalResponse: '' };
  }

  const details = {
    sandbox: input.sandbox.name,
    exit_code: end.exitCode,
    signal: end.signal,
    stderr_tail: end.stderrTail.slice(-2000),
  };
  let error: LogosError;
  if (end.cancelled) {
    error = new LogosError('CANCELLED', 'The run was cancelled; the worker and everything it started were stopped.', { details });
  } else if (end.timedOut || end.exitCode === 124) {
    error = new LogosError('TASK_TIMEOUT', `The task hit its deadline of ${Math.round(input.timeoutMs / 1000)}s; the worker was stopped.`, {
      hint: 'Give it more time with --timeout (e.g. --timeout 30m) or ask for a shorter answer.',
      details,
    });
  } else if (disconnected || end.signal || (end.exitCode !== null && end.exitCode > 128)) {
    error = new LogosError(
      'SANDBOX_DISCONNECTED',
      `The worker in sandbox '${input.sandbox.name}' went away mid-${sawReady ? 'reply' : 'start'} (${end.signal ? `signal ${end.signal}` : `exit code ${end.exitCode ?? 'none'}`}).`,
      { hint: `Check the sandbox with \`logos sandbox show ${input.sandbox.name}\` and the worker log with \`logos sandbox logs ${input.sandbox.name}\`.`, details },
    );
  } else {
    const tail = lastLines(end.stderrTail, 3);
    error = new LogosError(
      'WORKER_EXIT_WITHOUT_RESULT',
      `The worker in sandbox '${input.sandbox.name}' exited with code ${end.exitCode ?? 'none'} without a result${tail ? `: ${tail}` : '.'}`,
      { hint: `See \`logos sandbox logs ${input.sandbox.name}\` and \`logos debug path\` for its log.`, details },
    );
  }
  log.error('task failed without a result', { code: error.code, ...details, ...statsFields(stats), partial_chars: tokens.length });
  return { ...base, status: 'error', error, finalResponse: tokens };
}

function statsFields(s: DispatchStats): Record<string, number> {
  return { frames: s.frames, malformed_lines: s.malformed, oversized_lines: s.oversized, frames_after_result: s.afterResult };
}

function lastLines(text: string, n: number): string {
  return text
    .trim()
    .split('\n')
    .slice(-n)
    .map((l) => {
      try {
        const o = JSON.parse(l) as { msg?: unknown };
        return typeof o.msg === 'string' ? o.msg : l;
      } catch {
        return l;
      }
    })
    .join(' | ')
    .slice(0, 500);
}

/** Worker stderr is JSON lines (ts, level, msg, …); relay them into the unified log. */
export function relayWorkerLog(log: Logger, line: string): void {
  if (!line.trim()) return;
  let rec: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(line) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) rec = v as Record<string, unknown>;
  } catch {
    // plain text on stderr
  }
  if (!rec) {
    log.warn(line.slice(0, 2000));
    return;
  }
  const { level, msg, ts, task_id: _t, ...rest } = rec;
  const fields = { ...rest, ...(typeof ts === 'string' ? { worker_ts: ts } : {}) };
  const text = typeof msg === 'string' ? msg : JSON.stringify(rec).slice(0, 2000);
  switch (level) {
    case 'error':
      log.error(text, fields);
      break;
    case 'warn':
      log.warn(text, fields);
      break;
    case 'debug':
    case 'trace':
      log.debug(text, fields);
      break;
    default:
      log.info(text, fields);
  }
}
