/**
 * Runs one task: resolves the endpoint, sends the request, streams the reply
 * into frames and returns the outcome. Throws WorkerFailure on every failure.
 * No process IO here (main.ts wires stdin/stdout/signals), so tests can call it.
 */
import type { Frame, TaskInput } from '../core/protocol.js';
import { AnthropicStream, anthropicHeaders, anthropicRequestBody } from './anthropic.js';
import { classifyHttpError, HINTS, WorkerFailure, type ClassifyContext } from './classify.js';
import { httpRequest, type HttpResponse } from './http.js';
import type { WorkerLogger } from './log.js';
import { OpenAIStream, openAIHeaders, openAIRequestBody } from './openai.js';
import { excerpt } from './redact.js';
import { ReplyBuilder, type StreamHandler, type StreamOutcome } from './reply.js';
import { SseParser, SseTooLargeError } from './sse.js';
import { WORKER_VERSION } from './version.js';

export type WorkerEnv = Record<string, string | undefined>;

export const DEFAULT_DEADLINE_MS = 600_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export interface Endpoint {
  /** Full request URL (base URL + /chat/completions or /messages). */
  url: URL;
  /** The base URL actually used (after env overrides). */
  baseUrl: string;
  /** Set when requests go over the host proxy's Unix socket. */
  socketPath?: string | undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v.trim() : undefined;
}

/** Base URL (env override first), request path, and the optional Unix socket. */
export function resolveEndpoint(task: TaskInput, env: WorkerEnv): Endpoint {
  const isAnthropic = task.route.api === 'anthropic-messages';
  const override = nonEmpty(isAnthropic ? env.ANTHROPIC_BASE_URL : env.OPENAI_BASE_URL);
  const baseUrl = override ?? task.route.base_url.trim();
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new WorkerFailure(
      'INVALID_TASK',
      `invalid base URL ${JSON.stringify(baseUrl)}${override ? ` (from ${isAnthropic ? 'ANTHROPIC_BASE_URL' : 'OPENAI_BASE_URL'})` : ''}`,
      'Set the route base URL to a full URL such as https://inference.local/v1.',
    );
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new WorkerFailure('INVALID_TASK', `unsupported base URL scheme ${base.protocol}`, 'Use an http:// or https:// base URL.');
  }
  let path = base.pathname.replace(/\/+$/, '');
  // The Anthropic SDKs take a base URL without /v1 (https://api.anthropic.com); accept that form too.
  if (isAnthropic && path === '') path = '/v1';
  const url = new URL(base.toString());
  url.pathname = `${path}${isAnthropic ? '/messages' : '/chat/completions'}`;
  return { url, baseUrl, socketPath: nonEmpty(env.LOGOS_INFERENCE_SOCKET) };
}

export function idleTimeoutFromEnv(env: WorkerEnv): number {
  const n = Number(env.LOGOS_IDLE_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_IDLE_TIMEOUT_MS;
}

export interface RunContext {
  env: WorkerEnv;
  emit: (frame: Frame) => void;
  log: WorkerLogger;
  signal?: AbortSignal | undefined;
  idleTimeoutMs?: number | undefined;
  /**
   * Asked after each network chunk: a promise while frames are not being read
   * fast enough (the stream is read on once it settles), else undefined.
   * Keeps memory bounded when the reader is slower than the model.
   */
  backpressure?: (() => Promise<void> | undefined) | undefined;
}

export async function runTask(task: TaskInput, rc: RunContext): Promise<StreamOutcome> {
  const { env, log } = rc;
  const api = task.route.api;
  const ctx: ClassifyContext = { provider: task.route.provider, model: task.route.model, api };
  if (!task.route.model || task.route.model.trim() === '') {
    throw new WorkerFailure('NO_MODEL', 'the task has no model (route.model is empty)', HINTS.NO_MODEL());
  }
  const endpoint = resolveEndpoint(task, env);
  ctx.baseUrl = endpoint.baseUrl;
  ctx.socketPath = endpoint.socketPath;
  const idleTimeoutMs = rc.idleTimeoutMs ?? idleTimeoutFromEnv(env);

  const isAnthropic = api === 'anthropic-messages';
  const body = JSON.stringify(isAnthropic ? anthropicRequestBody(task) : openAIRequestBody(task));
  const headers = isAnthropic ? anthropicHeaders(env.ANTHROPIC_API_KEY) : openAIHeaders(env.OPENAI_API_KEY);
  headers['user-agent'] = `logos-worker/${WORKER_VERSION}`;

  log.info('request', {
    api,
    model: task.route.model,
    url: endpoint.url.toString(),
    via_socket: endpoint.socketPath ?? null,
    messages: task.messages.length,
    bytes: Buffer.byteLength(body),
    placeholder_key: !(isAnthropic ? env.ANTHROPIC_API_KEY : env.OPENAI_API_KEY),
  });

  const res = await httpRequest({
    url: endpoint.url,
    method: 'POST',
    headers,
    body,
    socketPath: endpoint.socketPath,
    signal: rc.signal,
    idleTimeoutMs,
    caFile: env.NODE_EXTRA_CA_CERTS ? undefined : nonEmpty(env.SSL_CERT_FILE),
    context: ctx,
  });
  log.info('response', { status: res.status, content_type: res.contentType || null });

  try {
    if (res.status < 200 || res.status >= 300) {
      const text = await res.text();
      throw classifyHttpError(res.status, text, ctx);
    }
    if (res.contentType === 'application/json' || res.contentType === 'text/html') {
      // A 200 that is not a stream: LM Studio's "Unexpected endpoint or method"
      // for a stale key or wrong path, a captive page, a server ignoring stream:true.
      const text = await res.text();
      throw new WorkerFailure(
        'INVALID_RESPONSE',
        `HTTP ${res.status} with ${res.contentType} instead of an event stream: ${excerpt(text) || '(empty body)'}`,
        HINTS.INVALID_RESPONSE_NOT_STREAM(),
        res.status,
      );
    }
    const reply = new ReplyBuilder({
      token: (content) => rc.emit({ type: 'token', task_id: task.task_id, content }),
      thinking: (content) => rc.emit({ type: 'thinking', task_id: task.task_id, content }),
    });
    const handler: StreamHandler = isAnthropic ? new AnthropicStream(reply, ctx) : new OpenAIStream(reply, ctx);
    const parser = new SseParser();
    let bytes = 0;
    try {
      for await (const chunk of res.chunks()) {
        bytes += chunk.length;
        for (const ev of parser.feed(chunk)) {
          handler.onEvent(ev);
          if (handler.finished) break;
        }
        if (handler.finished) break;
        const wait = rc.backpressure?.();
        if (wait) await wait;
      }
      if (!handler.finished) for (const ev of parser.end()) handler.onEvent(ev);
    } catch (err) {
      if (err instanceof SseTooLargeError) {
        throw new WorkerFailure('INVALID_RESPONSE', err.message, HINTS.INVALID_RESPONSE_BAD_STREAM(ctx));
      }
      // The model already said it stopped; only the trailer ([DONE], usage, message_stop)
      // was lost to a stall or a dropped connection. The reply itself is whole.
      if (err instanceof WorkerFailure && (err.code === 'TIMEOUT' || err.code === 'NETWORK') && handler.complete) {
        log.warn('stream cut after the model finished; keeping the reply', { code: err.code, error: err.message });
      } else {
        throw err;
      }
    }
    const outcome = handler.finish();
    log.info('reply complete', {
      bytes,
      events: parser.events,
      keepalives: parser.comments,
      stop_reason: outcome.stopReason ?? null,
      final_bytes: outcome.finalResponseBytes ?? Buffer.byteLength(outcome.finalResponse),
      final_truncated: outcome.finalResponseBytes !== undefined,
      input_tokens: outcome.usage.input_tokens ?? null,
      output_tokens: outcome.usage.output_tokens ?? null,
    });
    return outcome;
  } finally {
    closeQuietly(res);
  }
}

function closeQuietly(res: HttpResponse): void {
  try {
    res.close();
  } catch {
    // already closed
  }
}
