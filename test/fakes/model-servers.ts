/**
 * Fake model servers for tests: real HTTP servers on 127.0.0.1 (port 0) that
 * speak the real streaming formats: OpenAI chat-completions SSE (with the
 * LM Studio / vLLM / OpenRouter reasoning variants) and Anthropic messages SSE.
 * They know nothing about tests: a scenario says how the server behaves, either
 * for the whole server (setScenario) or per request through the model name
 * ("scenario:<name>" or "scenario:<name>?stall_after=3&delay_ms=50").
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  agentScriptName,
  anthropicThinkingProblem,
  anthropicToolProblem,
  argumentsText,
  assistantTurns,
  builtinScript,
  fakeRedacted,
  fakeSignature,
  fragments,
  openAIToolProblem,
  scriptStep,
  type AgentScript,
  type AgentStep,
} from './agent-script.js';

export * from './agent-script.js';

export const SCENARIOS = [
  /** Normal reply, `Echo: <last user message>` (the default). */
  'plain',
  /** `delta.reasoning_content` first, then content (LM Studio, vLLM, DeepSeek). Anthropic: a thinking block. */
  'reasoning',
  /** `delta.reasoning` (OpenRouter, newer vLLM). Anthropic: same as reasoning. */
  'reasoning-field',
  /** `delta.reasoning` plus the same text in `delta.reasoning_details` (OpenRouter). Anthropic: same as reasoning. */
  'reasoning-details',
  /** Inline `<think>…</think>` in the content, cut into 5-character chunks so the tags are split. */
  'think-tags',
  /** Content that is only a `<think>…</think>` block. */
  'think-only',
  /** Reasoning only, the content stays empty. */
  'reasoning-only',
  /** Keep-alive comments (OpenAI) / ping events (Anthropic) between all records. */
  'keepalive',
  /** Reply "héllo ✓ 日本 Echo: …", every record written in tiny byte pieces (chunk_bytes, default 2). */
  'split-bytes',
  /** CRLF line endings. */
  'crlf',
  /** Each JSON payload spread over several `data:` lines. */
  'multiline-data',
  /** OpenAI: usage inside the finish chunk (LM Studio style) instead of a separate chunk. */
  'usage-last-chunk',
  /** Finish chunk / stop_reason but no `[DONE]` / message_stop, then a clean end. */
  'no-done',
  /** Real JSON error bodies with these statuses. */
  'http-400-context',
  'http-400-model-not-loaded',
  'http-401',
  'http-403',
  'http-404',
  'http-413',
  'http-429',
  'http-500',
  'http-503',
  'http-529',
  /** Part of the reply, then `data: {"error":…}` (OpenAI) / `event: error` overloaded_error (Anthropic). */
  'mid-stream-error',
  /** stall_after records (default 2), then nothing, the connection held open. */
  'stall',
  /** Accepts the request and never answers (no headers). */
  'hang',
  /** delay_ms (default 25) between records. */
  'slow',
  /** HTTP 200 with LM Studio's JSON `{"error":"Unexpected endpoint or method. (POST …)"}`. */
  'unexpected-endpoint',
  /** drop_after records (default 3), then the connection is destroyed mid-reply. */
  'drop',
  /** Part of the reply, then a clean end of the response with no finish and no [DONE]. */
  'truncated',
  /** An event-stream response with no events at all. */
  'empty',
  /** A record whose data is not JSON. */
  'malformed',
  /**
   * A long reply as fast as the socket takes it: `tokens` pieces (default 1000) of
   * about `piece_chars` characters (default 24) with 2-, 3- and 4-byte UTF-8
   * characters; the text is floodReply(tokens, piece_chars). Records are batched
   * into large writes so the server is never the bottleneck. With drop_after, the
   * connection is destroyed after that many records.
   */
  'flood',
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

export interface Scenario {
  name: ScenarioName;
  /** Visible reply; default `Echo: <last user message>`. */
  reply?: string;
  /** Reasoning text; default `Thinking about: <last user message>`. */
  reasoning?: string;
  /** `stall`: records sent before the stream stalls (default 2). */
  stallAfter?: number;
  /** Delay between records in ms (`slow` defaults to 25; any streaming scenario honours it). */
  delayMs?: number;
  /** `split-bytes`: bytes per write (default 2). */
  chunkBytes?: number;
  /** `drop`: records sent before the connection is destroyed (default 3). */
  dropAfter?: number;
  /** `flood`: pieces in the reply (default 1000). */
  tokens?: number;
  /** `flood`: characters per piece, about (default 24). */
  pieceChars?: number;
}

export type ScenarioInput = ScenarioName | Scenario;

export interface FakeServerOptions {
  scenario?: ScenarioInput;
  /** Answer 401 (with the real error body) unless the request carries this key. */
  requireKey?: string;
  /** Model ids listed by the model-list endpoints (default ["fake-model"]). */
  models?: string[];
  /** LM Studio native list: models with a loaded instance (default: all of `models`). */
  loadedModels?: string[];
  /**
   * The OpenAI server's native API: 'lmstudio' (default: `GET /api/v1/models`,
   * `POST /api/v1/models/load`), 'ollama' (`GET /api/tags`; other unknown paths 404
   * "404 page not found") or 'none' (LM Studio before 0.4, or one that answers a
   * stale key: every unknown path, /api/v1/models included, gets the 200
   * "Unexpected endpoint or method").
   */
  nativeApi?: 'lmstudio' | 'ollama' | 'none';
  /** Delay before answering model-list requests (ms), so concurrent callers overlap. */
  listDelayMs?: number;
  /** Agent scripts by name, served to the model name `agent:<name>` (see agent-script.ts). */
  scripts?: Record<string, AgentScript>;
}

export interface RecordedRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, the raw text if it was not JSON, undefined if empty. */
  body: unknown;
  /** The scenario that served it (chat/messages requests only). */
  scenario?: ScenarioName;
  /** Agent mode: the script and the step (1-based) that answered, and the usage reported. */
  script?: string;
  step?: number;
  usage?: { input_tokens: number; output_tokens: number };
}

export interface FakeModelServer {
  /** Base URL including /v1, e.g. http://127.0.0.1:40123/v1 */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** LM Studio native API: keys that have a loaded instance now (`POST /api/v1/models/load` adds one). */
  loaded: Set<string>;
  setScenario(s: ScenarioInput): void;
  /** Add or replace the agent script served to `agent:<name>`. */
  setScript(name: string, script: AgentScript): void;
  close(): Promise<void>;
}

/** The reply prefix of the split-bytes scenario: multi-byte UTF-8 (2, 3 and 3-byte characters). */
export const UNICODE_REPLY_PREFIX = 'héllo ✓ 日本';

const FLOOD_FILLER = Array.from(' héllo wörld ✓ 日本語 😀 lorem');

/** Piece `i` of the flood scenario: `w<i>` then filler up to about `chars` characters (whole code points). */
export function floodPiece(i: number, chars = 24): string {
  let p = `w${i}`;
  for (let k = 0; p.length < chars; k++) p += FLOOD_FILLER[(i + k) % FLOOD_FILLER.length]!;
  return p;
}

/** The whole reply of `scenario:flood?tokens=N&piece_chars=C`. */
export function floodReply(tokens = 1000, chars = 24): string {
  const parts: string[] = [];
  for (let i = 0; i < tokens; i++) parts.push(floodPiece(i, chars));
  return parts.join('');
}

/** "scenario:<name>[?stall_after=N&delay_ms=N&chunk_bytes=N&drop_after=N&tokens=N&piece_chars=N&reply=…]" → Scenario. */
export function scenarioFromModel(model: unknown): Scenario | undefined {
  if (typeof model !== 'string' || !model.startsWith('scenario:')) return undefined;
  const rest = model.slice('scenario:'.length);
  const q = rest.indexOf('?');
  const name = q === -1 ? rest : rest.slice(0, q);
  if (!(SCENARIOS as readonly string[]).includes(name)) return undefined;
  const s: Scenario = { name: name as ScenarioName };
  const params = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1));
  const n = (k: string): number | undefined => {
    const v = params.get(k);
    return v === null || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v);
  };
  const stallAfter = n('stall_after');
  const delayMs = n('delay_ms');
  const chunkBytes = n('chunk_bytes');
  const dropAfter = n('drop_after');
  const tokens = n('tokens');
  const pieceChars = n('piece_chars');
  if (stallAfter !== undefined) s.stallAfter = stallAfter;
  if (delayMs !== undefined) s.delayMs = delayMs;
  if (chunkBytes !== undefined) s.chunkBytes = chunkBytes;
  if (dropAfter !== undefined) s.dropAfter = dropAfter;
  if (tokens !== undefined) s.tokens = tokens;
  if (pieceChars !== undefined) s.pieceChars = pieceChars;
  const reply = params.get('reply');
  if (reply !== null) s.reply = reply;
  return s;
}

function toScenario(s: ScenarioInput): Scenario {
  return typeof s === 'string' ? { name: s } : { ...s };
}

/** Whitespace-separated words: the fakes' deterministic "token" count. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

interface Msg {
  role?: unknown;
  content?: unknown;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => {
        const b = (p && typeof p === 'object' ? p : {}) as { text?: unknown; type?: unknown; content?: unknown };
        if (typeof b.text === 'string') return b.text;
        // Anthropic tool results count as prompt text like OpenAI's tool messages.
        if (b.type === 'tool_result') return ` ${contentText(b.content)} `;
        return '';
      })
      .join('');
  }
  return '';
}

/** The last user message of a request body. */
export function lastUserMessage(body: unknown): string {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Msg;
    if (m && m.role === 'user') return contentText(m.content);
  }
  return '';
}

/** Default reply of the fakes for a request body: `Echo: <last user message>`. */
export function defaultReply(body: unknown): string {
  return `Echo: ${lastUserMessage(body)}`;
}

export function defaultReasoning(body: unknown): string {
  return `Thinking about: ${lastUserMessage(body)}`;
}

/** Prompt "tokens" the fakes report: words over all messages (and the Anthropic system prompt). */
export function promptWords(body: unknown): number {
  const b = body as { messages?: unknown; system?: unknown } | undefined;
  let n = typeof b?.system === 'string' ? countWords(b.system) : 0;
  if (Array.isArray(b?.messages)) for (const m of b.messages) n += countWords(contentText((m as Msg).content));
  return n;
}

/** Cut text into word pieces that keep their trailing whitespace: "a b c" → ["a ", "b ", "c"]. */
export function wordPieces(text: string): string[] {
  const out = text.match(/\S+\s*|\s+/g) ?? [];
  return out.length > 0 ? out : [text];
}

function fixedPieces(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(Math.max(4, key.length - 7))}${key.slice(-4)}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** What a scenario makes the server do for one chat request. */
type Plan =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'hang' }
  | { kind: 'stream'; records: string[]; after: 'end' | 'stall' | 'drop'; stopAt?: number };

interface Ctx {
  scenario: Scenario;
  body: Record<string, unknown>;
  model: string;
  reply: string;
  reasoning: string;
  path: string;
  method: string;
  seq: number;
  authKey: string;
}

function sseData(payload: unknown, multiline: boolean): string {
  if (!multiline) return `data: ${JSON.stringify(payload)}\n\n`;
  return (
    JSON.stringify(payload, null, 1)
      .split('\n')
      .map((l) => `data: ${l}`)
      .join('\n') + '\n\n'
  );
}

function sseEvent(name: string, payload: unknown, multiline: boolean): string {
  return `event: ${name}\n${sseData(payload, multiline)}`;
}

/** Apply the stream-wide knobs (stall/drop/keep-alives) to a complete list of records. */
function finishPlan(ctx: Ctx, records: string[], keepalive: string): Plan {
  const s = ctx.scenario;
  const all = s.name === 'keepalive' ? records.flatMap((r, i) => (i === 0 ? [keepalive, r] : [r, keepalive])) : records;
  if (s.name === 'stall') return { kind: 'stream', records: all, after: 'stall', stopAt: s.stallAfter ?? 2 };
  if (s.name === 'drop') return { kind: 'stream', records: all, after: 'drop', stopAt: s.dropAfter ?? 3 };
  return { kind: 'stream', records: all, after: 'end' };
}

// ---------------------------------------------------------------- OpenAI ---

function openAIError(status: number, message: string, type: string, code: string | null, param: string | null = null): Plan {
  return { kind: 'json', status, body: { error: { message, type, param, code } } };
}

function openAIPlan(ctx: Ctx): Plan {
  const { scenario: s, body } = ctx;
  const model = ctx.model;
  switch (s.name) {
    case 'http-400-context':
      return openAIError(
        400,
        `This model's maximum context length is 4096 tokens. However, your messages resulted in ${4096 + promptWords(body)} tokens. Please reduce the length of the messages.`,
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      );
    case 'http-400-model-not-loaded':
      return { kind: 'json', status: 400, body: { error: 'No models loaded. Please load a model in the developer page or use the `lms load` command.' } };
    case 'http-401':
      return openAIError(
        401,
        `Incorrect API key provided: ${maskKey(ctx.authKey)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_request_error',
        'invalid_api_key',
      );
    case 'http-403':
      return openAIError(403, `Project does not have access to model \`${model}\``, 'invalid_request_error', 'model_not_found');
    case 'http-404':
      return openAIError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
    case 'http-413':
      return openAIError(413, 'Request too large: the request body exceeds the maximum size.', 'invalid_request_error', null);
    case 'http-429':
      return openAIError(
        429,
        `Rate limit reached for ${model} in organization org-fake on tokens per min (TPM): Limit 30000, Used 29950, Requested 512. Please try again in 1.2s.`,
        'tokens',
        'rate_limit_exceeded',
      );
    case 'http-500':
      return openAIError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
    case 'http-503':
      return openAIError(503, 'The engine is currently overloaded, please try again later', 'server_error', null);
    case 'http-529':
      return openAIError(529, 'The server is overloaded, please try again later.', 'server_error', null);
    case 'unexpected-endpoint':
      return { kind: 'json', status: 200, body: { error: `Unexpected endpoint or method. (${ctx.method} ${ctx.path})` } };
    case 'hang':
      return { kind: 'hang' };
    default:
      return openAIStreamPlan(ctx);
  }
}

function openAIStreamPlan(ctx: Ctx): Plan {
  const { scenario: s, body, model } = ctx;
  const multiline = s.name === 'multiline-data';
  const id = `chatcmpl-fake${ctx.seq}`;
  const created = 1_700_000_000;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}): string =>
    sseData(
      { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra },
      multiline,
    );
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;

  let reply = ctx.reply;
  const reasoning = ctx.reasoning;
  if (s.name === 'split-bytes' && s.reply === undefined) reply = `${UNICODE_REPLY_PREFIX} ${reply}`;
  const records: string[] = [chunk({ role: 'assistant', content: '' })];
  let completionWords = countWords(reply);

  switch (s.name) {
    case 'reasoning':
      for (const p of wordPieces(reasoning)) records.push(chunk({ reasoning_content: p }));
      for (const p of wordPieces(reply)) records.push(chunk({ content: p }));
      completionWords += countWords(reasoning);
      break;
    case 'reasoning-field':
      for (const p of wordPieces(reasoning)) records.push(chunk({ reasoning: p }));
      for (const p of wordPieces(reply)) records.push(chunk({ content: p }));
      completionWords += countWords(reasoning);
      break;
    case 'reasoning-details':
      for (const p of wordPieces(reasoning)) {
        records.push(chunk({ content: '', reasoning: p, reasoning_details: [{ type: 'reasoning.text', text: p, format: 'unknown', index: 0 }] }));
      }
      for (const p of wordPieces(reply)) records.push(chunk({ content: p }));
      completionWords += countWords(reasoning);
      break;
    case 'reasoning-only':
      for (const p of wordPieces(reasoning)) records.push(chunk({ reasoning_content: p, content: '' }));
      completionWords = countWords(reasoning);
      break;
    case 'think-tags':
      for (const p of fixedPieces(`<think>${reasoning}</think>\n\n${reply}`, 5)) records.push(chunk({ content: p }));
      completionWords += countWords(reasoning);
      break;
    case 'think-only':
      for (const p of fixedPieces(`<think>${reasoning}</think>`, 5)) records.push(chunk({ content: p }));
      completionWords = countWords(reasoning);
      break;
    case 'flood':
      for (let i = 0; i < (s.tokens ?? 1000); i++) records.push(chunk({ content: floodPiece(i, s.pieceChars) }));
      completionWords = s.tokens ?? 1000;
      break;
    case 'malformed':
      records.push(chunk({ content: wordPieces(reply)[0] ?? '' }));
      records.push('data: {"id":"' + id + '","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"broken\n\n');
      records.push('data: [DONE]\n\n');
      return finishPlan(ctx, records, ': keep-alive\n\n');
    default:
      for (const p of wordPieces(reply)) records.push(chunk({ content: p }));
  }

  const usage = { prompt_tokens: promptWords(body), completion_tokens: completionWords, total_tokens: promptWords(body) + completionWords };
  if (s.name === 'mid-stream-error') {
    const keep = Math.max(2, Math.ceil(records.length / 2));
    records.length = Math.min(records.length, keep);
    records.push(sseData({ error: { message: 'The server is overloaded, please try again later.', type: 'server_error', param: null, code: null } }, multiline));
    return { kind: 'stream', records, after: 'end' };
  }
  if (s.name === 'truncated') {
    records.length = Math.max(2, records.length - 1);
    return { kind: 'stream', records, after: 'end' };
  }
  if (s.name === 'empty') return { kind: 'stream', records: [], after: 'end' };
  if (s.name === 'usage-last-chunk') {
    records.push(chunk({}, 'stop', { usage }));
  } else {
    records.push(chunk({}, 'stop'));
    if (includeUsage) {
      records.push(sseData({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [], usage }, multiline));
    }
  }
  if (s.name !== 'no-done') records.push('data: [DONE]\n\n');
  return finishPlan(ctx, records, ': keep-alive\n\n');
}

// ------------------------------------------------------------- Anthropic ---

function anthropicError(status: number, type: string, message: string): Plan {
  return { kind: 'json', status, body: { type: 'error', error: { type, message }, request_id: 'req_fake0001' } };
}

function anthropicPlan(ctx: Ctx): Plan {
  const { scenario: s, model } = ctx;
  switch (s.name) {
    case 'http-400-context':
      return anthropicError(400, 'invalid_request_error', `prompt is too long: ${200_000 + promptWords(ctx.body)} tokens > 200000 maximum`);
    case 'http-400-model-not-loaded':
      return anthropicError(400, 'invalid_request_error', `model: ${model} not found`);
    case 'http-401':
      return anthropicError(401, 'authentication_error', 'invalid x-api-key');
    case 'http-403':
      return anthropicError(403, 'permission_error', 'Your API key does not have permission to use the specified resource.');
    case 'http-404':
      return anthropicError(404, 'not_found_error', `model: ${model}`);
    case 'http-413':
      return anthropicError(413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.');
    case 'http-429':
      return anthropicError(
        429,
        'rate_limit_error',
        'Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
      );
    case 'http-500':
      return anthropicError(500, 'api_error', 'Internal server error');
    case 'http-503':
      return anthropicError(503, 'api_error', 'Service unavailable');
    case 'http-529':
      return anthropicError(529, 'overloaded_error', 'Overloaded');
    case 'unexpected-endpoint':
      return { kind: 'json', status: 200, body: { error: `Unexpected endpoint or method. (${ctx.method} ${ctx.path})` } };
    case 'hang':
      return { kind: 'hang' };
    default:
      return anthropicStreamPlan(ctx);
  }
}

function anthropicStreamPlan(ctx: Ctx): Plan {
  const { scenario: s, body, model } = ctx;
  const multiline = s.name === 'multiline-data';
  const ev = (name: string, payload: Record<string, unknown>): string => sseEvent(name, { type: name, ...payload }, multiline);
  let reply = ctx.reply;
  const reasoning = ctx.reasoning;
  if (s.name === 'split-bytes' && s.reply === undefined) reply = `${UNICODE_REPLY_PREFIX} ${reply}`;
  const withThinking = s.name === 'reasoning' || s.name === 'reasoning-field' || s.name === 'reasoning-details' || s.name === 'reasoning-only';
  const withText = s.name !== 'reasoning-only';
  let text = reply;
  if (s.name === 'think-tags') text = `<think>${reasoning}</think>\n\n${reply}`;
  if (s.name === 'think-only') text = `<think>${reasoning}</think>`;
  const textPieces =
    s.name === 'flood'
      ? Array.from({ length: s.tokens ?? 1000 }, (_, i) => floodPiece(i, s.pieceChars))
      : s.name === 'think-tags' || s.name === 'think-only'
        ? fixedPieces(text, 5)
        : wordPieces(text);

  const inputTokens = promptWords(body);
  const outputTokens = s.name === 'flood' ? textPieces.length : (withText ? countWords(text) : 0) + (withThinking ? countWords(reasoning) : 0);
  const records: string[] = [
    ev('message_start', {
      message: {
        id: `msg_fake${ctx.seq}`,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (withThinking) {
    records.push(ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
    for (const p of wordPieces(reasoning)) records.push(ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: p } }));
    records.push(ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIMfakeSignature0001' } }));
    records.push(ev('content_block_stop', { index }));
    index++;
  }
  if (withText) {
    records.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    if (index === 0) records.push(ev('ping', {}));
    for (const p of textPieces) records.push(ev('content_block_delta', { index, delta: { type: 'text_delta', text: p } }));
    records.push(ev('content_block_stop', { index }));
  }

  if (s.name === 'mid-stream-error') {
    records.length = Math.min(records.length, 4);
    records.push(ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }));
    return { kind: 'stream', records, after: 'end' };
  }
  if (s.name === 'truncated') {
    records.length = Math.max(2, records.length - 2);
    return { kind: 'stream', records, after: 'end' };
  }
  if (s.name === 'empty') return { kind: 'stream', records: [], after: 'end' };
  if (s.name === 'malformed') {
    records.push('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"bro\n\n');
  }
  records.push(ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: outputTokens } }));
  if (s.name !== 'no-done') records.push(ev('message_stop', {}));
  return finishPlan(ctx, records, 'event: ping\ndata: {"type": "ping"}\n\n');
}

// ----------------------------------------------------------------- agent ---

/** Output "tokens" of a scripted step: words of its text, reasoning and arguments. */
function stepOutputWords(step: AgentStep): number {
  let n = countWords(step.text ?? '') + countWords(step.thinking ?? '');
  for (const c of step.toolCalls ?? []) n += countWords(argumentsText(c));
  return n;
}

function textPieces(step: AgentStep): string[] {
  const text = step.text ?? '';
  if (text === '') return [];
  return step.textPieceChars ? fixedPieces(text, step.textPieceChars) : wordPieces(text);
}

function openAIAgentPlan(ctx: Ctx, step: AgentStep, usage: { input_tokens: number; output_tokens: number }): Plan {
  const { model, body } = ctx;
  const id = `chatcmpl-fake${ctx.seq}`;
  const created = 1_700_000_000;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    sseData({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] }, false);
  const calls = step.toolCalls ?? [];
  const records: string[] = [chunk({ role: 'assistant', content: calls.length > 0 && !step.text ? null : '' })];
  for (const p of wordPieces(step.thinking ?? '').filter(Boolean)) records.push(chunk({ reasoning_content: p }));
  for (const p of textPieces(step)) records.push(chunk({ content: p }));
  for (const [i, c] of calls.entries()) {
    records.push(chunk({ tool_calls: [{ index: i, id: c.id ?? `call_f${ctx.seq}x${i}`, type: 'function', function: { name: c.name, arguments: '' } }] }));
    for (const f of fragments(argumentsText(c), c.fragments)) records.push(chunk({ tool_calls: [{ index: i, function: { arguments: f } }] }));
  }
  records.push(chunk({}, calls.length > 0 ? 'tool_calls' : 'stop'));
  if ((body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true) {
    const u = { prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens, total_tokens: usage.input_tokens + usage.output_tokens };
    records.push(sseData({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [], usage: u }, false));
  }
  records.push('data: [DONE]\n\n');
  return { kind: 'stream', records, after: 'end' };
}

function anthropicAgentPlan(ctx: Ctx, step: AgentStep, usage: { input_tokens: number; output_tokens: number }, issuedRedacted: Set<string>): Plan {
  const ev = (name: string, payload: Record<string, unknown>): string => sseEvent(name, { type: name, ...payload }, false);
  const calls = step.toolCalls ?? [];
  const records: string[] = [
    ev('message_start', {
      message: {
        id: `msg_fake${ctx.seq}`,
        type: 'message',
        role: 'assistant',
        model: ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (step.thinking) {
    records.push(ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
    for (const p of wordPieces(step.thinking)) records.push(ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: p } }));
    records.push(ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: fakeSignature(step.thinking) } }));
    records.push(ev('content_block_stop', { index }));
    index++;
  }
  if (step.redactedThinking) {
    const data = fakeRedacted(step.redactedThinking);
    issuedRedacted.add(data);
    records.push(ev('content_block_start', { index, content_block: { type: 'redacted_thinking', data } }));
    records.push(ev('content_block_stop', { index }));
    index++;
  }
  const pieces = textPieces(step);
  if (pieces.length > 0) {
    records.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    for (const p of pieces) records.push(ev('content_block_delta', { index, delta: { type: 'text_delta', text: p } }));
    records.push(ev('content_block_stop', { index }));
    index++;
  }
  for (const [i, c] of calls.entries()) {
    records.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: c.id ?? `toolu_f${ctx.seq}x${i}`, name: c.name, input: {} } }));
    records.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }));
    for (const f of fragments(argumentsText(c), c.fragments)) records.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: f } }));
    records.push(ev('content_block_stop', { index }));
    index++;
  }
  records.push(ev('message_delta', { delta: { stop_reason: calls.length > 0 ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }));
  records.push(ev('message_stop', {}));
  return { kind: 'stream', records, after: 'end' };
}

// ---------------------------------------------------------------- server ---

type Flavor = 'openai' | 'anthropic';

async function readBody(req: http.IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function writeStream(res: http.ServerResponse, plan: Extract<Plan, { kind: 'stream' }>, s: Scenario): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  const crlf = s.name === 'crlf';
  const delay = s.delayMs ?? (s.name === 'slow' ? 25 : 0);
  const pieceSize = s.name === 'split-bytes' ? Math.max(1, s.chunkBytes ?? 2) : 0;
  const stopAt = plan.stopAt ?? plan.records.length;
  if (s.name === 'flood') {
    // Large writes, waiting for the socket to drain: as fast as the reader takes it.
    // With drop_after, the connection is destroyed after that many records.
    const count = Math.min(plan.records.length, s.dropAfter ?? Infinity);
    let batch = '';
    for (let i = 0; i < count; i++) {
      batch += plan.records[i]!;
      if (batch.length < 64 * 1024 && i + 1 < count) continue;
      if (gone) return;
      if (i + 1 === count && s.dropAfter !== undefined) {
        // Drop only after the last records went out: destroy() discards what is still queued.
        const last = batch;
        await new Promise<void>((r) => res.write(last, () => r()));
        res.socket?.destroy();
        return;
      }
      const ok = res.write(batch);
      batch = '';
      if (!ok && !gone) {
        await new Promise<void>((r) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            r();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    res.end();
    return;
  }
  for (let i = 0; i < plan.records.length && i < stopAt; i++) {
    if (gone) return;
    if (delay > 0 && i > 0) await sleep(delay);
    if (gone) return;
    const record = plan.records[i]!;
    const bytes = Buffer.from(crlf ? record.replace(/\n/g, '\r\n') : record, 'utf8');
    if (pieceSize > 0) {
      for (let off = 0; off < bytes.length; off += pieceSize) {
        if (gone) return;
        res.write(bytes.subarray(off, off + pieceSize));
        await tick();
      }
    } else {
      res.write(bytes);
    }
  }
  if (plan.after === 'end') res.end();
  else if (plan.after === 'drop') {
    await tick();
    res.socket?.destroy();
  }
  // 'stall': leave the response open; close() or the client ends it
}

async function startFake(flavor: Flavor, opts: FakeServerOptions): Promise<FakeModelServer> {
  let serverScenario: Scenario = toScenario(opts.scenario ?? 'plain');
  const requests: RecordedRequest[] = [];
  const models = opts.models ?? ['fake-model'];
  const loaded = new Set(opts.loadedModels ?? models);
  const scripts = new Map<string, AgentScript>(Object.entries(opts.scripts ?? {}));
  /** redacted_thinking data this server handed out (the only data it accepts back). */
  const issuedRedacted = new Set<string>();
  let seq = 0;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const text = await readBody(req);
    let body: unknown;
    let badJson = false;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        badJson = true;
      }
    }
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const pathname = path.split('?')[0] ?? '/';
    const record: RecordedRequest = { method, path, headers: req.headers, body };
    requests.push(record);

    // Authentication first, as the real servers do.
    const authHeader = String(req.headers.authorization ?? '');
    const bearer = authHeader.replace(/^Bearer\s+/i, '');
    const xKey = String(req.headers['x-api-key'] ?? '');
    const givenKey = flavor === 'openai' ? bearer : xKey;
    if (opts.requireKey !== undefined && givenKey !== opts.requireKey) {
      if (flavor === 'openai') {
        sendJson(res, 401, {
          error: {
            message: `Incorrect API key provided: ${maskKey(givenKey)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        });
      } else {
        sendJson(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' }, request_id: 'req_fake0001' });
      }
      return;
    }

    const isList = method === 'GET' && (pathname === '/v1/models' || pathname === '/api/v1/models' || pathname === '/api/tags');
    if (isList && opts.listDelayMs) await sleep(opts.listDelayMs);

    if (flavor === 'openai') {
      const native = opts.nativeApi ?? 'lmstudio';
      if (method === 'GET' && pathname === '/v1/models') {
        sendJson(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'organization_owner' })) });
        return;
      }
      if (native === 'ollama' && method === 'GET' && pathname === '/api/tags') {
        sendJson(res, 200, {
          models: models.map((name) => ({
            name,
            model: name,
            modified_at: '2025-05-01T10:00:00.000000000Z',
            size: 2_019_393_189,
            digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
            details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
          })),
        });
        return;
      }
      if (native === 'ollama' && !(method === 'POST' && pathname === '/v1/chat/completions')) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found');
        return;
      }
      if (native === 'lmstudio' && method === 'POST' && pathname === '/api/v1/models/load') {
        const key = (body as { model?: unknown } | undefined)?.model;
        if (typeof key !== 'string' || !models.includes(key)) {
          sendJson(res, 404, { error: { message: `Model "${String(key)}" not found. Download it with \`lms get\`.`, type: 'model_not_found' } });
          return;
        }
        loaded.add(key);
        sendJson(res, 200, { type: 'llm', instance_id: key, load_time_seconds: 0.01, status: 'loaded' });
        return;
      }
      if (native === 'lmstudio' && method === 'GET' && pathname === '/api/v1/models') {
        sendJson(res, 200, {
          models: models.map((key) => ({
            type: 'llm',
            publisher: key.includes('/') ? key.split('/')[0] : 'fake',
            key,
            display_name: key,
            architecture: 'fake',
            quantization: { name: 'Q4_K_M', bits_per_weight: 4 },
            size_bytes: 1_000_000,
            params_string: '1B',
            loaded_instances: loaded.has(key) ? [{ id: key, config: { context_length: 4096 } }] : [],
            max_context_length: 32768,
            format: 'gguf',
            capabilities: { vision: false, trained_for_tool_use: true },
          })),
        });
        return;
      }
      if (!(method === 'POST' && pathname === '/v1/chat/completions')) {
        // LM Studio answers unknown routes with a 200 and this body.
        sendJson(res, 200, { error: `Unexpected endpoint or method. (${method} ${pathname})` });
        return;
      }
    } else {
      if (method === 'GET' && pathname === '/v1/models') {
        sendJson(res, 200, {
          data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' })),
          has_more: false,
          first_id: models[0] ?? null,
          last_id: models[models.length - 1] ?? null,
        });
        return;
      }
      if (!(method === 'POST' && pathname === '/v1/messages')) {
        sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'Not Found' }, request_id: 'req_fake0001' });
        return;
      }
    }

    // Request validation the real servers do.
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    if (badJson || typeof body !== 'object' || body === null) {
      if (flavor === 'openai') sendJson(res, 400, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
      else sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'There was an error parsing the body' } });
      return;
    }
    if (flavor === 'anthropic') {
      const problem =
        typeof req.headers['anthropic-version'] !== 'string'
          ? 'anthropic-version: header is required'
          : typeof b.max_tokens !== 'number'
            ? 'max_tokens: Field required'
            : Array.isArray(b.messages) && b.messages.some((m) => (m as Msg).role === 'system')
              ? 'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.'
              : undefined;
      if (problem) {
        sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: problem }, request_id: 'req_fake0001' });
        return;
      }
    }
    if (typeof b.model !== 'string' || b.model === '') {
      if (flavor === 'openai') sendJson(res, 400, { error: { message: 'you must provide a model parameter', type: 'invalid_request_error', param: null, code: null } });
      else sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'model: Field required' } });
      return;
    }

    // Tool definitions and tool messages are checked on every request, as the real APIs do.
    const toolProblem = flavor === 'openai' ? openAIToolProblem(b) : anthropicToolProblem(b, issuedRedacted);
    if (toolProblem) {
      if (flavor === 'openai') sendJson(res, 400, { error: { message: toolProblem, type: 'invalid_request_error', param: 'messages', code: null } });
      else sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: toolProblem }, request_id: 'req_fake0001' });
      return;
    }

    const agent = agentScriptName(b.model);
    if (agent) {
      const script = scripts.get(agent.name) ?? builtinScript(agent.name, agent.params);
      if (!script) {
        if (flavor === 'openai') sendJson(res, 404, { error: { message: `The model \`${b.model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' } });
        else sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `model: ${b.model}` }, request_id: 'req_fake0001' });
        return;
      }
      const thinkingProblem = flavor === 'anthropic' ? anthropicThinkingProblem(b, script) : undefined;
      if (thinkingProblem) {
        sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: thinkingProblem }, request_id: 'req_fake0001' });
        return;
      }
      const k = assistantTurns(b) + 1;
      const step = scriptStep(script, k);
      record.script = agent.name;
      record.step = k;
      if (!step) {
        sendJson(res, 500, { error: { message: `fake script "${agent.name}" has no step ${k}`, type: 'server_error' } });
        return;
      }
      seq++;
      const usage = { input_tokens: promptWords(b), output_tokens: stepOutputWords(step) };
      record.usage = usage;
      const ctx: Ctx = { scenario: { name: 'plain' }, body: b, model: b.model, reply: '', reasoning: '', path: pathname, method, seq, authKey: givenKey };
      const plan = flavor === 'openai' ? openAIAgentPlan(ctx, step, usage) : anthropicAgentPlan(ctx, step, usage, issuedRedacted);
      if (plan.kind === 'stream') await writeStream(res, plan, { name: 'plain' });
      return;
    }

    const scenario = scenarioFromModel(b.model) ?? serverScenario;
    record.scenario = scenario.name;
    seq++;
    const ctx: Ctx = {
      scenario,
      body: b,
      model: b.model,
      reply: scenario.reply ?? defaultReply(b),
      reasoning: scenario.reasoning ?? defaultReasoning(b),
      path: pathname,
      method,
      seq,
      authKey: givenKey,
    };
    const plan = flavor === 'openai' ? openAIPlan(ctx) : anthropicPlan(ctx);
    if (plan.kind === 'hang') return; // keep the request open, never answer
    if (plan.kind === 'json') {
      sendJson(res, plan.status, plan.body);
      return;
    }
    await writeStream(res, plan, scenario);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `fake server bug: ${String(err)}`, type: 'server_error' } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    loaded,
    setScenario(s: ScenarioInput): void {
      serverScenario = toScenario(s);
    },
    setScript(name: string, script: AgentScript): void {
      scripts.set(name, script);
    },
    close(): Promise<void> {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** An OpenAI-compatible server (chat completions SSE, /v1/models, LM Studio's /api/v1/models and /api/v1/models/load, or Ollama's /api/tags). */
export function startFakeOpenAI(opts: FakeServerOptions = {}): Promise<FakeModelServer> {
  return startFake('openai', opts);
}

/** An Anthropic messages server (named SSE events, /v1/models). */
export function startFakeAnthropic(opts: FakeServerOptions = {}): Promise<FakeModelServer> {
  return startFake('anthropic', opts);
}
