import type { Clock, Logger } from './context.js';
import { LogosError } from './errors.js';
import { decodeFrameLine, isTaskResult } from './frames.js';
import { MAX_TASK_BYTES, type ChatMessage, type Frame, type TaskInput, type TaskResultFrame, type ToolName, type Usage } from './protocol.js';
import type { RouteRecord } from './routes.js';
import type { SandboxDriver, SandboxRecord, WarmStart } from './sandboxes.js';

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
  /** Built-in tools the worker may run (`[]`: none, a plain chat reply). */
  tools?: ToolName[];
  /** Model calls allowed in the worker's tool loop. */
  maxSteps?: number;
  signal?: AbortSignal;
  /** The sandbox started ahead of the task by the same driver (SandboxDriver.warm). */
  warm?: WarmStart;
  /**
   * Every decoded frame as it arrives, with the line it came from (unchanged).
   * Returning a promise means "my output is full": the worker's output is paused
   * until it settles, so a slow reader slows the worker instead of filling memory.
   */
  onFrame?: (frame: Frame, line: string) => void | Promise<void>;
}

export interface DispatchStats {
  frames: number;
  malformed: number;
  oversized: number;
  afterResult: number;
  /** The worker kept running after its result and was stopped. */
  lingered: boolean;
  /** Worker log lines (stderr) not relayed into the unified log because of the per-run cap. */
  logLinesDropped: number;
}

export interface DispatchOutcome {
  status: 'ok' | 'error';
  result?: TaskResultFrame;
  /** Host-side or worker-reported error, as a LogosError (reason code = frame error code). */
  error?: LogosError;
  /** The reply (for a reply over MAX_INLINE_RESPONSE_BYTES, its beginning; see `finalResponseTruncated`). */
  finalResponse: string;
  /** The reply was longer than what is kept here; `responseChars` has its full length. */
  finalResponseTruncated: boolean;
  /** Length of the whole visible reply (characters of the streamed tokens, or of final_response). */
  responseChars: number;
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
/** How long a worker may keep running after its result before it is stopped. */
export const RESULT_GRACE_MS = 1000;
/** The host keeps at most this much of a streamed reply (for a run that ends without a result). */
const PARTIAL_KEEP_CHARS = 256 * 1024;
/** Per run, at most this much of the worker's stderr goes into the unified log. */
export const WORKER_LOG_CAP = { bytes: 4 * 1024 * 1024, lines: 20_000 };
/** Reason codes a worker may report look like this; anything else is not trusted as a code. */
const WORKER_CODE_RE = /^[A-Z][A-Z0-9_]{1,47}$/;

export function buildTask(input: Omit<DispatchInput, 'timeoutMs' | 'signal' | 'onFrame' | 'warm'> & { deadlineMs: number; baseUrl: string }): TaskInput {
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
  if (input.tools) task.tools = input.tools;
  if (input.maxSteps !== undefined) task.max_steps = input.maxSteps;
  return task;
}

/** Room left in a task for everything but the messages (ids, names, route, params), with a margin. */
export const TASK_ENVELOPE_BYTES = 4096;

/** Refuse messages that cannot fit in a task, before anything is spawned or recorded. */
export function checkTaskSize(messages: ChatMessage[]): void {
  const bytes = Buffer.byteLength(JSON.stringify(messages)) + TASK_ENVELOPE_BYTES;
  if (bytes > MAX_TASK_BYTES) throw taskTooLarge(bytes);
}

function taskTooLarge(bytes: number): LogosError {
  return new LogosError('TASK_TOO_LARGE', `The task is ${(bytes / 1048576).toFixed(1)} MiB; the limit is 4 MiB.`, {
    hint: 'Shorten the message or the system prompt; sandboxes accept at most 4 MiB on stdin (OpenShell `sandbox exec`).',
    details: { bytes, limit: MAX_TASK_BYTES },
  });
}

export function encodeTask(task: TaskInput): string {
  const json = `${JSON.stringify(task)}\n`;
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_TASK_BYTES) throw taskTooLarge(bytes);
  return json;
}

export async function dispatchTask(ctx: DispatchContext, input: DispatchInput): Promise<DispatchOutcome> {
  const log = ctx.logger.child({ task_id: input.taskId, sandbox: input.sandbox.name, route: input.route.name });
  const task = buildTask({ ...input, deadlineMs: input.timeoutMs, baseUrl: ctx.driver.inferenceBaseUrl });
  const taskJson = encodeTask(task); // refuses oversized tasks before anything is spawned
  const started = ctx.clock.now().getTime();
  const stats: DispatchStats = { frames: 0, malformed: 0, oversized: 0, afterResult: 0, lingered: false, logLinesDropped: 0 };
  let result: TaskResultFrame | undefined;
  let sawReady = false;
  // What the host keeps of the streamed reply: its beginning and its length, never the whole of it.
  let partial = '';
  let tokenChars = 0;
  const relay = new WorkerLogRelay(ctx.logger.child({ source: 'worker', task_id: input.taskId, sandbox: input.sandbox.name, route: input.route.name }));

  const handle: { running?: Awaited<ReturnType<SandboxDriver['exec']>>; resultPending?: boolean } = {};
  let eofTimer: NodeJS.Timeout | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  let disconnected = false;
  let paused = 0;

  const onResult = (running: Awaited<ReturnType<SandboxDriver['exec']>>): void => {
    // The result is in: stop serving the worker, and stop the worker if it does not leave by itself.
    running.resultReceived?.();
    lingerTimer = setTimeout(() => {
      stats.lingered = true;
      log.warn('worker kept running after its result; stopping it', { grace_ms: RESULT_GRACE_MS });
      running.kill();
    }, RESULT_GRACE_MS);
    lingerTimer.unref();
  };

  const running = await ctx.driver.exec(input.sandbox, input.route, {
    taskId: input.taskId,
    taskJson,
    timeoutMs: input.timeoutMs,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.warm ? { warm: input.warm } : {}),
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
        if (stats.afterResult === 1) log.warn('frame after task_result ignored', { type: d.frame.type });
        return;
      }
      const frame = d.frame;
      if (frame.type === 'ready') sawReady = true;
      else if (frame.type === 'token') {
        const content = (frame as { content?: unknown }).content;
        if (typeof content === 'string') {
          tokenChars += content.length;
          if (partial.length < PARTIAL_KEEP_CHARS) partial += content.slice(0, PARTIAL_KEEP_CHARS - partial.length);
        }
      } else if (isTaskResult(frame)) {
        result = frame;
        if (handle.running) onResult(handle.running);
        else handle.resultPending = true;
      }
      const pending = input.onFrame?.(frame, line);
      if (pending && handle.running?.pauseOutput) {
        const r = handle.running;
        if (paused++ === 0) r.pauseOutput?.();
        void pending.then(
          () => {
            if (--paused === 0) r.resumeOutput?.();
          },
          () => {
            if (--paused === 0) r.resumeOutput?.();
          },
        );
      }
    },
    onOversizedLine: (bytes) => {
      stats.oversized += 1;
      log.warn('worker printed an oversized line; dropped', { bytes });
    },
    onStderrLine: (line) => relay.line(line),
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
  if (handle.resultPending) onResult(running);
  const end = await running.outcome;
  if (eofTimer) clearTimeout(eofTimer);
  if (lingerTimer) clearTimeout(lingerTimer);
  stats.logLinesDropped = relay.finish();
  const durationMs = ctx.clock.now().getTime() - started;
  const base = { durationMs, exitCode: end.exitCode, stats, ...(running.updatedRecord ? { sandboxUpdate: running.updatedRecord } : {}) };

  // A result means the worker ran, whatever else the driver noticed.
  if (result) {
    const finalResponse = typeof result.final_response === 'string' ? result.final_response : '';
    const truncated = result.final_response_truncated === true;
    const out: DispatchOutcome = {
      ...base,
      status: result.status,
      result,
      finalResponse,
      finalResponseTruncated: truncated,
      responseChars: truncated ? Math.max(tokenChars, finalResponse.length) : finalResponse.length,
    };
    if (result.usage) out.usage = result.usage;
    if (result.status === 'error') {
      const e = result.error ?? { code: 'INTERNAL', message: 'The worker reported an error without details.' };
      const code = typeof e.code === 'string' && WORKER_CODE_RE.test(e.code) ? e.code : 'INVALID_RESPONSE';
      out.error = new LogosError(code as LogosError['code'], typeof e.message === 'string' && e.message ? e.message : 'The worker reported an error.', {
        hint: typeof e.hint === 'string' ? e.hint : undefined,
        details: { sandbox: input.sandbox.name, route: input.route.name },
      });
    }
    log.info('task finished', { status: result.status, duration_ms: durationMs, exit_code: end.exitCode, ...statsFields(stats) });
    return out;
  }

  const partialOut = { finalResponse: partial, finalResponseTruncated: tokenChars > partial.length, responseChars: tokenChars };
  if (end.startError) {
    log.error('sandbox could not start the worker', { code: end.startError.code, error: end.startError.message });
    return { ...base, status: 'error', error: end.startError, ...partialOut };
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
  log.error('task failed without a result', { code: error.code, ...details, ...statsFields(stats), partial_chars: tokenChars });
  return { ...base, status: 'error', error, ...partialOut };
}

function statsFields(s: DispatchStats): Record<string, number | boolean> {
  return {
    frames: s.frames,
    malformed_lines: s.malformed,
    oversized_lines: s.oversized,
    frames_after_result: s.afterResult,
    lingered: s.lingered,
    worker_log_lines_dropped: s.logLinesDropped,
  };
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

/**
 * Worker stderr is JSON lines (ts, level, msg, …); relayed into the unified log.
 * The worker is not trusted: its record never sets the host's fields (source,
 * task_id, sandbox, route, pid stay the host's; its own fields are nested under
 * `worker`), its message is cut to a few KiB, and a run relays at most
 * WORKER_LOG_CAP of it (the rest is counted, and kept only in the sandbox's own log).
 */
export class WorkerLogRelay {
  private bytes = 0;
  private lines = 0;
  private dropped = 0;

  constructor(
    private readonly log: Logger,
    private readonly cap = WORKER_LOG_CAP,
  ) {}

  line(line: string): void {
    if (!line.trim()) return;
    this.bytes += line.length;
    this.lines += 1;
    if (this.bytes > this.cap.bytes || this.lines > this.cap.lines) {
      if (this.dropped === 0) this.log.warn('worker log over the per-run cap; further lines are not relayed', { cap_bytes: this.cap.bytes, cap_lines: this.cap.lines });
      this.dropped += 1;
      return;
    }
    relayWorkerLog(this.log, line);
  }

  /** Log what was dropped; returns the number of dropped lines. */
  finish(): number {
    if (this.dropped > 0) this.log.warn('worker log lines not relayed (over the per-run cap)', { dropped_lines: this.dropped });
    return this.dropped;
  }
}

const MAX_WORKER_MSG = 2000;

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
    log.warn(line.slice(0, MAX_WORKER_MSG));
    return;
  }
  const { level, msg, task_id: _t, ...rest } = rec;
  const text = typeof msg === 'string' ? msg.slice(0, MAX_WORKER_MSG) : JSON.stringify(rec).slice(0, MAX_WORKER_MSG);
  const fields = Object.keys(rest).length > 0 ? { worker: rest } : undefined;
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
