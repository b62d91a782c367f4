/**
 * Turns upstream failures (HTTP statuses, error bodies, mid-stream error
 * objects, socket errors, timeouts) into the worker's stable error codes, each
 * with a hint a person can act on. Pure functions: no IO.
 */
import type { FrameError, Usage, WorkerErrorCode } from '../core/protocol.js';
import { excerpt, scrub } from './redact.js';

/** How far a task with tools got before it failed (reported in the error result). */
export interface TaskProgress {
  steps: number;
  toolsUsed: Record<string, number>;
  usage?: Usage | undefined;
}

export class WorkerFailure extends Error {
  readonly code: WorkerErrorCode;
  readonly hint: string;
  readonly status: number | undefined;
  progress?: TaskProgress;

  constructor(code: WorkerErrorCode, message: string, hint: string, status?: number) {
    super(scrub(message));
    this.name = 'WorkerFailure';
    this.code = code;
    this.hint = scrub(hint);
    this.status = status;
  }

  toFrameError(): FrameError {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

/** What the hints may mention. */
export interface ClassifyContext {
  provider?: string | undefined;
  model?: string | undefined;
  /** Effective base URL. */
  baseUrl?: string | undefined;
  /** LOGOS_INFERENCE_SOCKET, when requests go over a Unix socket. */
  socketPath?: string | undefined;
  api?: string | undefined;
}

/** Fields worth reading from an upstream error object or body. */
export interface UpstreamErrorInfo {
  message: string;
  type?: string | undefined;
  code?: string | undefined;
  /** Numeric status carried inside the error object (OpenRouter puts one there). */
  status?: number | undefined;
}

const CONTEXT_RE =
  /context[ _-]?(length|window|size)|maximum context|context_length_exceeded|prompt is too long|too many tokens|input is too long|exceeds? (the )?(model'?s? )?(maximum )?(context|token limit)|n_ctx|tokens? to keep from the initial prompt|request too large/i;
const MODEL_RE =
  /model_not_found|no models? (is |are )?loaded|unknown model|invalid model|\bmodel\b[^.]{0,120}?\b(not found|not loaded|does not exist|doesn't exist|is not available|not available|unavailable)|failed to find model/i;
const RATE_RE = /rate.?limit|too many requests|quota/i;
const OVERLOAD_RE = /overloaded|server error|internal error|service unavailable|bad gateway/i;
const AUTH_RE = /api.?key|unauthori[sz]ed|authenticat|permission denied|forbidden/i;

export function looksLikeContextOverflow(message: string): boolean {
  return CONTEXT_RE.test(message);
}

export function looksLikeModelNotFound(message: string): boolean {
  return MODEL_RE.test(message);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Read the message/type/code out of an error object in any of the shapes servers use. */
export function errorInfoFromObject(obj: unknown): UpstreamErrorInfo | undefined {
  if (typeof obj === 'string') return { message: obj };
  if (!obj || typeof obj !== 'object') return undefined;
  const o = obj as Record<string, unknown>;
  const inner = o.error;
  if (typeof inner === 'string') return { message: inner, type: str(o.type) === 'error' ? undefined : str(o.type) };
  if (inner && typeof inner === 'object') {
    const e = inner as Record<string, unknown>;
    const info: UpstreamErrorInfo = { message: str(e.message) ?? str(e.msg) ?? str(e.detail) ?? '' };
    info.type = str(e.type);
    if (typeof e.code === 'number') info.status = e.code;
    else info.code = str(e.code);
    if (typeof e.status === 'number') info.status = e.status;
    if (!info.message) info.message = info.type ?? info.code ?? JSON.stringify(e);
    return info;
  }
  const message = str(o.message) ?? str(o.detail) ?? str(o.msg);
  if (message) return { message, type: str(o.type), code: typeof o.code === 'string' ? o.code : undefined };
  if (Array.isArray(o.detail)) {
    const first = o.detail[0] as Record<string, unknown> | undefined;
    const msg = first ? str(first.msg) : undefined;
    if (msg) return { message: msg };
  }
  return undefined;
}

/** Read an HTTP error body (JSON in the common shapes, or text/HTML). */
export function errorInfoFromBody(body: string): UpstreamErrorInfo {
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('"')) {
    try {
      const info = errorInfoFromObject(JSON.parse(trimmed));
      if (info) return info;
    } catch {
      // not JSON after all: fall through to the raw text
    }
  }
  const text = trimmed.replace(/<[^>]*>/g, ' ');
  return { message: text };
}

function modelName(ctx: ClassifyContext): string {
  return ctx.model ? `"${ctx.model}"` : 'the requested model';
}

function where(ctx: ClassifyContext): string {
  return ctx.baseUrl ? ` at ${ctx.baseUrl}` : '';
}

export const HINTS = {
  AUTH: (ctx: ClassifyContext): string =>
    `The model server rejected the credentials. Check the API key stored for provider ${ctx.provider ? `"${ctx.provider}"` : 'of this route'} and re-sync it to the gateway (the sandbox only holds a placeholder key; the inference router or the Logos host proxy adds the real one).`,
  RATE_LIMIT: (): string =>
    'The provider is rate limiting (or the quota is used up). Wait and retry, run fewer tasks at once, or raise the plan/quota with the provider.',
  MODEL_NOT_FOUND: (ctx: ClassifyContext): string =>
    `The model ${modelName(ctx)} is not available${where(ctx)}. Check the model id against the server's model list (GET /v1/models); for LM Studio or Ollama make sure it is downloaded and loaded; also check that the base URL is right.`,
  CONTEXT_OVERFLOW: (): string =>
    "The conversation does not fit in the model's context window. Shorten the input or history, lower max_tokens, or load the model with a larger context length.",
  UPSTREAM_5XX: (): string =>
    "The model server failed. Retry in a moment; if it persists, check the server's own logs. A 502/504 from the inference router can mean its per-request timeout (60 s by default) cut a long reply: raise it with `openshell inference update --timeout <seconds>`.",
  TIMEOUT_DEADLINE: (ms: number): string =>
    `The task ran past its deadline (${Math.round(ms / 1000)} s). Give it a longer deadline, lower max_tokens, or use a faster model.`,
  TIMEOUT_IDLE: (ms: number): string =>
    `The model server sent nothing for ${Math.round(ms / 1000)} s. It may be stuck or still loading the model: check it, or raise LOGOS_IDLE_TIMEOUT_MS for very slow models.`,
  INVALID_RESPONSE_NOT_STREAM: (): string =>
    'The server did not answer with an event stream. LM Studio answers a wrong path or a stale key with a 200 "Unexpected endpoint or method": check that the base URL ends in /v1 and re-sync the provider credentials to the gateway.',
  INVALID_RESPONSE_BAD_STREAM: (ctx: ClassifyContext): string =>
    `The server's reply was not a valid ${ctx.api === 'anthropic-messages' ? 'Anthropic messages' : 'OpenAI chat-completions'} stream. Check that the route's API type and base URL match the server.`,
  INVALID_RESPONSE_REJECTED: (): string =>
    'The model server rejected the request. Check the route settings (model, API type, parameters such as max_tokens and temperature) against what the server accepts.',
  INVALID_RESPONSE_EMPTY: (): string =>
    'The model finished without producing any text. Raise max_tokens (reasoning models can spend the whole budget thinking) or try another model.',
  MAX_STEPS: (steps: number): string =>
    `The model was still calling tools after ${steps} model calls. Raise --max-steps (the task's max_steps) or split the task into smaller ones.`,
  NO_MODEL: (): string =>
    'No model is configured for this route. Set the route\'s model and dispatch again; the worker never answers without one.',
  INVALID_TASK: (version: string): string =>
    `The host sent a task this worker cannot read (worker ${version}, protocol v1). Update Logos so host and worker match; if they already do, this is a bug.`,
};

function statusMessage(status: number, info: UpstreamErrorInfo): string {
  const msg = excerpt(scrub(info.message));
  return msg ? `HTTP ${status} from the model server: ${msg}` : `HTTP ${status} from the model server`;
}

/** Classify an HTTP error response (status >= 300) by its status and body. */
export function classifyHttpError(status: number, body: string, ctx: ClassifyContext = {}): WorkerFailure {
  const info = errorInfoFromBody(body);
  const message = statusMessage(status, info);
  const text = `${info.message} ${info.type ?? ''} ${info.code ?? ''}`;
  if (status === 401 || status === 403) return new WorkerFailure('AUTH', message, HINTS.AUTH(ctx), status);
  if (status === 429) return new WorkerFailure('RATE_LIMIT', message, HINTS.RATE_LIMIT(), status);
  if (status === 404) return new WorkerFailure('MODEL_NOT_FOUND', message, HINTS.MODEL_NOT_FOUND(ctx), status);
  if (status === 413) return new WorkerFailure('CONTEXT_OVERFLOW', message, HINTS.CONTEXT_OVERFLOW(), status);
  if (status === 408) return new WorkerFailure('TIMEOUT', message, HINTS.UPSTREAM_5XX(), status);
  // The Logos host proxy answers 502 network_error when it cannot reach the model server itself.
  if (status === 502 && info.type === 'network_error') {
    return new WorkerFailure(
      'NETWORK',
      info.message || message,
      'Nothing answered at the route endpoint. Start the model server (LM Studio, Ollama, llama.cpp …) or fix the endpoint: `logos route show <route>`, then `logos route add … --endpoint URL`.',
      status,
    );
  }
  if (status >= 500) return new WorkerFailure('UPSTREAM_5XX', message, HINTS.UPSTREAM_5XX(), status);
  if (status >= 400) {
    if (looksLikeContextOverflow(text)) return new WorkerFailure('CONTEXT_OVERFLOW', message, HINTS.CONTEXT_OVERFLOW(), status);
    if (looksLikeModelNotFound(text)) return new WorkerFailure('MODEL_NOT_FOUND', message, HINTS.MODEL_NOT_FOUND(ctx), status);
    return new WorkerFailure('INVALID_RESPONSE', message, HINTS.INVALID_RESPONSE_REJECTED(), status);
  }
  return new WorkerFailure(
    'INVALID_RESPONSE',
    `${message} (a redirect or other non-success answer instead of a stream)`,
    HINTS.INVALID_RESPONSE_NOT_STREAM(),
    status,
  );
}

const TYPE_CODES: Record<string, WorkerErrorCode> = {
  overloaded_error: 'UPSTREAM_5XX',
  api_error: 'UPSTREAM_5XX',
  server_error: 'UPSTREAM_5XX',
  internal_server_error: 'UPSTREAM_5XX',
  internal_error: 'UPSTREAM_5XX',
  service_unavailable: 'UPSTREAM_5XX',
  server_overloaded: 'UPSTREAM_5XX',
  rate_limit_error: 'RATE_LIMIT',
  rate_limit_exceeded: 'RATE_LIMIT',
  insufficient_quota: 'RATE_LIMIT',
  tokens: 'RATE_LIMIT',
  requests: 'RATE_LIMIT',
  authentication_error: 'AUTH',
  permission_error: 'AUTH',
  invalid_api_key: 'AUTH',
  not_found_error: 'MODEL_NOT_FOUND',
  model_not_found: 'MODEL_NOT_FOUND',
  context_length_exceeded: 'CONTEXT_OVERFLOW',
  request_too_large: 'CONTEXT_OVERFLOW',
  timeout_error: 'TIMEOUT',
};

function failureFor(code: WorkerErrorCode, message: string, ctx: ClassifyContext, status?: number): WorkerFailure {
  switch (code) {
    case 'AUTH':
      return new WorkerFailure(code, message, HINTS.AUTH(ctx), status);
    case 'RATE_LIMIT':
      return new WorkerFailure(code, message, HINTS.RATE_LIMIT(), status);
    case 'MODEL_NOT_FOUND':
      return new WorkerFailure(code, message, HINTS.MODEL_NOT_FOUND(ctx), status);
    case 'CONTEXT_OVERFLOW':
      return new WorkerFailure(code, message, HINTS.CONTEXT_OVERFLOW(), status);
    case 'TIMEOUT':
      return new WorkerFailure(code, message, HINTS.UPSTREAM_5XX(), status);
    case 'INVALID_RESPONSE':
      return new WorkerFailure(code, message, HINTS.INVALID_RESPONSE_REJECTED(), status);
    default:
      return new WorkerFailure('UPSTREAM_5XX', message, HINTS.UPSTREAM_5XX(), status);
  }
}

/**
 * Classify an error object that arrived inside a 200 stream
 * (`data: {"error":{…}}`, Anthropic `event: error`).
 */
export function classifyStreamError(obj: unknown, ctx: ClassifyContext = {}): WorkerFailure {
  const info = errorInfoFromObject(obj) ?? { message: excerpt(JSON.stringify(obj) ?? '') };
  const label = info.type ?? info.code ?? (info.status !== undefined ? String(info.status) : undefined);
  const msg = excerpt(scrub(info.message));
  const message = `model server error mid-stream${label ? ` (${label})` : ''}: ${msg}`;
  const text = `${info.message} ${info.type ?? ''} ${info.code ?? ''}`;

  if (info.status !== undefined && info.status >= 400) {
    const byStatus = classifyHttpError(info.status, JSON.stringify({ error: { message: info.message } }), ctx);
    return failureFor(byStatus.code, message, ctx, info.status);
  }
  const typed = (info.type && TYPE_CODES[info.type]) ?? (info.code && TYPE_CODES[info.code]);
  if (typed) return failureFor(typed, message, ctx);
  if (looksLikeContextOverflow(text)) return failureFor('CONTEXT_OVERFLOW', message, ctx);
  if (looksLikeModelNotFound(text)) return failureFor('MODEL_NOT_FOUND', message, ctx);
  if (RATE_RE.test(text)) return failureFor('RATE_LIMIT', message, ctx);
  if (AUTH_RE.test(text)) return failureFor('AUTH', message, ctx);
  if (info.type === 'invalid_request_error') return failureFor('INVALID_RESPONSE', message, ctx);
  if (OVERLOAD_RE.test(text)) return failureFor('UPSTREAM_5XX', message, ctx);
  // An upstream that gives up mid-reply without saying why failed on its side.
  return failureFor('UPSTREAM_5XX', message, ctx);
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

/** Classify a socket/connection error thrown by node:http(s). */
export function classifyNetworkError(err: unknown, ctx: ClassifyContext = {}): WorkerFailure {
  if (err instanceof WorkerFailure) return err;
  const e = (err ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const raw = typeof e.message === 'string' ? e.message : String(err);
  const target = ctx.socketPath ? `the inference socket ${ctx.socketPath}` : (ctx.baseUrl ?? 'the model server');
  const detail = excerpt(scrub(raw));

  if (ctx.socketPath && (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ENOTSOCK')) {
    return new WorkerFailure(
      'NETWORK',
      `cannot connect to ${target} (${code}): ${detail}`,
      `The Logos host inference proxy is not reachable through ${ctx.socketPath}. Make sure the host proxy is running and its socket is bound into the sandbox, then retry.`,
    );
  }
  if (code === 'ECONNREFUSED') {
    return new WorkerFailure(
      'NETWORK',
      `connection refused by ${target}: ${detail}`,
      'Nothing is listening there. Start the model server or fix the base URL. From a sandbox use https://inference.local/v1; a server on the gateway host is reached as http://host.openshell.internal:PORT/v1, never 127.0.0.1.',
    );
  }
  if (DNS_CODES.has(code)) {
    return new WorkerFailure(
      'NETWORK',
      `cannot resolve the host of ${target} (${code})`,
      'Sandboxes have no general network access: requests must go to https://inference.local/v1 (OpenShell) or through LOGOS_INFERENCE_SOCKET (local sandbox). Check the route base URL and the sandbox policy.',
    );
  }
  if (RESET_CODES.has(code) || /socket hang up|aborted|premature close/i.test(raw)) {
    return new WorkerFailure(
      'NETWORK',
      `the connection to ${target} was dropped (${code || 'reset'}): ${detail}`,
      'The connection dropped mid-request. Retry; if it keeps happening after about 60 s, the inference router timeout may be cutting long replies (`openshell inference update --timeout <seconds>`).',
    );
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code + ' ' + raw)) {
    return new WorkerFailure(
      'NETWORK',
      `TLS failure talking to ${target} (${code || 'tls'}): ${detail}`,
      'The server certificate is not trusted inside the sandbox. Make sure the sandbox CA bundle is exported (NODE_EXTRA_CA_CERTS or SSL_CERT_FILE) or use the route OpenShell provides.',
    );
  }
  return new WorkerFailure(
    'NETWORK',
    `cannot talk to ${target}${code ? ` (${code})` : ''}: ${detail}`,
    'Check that the model server is running and reachable from the sandbox, and that the route base URL is right.',
  );
}

export function deadlineFailure(deadlineMs: number): WorkerFailure {
  return new WorkerFailure('TIMEOUT', `the task deadline of ${deadlineMs} ms passed before the reply was complete`, HINTS.TIMEOUT_DEADLINE(deadlineMs));
}

export function idleFailure(idleMs: number): WorkerFailure {
  return new WorkerFailure(
    'TIMEOUT',
    `no data from the model server for ${idleMs} ms (idle timeout)`,
    HINTS.TIMEOUT_IDLE(idleMs),
  );
}

/** Anything thrown that is not already classified. */
export function toWorkerFailure(err: unknown, ctx: ClassifyContext = {}): WorkerFailure {
  if (err instanceof WorkerFailure) return err;
  const e = err as { code?: unknown; syscall?: unknown } | null;
  if (e && typeof e === 'object' && (typeof e.syscall === 'string' || typeof e.code === 'string')) {
    return classifyNetworkError(err, ctx);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new WorkerFailure(
    'INVALID_RESPONSE',
    `unexpected failure while reading the reply: ${excerpt(scrub(message))}`,
    HINTS.INVALID_RESPONSE_BAD_STREAM(ctx),
  );
}
