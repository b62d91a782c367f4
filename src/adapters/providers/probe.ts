import { systemClock, type Clock } from '../../core/context.js';
import {
  classifyHttpStatus,
  classifyNetworkError,
  isUnexpectedEndpoint,
  parseModelList,
  probeKindFor,
  probeUrl,
  type ProbeKind,
  type ProbeOutcome,
  type ProbeReason,
} from '../../core/provider-status.js';
import { maskSecret, redactText } from '../../core/redact.js';

/**
 * HTTP probes of model providers, host side: one `GET` of the provider's model
 * list with a timeout, turned into a reason code. The key is passed in, sent
 * only in its header, and never appears in a message.
 */

export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export type HttpJsonResult =
  | { kind: 'http'; status: number; body: unknown; json: boolean; text: string; latencyMs: number }
  | { kind: 'network'; reason: ProbeReason; message: string; latencyMs: number };

export interface HttpJsonRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  /** Aborting it (e.g. Ctrl-C) rejects with the signal's reason instead of returning a result. */
  signal?: AbortSignal;
  maxBytes?: number;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } };
  const c = e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.code;
  return typeof c === 'string' ? c : undefined;
}

async function readLimited(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** One JSON request; never throws for network or HTTP trouble (only when `signal` is aborted). */
export async function httpJson(url: string, req: HttpJsonRequest): Promise<HttpJsonResult> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const started = performance.now();
  const elapsed = (): number => Math.max(0, Math.round(performance.now() - started));
  try {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method: req.method ?? 'GET',
      headers,
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      signal,
      redirect: 'follow',
    });
    const text = await readLimited(res, req.maxBytes ?? MAX_BODY_BYTES);
    const latencyMs = elapsed();
    if (text === undefined) return { kind: 'network', reason: 'INVALID_RESPONSE', message: `The answer from ${new URL(url).host} is larger than ${Math.round((req.maxBytes ?? MAX_BODY_BYTES) / 1024 / 1024)} MiB.`, latencyMs };
    try {
      return { kind: 'http', status: res.status, body: JSON.parse(text) as unknown, json: true, text, latencyMs };
    } catch {
      return { kind: 'http', status: res.status, body: undefined, json: false, text, latencyMs };
    }
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    const e = err as { name?: string; message?: string };
    const code = errorCode(err);
    const c = classifyNetworkError({ ...(e.name ? { name: e.name } : {}), ...(code ? { code } : {}), ...(e.message ? { message: e.message } : {}) }, url, req.timeoutMs);
    return { kind: 'network', reason: c.reason, message: c.message, latencyMs: elapsed() };
  }
}

/** Auth headers as each API expects them (nothing when there is no key). */
export function authHeaders(kind: ProbeKind, apiKey: string | undefined): Record<string, string> {
  if (kind === 'anthropic-models') return { 'anthropic-version': '2023-06-01', ...(apiKey ? { 'x-api-key': apiKey } : {}) };
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/** The server's own error text from a JSON error body, short, with the key masked. */
export function serverMessage(body: unknown, text: string, apiKey?: string): string {
  let m = '';
  if (body && typeof body === 'object') {
    const b = body as { error?: unknown; message?: unknown };
    if (typeof b.error === 'string') m = b.error;
    else if (b.error && typeof b.error === 'object' && typeof (b.error as { message?: unknown }).message === 'string') m = (b.error as { message: string }).message;
    else if (typeof b.message === 'string') m = b.message;
  } else {
    m = text.trim();
  }
  m = m.replace(/\s+/g, ' ').slice(0, 200);
  if (apiKey && apiKey.length > 0) m = m.split(apiKey).join(maskSecret(apiKey));
  return redactText(m);
}

export interface ProbeOptions {
  apiKey?: string | undefined;
  timeoutMs?: number;
  clock?: Clock;
}

/**
 * Probe one provider endpoint: lmstudio → /api/v1/models (and /v1/models when LM Studio has no
 * native API, before 0.4), ollama → /api/tags, others → {base}/models. Says which API answered.
 */
export async function probeProvider(target: { provider: string; endpoint: string }, opts: ProbeOptions = {}): Promise<ProbeOutcome> {
  const kind = probeKindFor(target.provider);
  const first = await probeOnce(kind, target, opts);
  if (kind === 'lmstudio-native' && first.unexpectedEndpoint) {
    const viaOpenAI = await probeOnce('openai-models', target, opts);
    if (viaOpenAI.outcome.reason === 'OK') {
      return {
        ...viaOpenAI.outcome,
        latency_ms: (first.outcome.latency_ms ?? 0) + (viaOpenAI.outcome.latency_ms ?? 0),
        message: 'LM Studio has no native API here (before 0.4: /api/v1/models answered "Unexpected endpoint"); the models were listed through the OpenAI-compatible /v1/models.',
      };
    }
  }
  return first.outcome;
}

async function probeOnce(kind: ProbeKind, target: { endpoint: string }, opts: ProbeOptions): Promise<{ outcome: ProbeOutcome; unexpectedEndpoint?: boolean }> {
  const url = probeUrl(kind, target.endpoint);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const clock = opts.clock ?? systemClock;
  const r = await httpJson(url, { headers: authHeaders(kind, opts.apiKey), timeoutMs });
  const outcome = outcomeOf(kind, url, r, opts, clock);
  return r.kind === 'http' && r.json && r.status >= 200 && r.status < 300 && isUnexpectedEndpoint(r.body) ? { outcome, unexpectedEndpoint: true } : { outcome };
}

function outcomeOf(kind: ProbeKind, url: string, r: HttpJsonResult, opts: ProbeOptions, clock: Clock): ProbeOutcome {
  const checked_at = clock.now().toISOString();
  if (r.kind === 'network') return { reason: r.reason, message: r.message, latency_ms: r.latencyMs, checked_at };
  const base = { latency_ms: r.latencyMs, checked_at, http_status: r.status };
  const bad = classifyHttpStatus(r.status);
  if (bad) {
    const said = serverMessage(r.body, r.json ? '' : r.text, opts.apiKey);
    return { ...base, reason: bad, message: `GET ${new URL(url).pathname} answered HTTP ${r.status}${said ? `: ${said}` : ''}` };
  }
  if (!r.json) return { ...base, reason: 'INVALID_RESPONSE', message: `GET ${new URL(url).pathname} answered HTTP ${r.status} with something that is not JSON.` };
  const list = parseModelList(kind, r.body);
  if (!list.ok) return { ...base, reason: 'INVALID_RESPONSE', message: redactText(list.message) };
  const out: ProbeOutcome = { ...base, reason: 'OK', models: list.models, api: kind };
  if (list.loaded) out.loaded = list.loaded;
  return out;
}
