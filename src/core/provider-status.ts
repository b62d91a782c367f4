import { PROVIDERS } from './providers.js';
import type { RouteRecord } from './routes.js';

/**
 * Provider status, the pure part: reason codes and their hints, which
 * provider endpoints count as configured, how probe answers are classified,
 * and when a cached probe is still fresh. The probes themselves (HTTP) live
 * in src/adapters/providers/probe.ts; the cache is wired in src/cli.
 */

export const PROBE_REASONS = [
  'OK',
  'NO_CONFIG',
  'CONN_REFUSED',
  'TIMEOUT',
  'HTTP_401',
  'HTTP_403',
  'HTTP_404',
  'HTTP_429',
  'HTTP_5XX',
  'INVALID_RESPONSE',
  'PERMISSION_NOT_600',
  'STALE_REFRESH',
] as const;

export type ProbeReason = (typeof PROBE_REASONS)[number];

export type ProviderState = 'ok' | 'error' | 'unconfigured';

/** How a provider is probed: LM Studio's native list, Ollama's tags, or an OpenAI/Anthropic `GET {base}/models`. */
export type ProbeKind = 'lmstudio-native' | 'ollama-tags' | 'openai-models' | 'anthropic-models';

export const DEFAULT_STATUS_TTL_MS = 30_000;

/** One provider endpoint to check, with the routes that use it. */
export interface ProbeTarget {
  provider: string;
  endpoint: string;
  routes: string[];
}

/** What one probe found (or why none was made). */
export interface ProbeOutcome {
  reason: ProbeReason;
  /** A short description of what happened (never contains a key). */
  message?: string;
  /** Milliseconds from request to parsed answer; null when nothing was sent. */
  latency_ms: number | null;
  checked_at: string;
  http_status?: number;
  /** Model ids the provider listed. */
  models?: string[];
  /** LM Studio: model keys with a loaded instance. */
  loaded?: string[];
  /** Which API answered: LM Studio's native one, or the OpenAI-compatible /v1/models when the native one is missing. */
  api?: ProbeKind;
}

/** A probe outcome as stored in the status cache. */
export interface CachedProbe extends ProbeOutcome {
  provider: string;
  endpoint: string;
  /** Fingerprint of the credential used (or null for none): a changed key makes the entry stale. */
  credential: string | null;
}

export interface ProviderStatusFile {
  version: 1;
  entries: Record<string, CachedProbe>;
}

export const emptyProviderStatus = (): ProviderStatusFile => ({ version: 1, entries: {} });

/** What `logos providers status` reports per provider endpoint. */
export interface ProviderStatus {
  provider: string;
  endpoint: string;
  state: ProviderState;
  reason: ProbeReason;
  hint: string;
  message?: string;
  latency_ms: number | null;
  checked_at: string;
  cached: boolean;
  models?: string[];
  loaded?: string[];
  /** Which API answered (see ProbeOutcome.api). */
  api?: ProbeKind;
  routes: string[];
}

export function statusKey(provider: string, endpoint: string): string {
  return `${provider} ${endpoint}`;
}

export function stateFor(reason: ProbeReason): ProviderState {
  if (reason === 'OK') return 'ok';
  if (reason === 'NO_CONFIG') return 'unconfigured';
  return 'error';
}

export function probeKindFor(provider: string): ProbeKind {
  switch (provider) {
    case 'lmstudio':
      return 'lmstudio-native';
    case 'ollama':
      return 'ollama-tags';
    case 'anthropic':
      return 'anthropic-models';
    default:
      return 'openai-models';
  }
}

/** The server root below the OpenAI-compatible base: `http://h:1234/v1` → `http://h:1234`. */
export function serverRoot(endpoint: string): string {
  return endpoint.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** The URL a probe requests for a provider endpoint. */
export function probeUrl(kind: ProbeKind, endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  if (kind === 'lmstudio-native') return `${serverRoot(base)}/api/v1/models`;
  if (kind === 'ollama-tags') return `${serverRoot(base)}/api/tags`;
  return `${base}/models`;
}

/**
 * Every distinct provider+endpoint used by a route, plus providers that have a
 * key (stored or in the environment) but no route, at their default endpoint.
 * Demo routes are left out: their server only runs during `logos demo`.
 */
export function configuredTargets(routes: readonly RouteRecord[], keyedProviders: readonly string[]): ProbeTarget[] {
  const byKey = new Map<string, ProbeTarget>();
  for (const r of [...routes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (r.demo) continue;
    const k = statusKey(r.provider, r.endpoint);
    const t = byKey.get(k);
    if (t) t.routes.push(r.name);
    else byKey.set(k, { provider: r.provider, endpoint: r.endpoint, routes: [r.name] });
  }
  const routed = new Set([...byKey.values()].map((t) => t.provider));
  for (const id of keyedProviders) {
    const p = PROVIDERS.find((x) => x.id === id);
    // A key for a provider the routes already use is checked through those routes.
    if (!p?.defaultEndpoint || routed.has(p.id)) continue;
    const k = statusKey(p.id, p.defaultEndpoint);
    if (!byKey.has(k)) byKey.set(k, { provider: p.id, endpoint: p.defaultEndpoint, routes: [] });
  }
  const order = (id: string): number => {
    const i = PROVIDERS.findIndex((p) => p.id === id);
    return i === -1 ? PROVIDERS.length : i;
  };
  return [...byKey.values()].sort((a, b) => order(a.provider) - order(b.provider) || a.endpoint.localeCompare(b.endpoint));
}

/** A provider that needs a key and has none is reported without probing. */
export function needsKeyButHasNone(provider: string, hasKey: boolean): boolean {
  const p = PROVIDERS.find((x) => x.id === provider);
  return !!p?.needsKey && !hasKey;
}

/**
 * Whether a cached probe can be reused: same credential, not older than the TTL,
 * and (for --refresh) checked after `notBefore`, so that concurrent
 * `--refresh` callers still share the one probe made after they started.
 */
export function isFresh(entry: Pick<CachedProbe, 'checked_at' | 'credential'>, opts: { now: Date; ttlMs: number; credential: string | null; notBefore?: Date }): boolean {
  const checked = Date.parse(entry.checked_at);
  if (!Number.isFinite(checked)) return false;
  if (entry.credential !== opts.credential) return false;
  if (opts.notBefore && checked <= opts.notBefore.getTime()) return false;
  const age = opts.now.getTime() - checked;
  // A timestamp in the future (clock moved back) is not trusted.
  return age >= 0 && age <= opts.ttlMs;
}

// ------------------------------------------------------------ classifying ---

/** An HTTP status that is not a success → its reason (2xx → undefined). */
export function classifyHttpStatus(status: number): ProbeReason | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 401) return 'HTTP_401';
  if (status === 403) return 'HTTP_403';
  if (status === 404) return 'HTTP_404';
  if (status === 429) return 'HTTP_429';
  if (status >= 500) return 'HTTP_5XX';
  return 'INVALID_RESPONSE';
}

/** A failed request (no HTTP answer) → reason and a plain message. `code` is the system error code (ECONNREFUSED, ENOTFOUND, …). */
export function classifyNetworkError(err: { name?: string; code?: string; message?: string }, url: string, timeoutMs: number): { reason: ProbeReason; message: string } {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // keep the raw text
  }
  const code = err.code ?? '';
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { reason: 'TIMEOUT', message: `No answer from ${host} within ${Math.round(timeoutMs / 100) / 10}s.` };
  }
  if (code === 'ECONNREFUSED') return { reason: 'CONN_REFUSED', message: `Connection refused by ${host} (nothing listens there).` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return { reason: 'CONN_REFUSED', message: `Cannot resolve the host name of ${host} (DNS: ${code}).` };
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return { reason: 'CONN_REFUSED', message: `${host} is unreachable (${code}).` };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return { reason: 'CONN_REFUSED', message: `${host} closed the connection (${code}).` };
  if (/CERT|SSL|TLS/i.test(code)) return { reason: 'CONN_REFUSED', message: `TLS with ${host} failed (${code}).` };
  return { reason: 'CONN_REFUSED', message: `Cannot connect to ${host}${code ? ` (${code})` : err.message ? ` (${err.message})` : ''}.` };
}

export type ModelListResult = { ok: true; models: string[]; loaded?: string[] } | { ok: false; message: string };

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** One model of LM Studio's native list. */
export interface LmStudioModel {
  key: string;
  type?: string;
  /** Ids of loaded instances (the key, or a custom identifier such as `key:2`). */
  instances: string[];
}

/** LM Studio's `GET /api/v1/models`: `{models: [{key, loaded_instances: [{id}]}]}`. */
export function parseLmStudioModels(body: unknown): { ok: true; models: LmStudioModel[] } | { ok: false; message: string } {
  if (isObj(body) && typeof body.error === 'string') return { ok: false, message: `LM Studio answered: ${body.error}` };
  if (isObj(body) && isObj(body.error) && typeof body.error.message === 'string') return { ok: false, message: `LM Studio answered: ${body.error.message}` };
  if (!isObj(body) || !Array.isArray(body.models)) return { ok: false, message: 'The answer has no `models` list (is this LM Studio 0.4 or newer?).' };
  const out: LmStudioModel[] = [];
  for (const m of body.models) {
    if (!isObj(m) || typeof m.key !== 'string') return { ok: false, message: 'A model in the list has no `key`.' };
    const instances = Array.isArray(m.loaded_instances)
      ? m.loaded_instances.map((i) => (isObj(i) && typeof i.id === 'string' ? i.id : m.key as string))
      : [];
    out.push({ key: m.key, instances, ...(typeof m.type === 'string' ? { type: m.type } : {}) });
  }
  return { ok: true, models: out };
}

/**
 * LM Studio before 0.4 has no native REST API: it answers `/api/v1/models` with HTTP 200 and
 * `{"error":"Unexpected endpoint or method. (GET /api/v1/models)"}`. (A stale key can make a
 * newer one answer the same way; the OpenAI-compatible list then fails as well.)
 */
export function isUnexpectedEndpoint(body: unknown): boolean {
  const e = isObj(body) ? body.error : undefined;
  const text = typeof e === 'string' ? e : isObj(e) && typeof e.message === 'string' ? e.message : '';
  return /Unexpected endpoint/i.test(text);
}

/** Check a 2xx JSON answer against the shape the provider's list endpoint has. */
export function parseModelList(kind: ProbeKind, body: unknown): ModelListResult {
  if (kind === 'lmstudio-native') {
    const r = parseLmStudioModels(body);
    if (!r.ok) return r;
    return { ok: true, models: r.models.map((m) => m.key), loaded: r.models.filter((m) => m.instances.length > 0).map((m) => m.key) };
  }
  if (kind === 'ollama-tags') {
    if (!isObj(body) || !Array.isArray(body.models)) return { ok: false, message: 'The answer has no `models` list (is this Ollama?).' };
    const names = body.models.map((m) => (isObj(m) && typeof m.name === 'string' ? m.name : isObj(m) && typeof m.model === 'string' ? m.model : undefined));
    if (names.some((n) => n === undefined)) return { ok: false, message: 'A model in the list has no `name`.' };
    return { ok: true, models: names as string[] };
  }
  // OpenAI-compatible and Anthropic: {data: [{id}]}. LM Studio's "Unexpected endpoint" 200 lands here too.
  if (isObj(body) && typeof body.error === 'string') return { ok: false, message: `The server answered: ${body.error}` };
  if (isObj(body) && isObj(body.error)) return { ok: false, message: `The server answered with an error: ${typeof body.error.message === 'string' ? body.error.message : JSON.stringify(body.error)}` };
  if (!isObj(body) || !Array.isArray(body.data)) return { ok: false, message: 'The answer has no `data` list of models.' };
  const ids = body.data.map((m) => (isObj(m) && typeof m.id === 'string' ? m.id : undefined));
  if (ids.some((i) => i === undefined)) return { ok: false, message: 'A model in the list has no `id`.' };
  return { ok: true, models: ids as string[] };
}

// ------------------------------------------------------------------ hints ---

function label(provider: string): string {
  return PROVIDERS.find((p) => p.id === provider)?.label ?? provider;
}

function keyCommand(provider: string): string {
  const env = PROVIDERS.find((p) => p.id === provider)?.keyEnv ?? 'KEY';
  return `printf %s "$${env}" | logos creds set ${provider} --key-stdin`;
}

function routeRef(t: Pick<ProbeTarget, 'routes'>): string {
  return t.routes[0] ?? '<route>';
}

/** The next thing to do for a reason, as a command where there is one. */
export function hintFor(reason: ProbeReason, t: ProbeTarget): string {
  const p = t.provider;
  const local = PROVIDERS.find((x) => x.id === p)?.local ?? false;
  const fixEndpoint = `check the endpoint with \`logos route show ${routeRef(t)}\` (re-add the route with --endpoint to change it)`;
  switch (reason) {
    case 'OK':
      return t.routes.length > 0 ? `Ready: \`logos run --route ${routeRef(t)} "Say hello"\`.` : `Ready: add a route with \`logos route add ${p}/<model>\`.`;
    case 'NO_CONFIG':
      return `${label(p)} needs a key: \`${keyCommand(p)}\` (or set ${PROVIDERS.find((x) => x.id === p)?.keyEnv ?? 'its environment variable'}).`;
    case 'CONN_REFUSED':
      if (p === 'lmstudio') return `Start LM Studio's server (Developer tab, or \`lms server start\`), or ${fixEndpoint}.`;
      if (p === 'ollama') return `Start Ollama (\`ollama serve\`, or the Ollama app), or ${fixEndpoint}.`;
      if (p === 'llamacpp') return `Start the llama.cpp server (\`llama-server -m MODEL.gguf --port 8080\`), or ${fixEndpoint}.`;
      if (p === 'custom') return `Start the server at ${t.endpoint}, or ${fixEndpoint}.`;
      return `Check the network, DNS and any proxy (\`curl -sI ${t.endpoint}\`), and ${fixEndpoint}.`;
    case 'TIMEOUT':
      return local
        ? `${label(p)} did not answer in time (busy loading a model?). Look at it, then \`logos providers status --refresh\`.`
        : `No answer in time: check the network or proxy, then \`logos providers status --refresh\`.`;
    case 'HTTP_401':
      return p === 'lmstudio'
        ? `LM Studio refused the key: copy the API token from LM Studio (Developer → Server Settings) and store it with \`logos creds set lmstudio\`.`
        : `The key was refused: store the right one with \`logos creds set ${p}\`.`;
    case 'HTTP_403':
      return `The key works but lacks permission (project, organisation, model access or region): check the account, or store another key with \`logos creds set ${p}\`.`;
    case 'HTTP_404':
      return p === 'lmstudio'
        ? `No native model list there: LM Studio 0.4 or newer is needed (\`lms version\`), or ${fixEndpoint}.`
        : `Nothing answers the model list at this address: the endpoint should be the base URL including /v1; ${fixEndpoint}.`;
    case 'HTTP_429':
      return `Rate limited or out of credit: check the plan and billing of ${label(p)}, wait, then \`logos providers status --refresh\`.`;
    case 'HTTP_5XX':
      return local
        ? `${label(p)} reported a server error: look at its log, then \`logos providers status --refresh\`.`
        : `${label(p)} reported a server error (not your setup): try again later with \`logos providers status --refresh\`.`;
    case 'INVALID_RESPONSE':
      return p === 'lmstudio'
        ? `Something answered, but not as LM Studio 0.4+ does (a stale key makes LM Studio answer "Unexpected endpoint or method"): store the current key with \`logos creds set lmstudio\`, update LM Studio, or ${fixEndpoint}.`
        : `Something answered that is not a ${label(p)} API: ${fixEndpoint}.`;
    case 'PERMISSION_NOT_600':
      return 'The credentials file is readable by others: run `logos creds fix-permissions`.';
    case 'STALE_REFRESH':
      return 'Another logos process was probing and did not finish in time: run `logos providers status --refresh` again.';
  }
}

/** Build the reported status from a probe outcome. */
export function toStatus(t: ProbeTarget, o: ProbeOutcome, cached: boolean): ProviderStatus {
  const s: ProviderStatus = {
    provider: t.provider,
    endpoint: t.endpoint,
    state: stateFor(o.reason),
    reason: o.reason,
    hint: hintFor(o.reason, t),
    ...(o.message ? { message: o.message } : {}),
    latency_ms: o.latency_ms,
    checked_at: o.checked_at,
    cached,
    ...(o.models ? { models: o.models } : {}),
    ...(o.loaded ? { loaded: o.loaded } : {}),
    ...(o.api ? { api: o.api } : {}),
    routes: [...t.routes],
  };
  return s;
}
