/**
 * OpenAI-compatible chat completions (`POST {base}/chat/completions`, SSE):
 * request building and the stream reader. Works with OpenAI, LM Studio, vLLM,
 * Ollama's /v1, OpenRouter and the OpenShell inference router.
 */
import type { ChatMessage, TaskInput, Usage } from '../core/protocol.js';
import { classifyStreamError, HINTS, WorkerFailure, type ClassifyContext } from './classify.js';
import { argumentsText, conversationOf, toolResultText, type ConversationEntry } from './conversation.js';
import { excerpt } from './redact.js';
import type { ReplyBuilder, StreamHandler, StreamOutcome } from './reply.js';
import type { SseEvent } from './sse.js';
import { asObject, parseEventData, type Json } from './json.js';
import { ToolCallAccumulator, type ModelToolCall } from './tool-calls.js';
import type { ToolSpec } from './tool-defs.js';

/** One neutral message in the chat-completions format. */
export function openAIMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id, content: toolResultText(m.content) };
  if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
    return {
      role: 'assistant',
      content: m.content === '' ? null : m.content,
      tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: argumentsText(c.arguments) } })),
    };
  }
  return { role: m.role, content: m.content };
}

export function openAIRequestBody(task: TaskInput, conversation: readonly ConversationEntry[] = conversationOf(task.messages), tools: readonly ToolSpec[] = []): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: task.route.model,
    messages: conversation.map((e) => openAIMessage(e.message)),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (tools.length > 0) {
    body.tools = tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  }
  if (task.params?.max_tokens !== undefined) body.max_tokens = task.params.max_tokens;
  if (task.params?.temperature !== undefined) body.temperature = task.params.temperature;
  return body;
}

export function openAIHeaders(apiKey: string | undefined): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    'accept-encoding': 'identity',
    authorization: `Bearer ${apiKey && apiKey.length > 0 ? apiKey : 'logos-placeholder'}`,
  };
}


/** Reasoning text of one delta, from whichever field this server uses (never two copies). */
export function reasoningOf(delta: Json): string {
  if (typeof delta.reasoning_content === 'string' && delta.reasoning_content) return delta.reasoning_content;
  if (typeof delta.reasoning === 'string' && delta.reasoning) return delta.reasoning;
  if (Array.isArray(delta.reasoning_details)) {
    let text = '';
    for (const d of delta.reasoning_details) {
      const o = asObject(d);
      if (!o) continue;
      if (typeof o.text === 'string') text += o.text;
      else if (typeof o.summary === 'string') text += o.summary;
    }
    return text;
  }
  return '';
}

const DELTA = '"delta":{"content":"';
/** Anything but a plain content delta (reasoning, tool calls, errors, usage, a finish) needs the full parse. */
const NEEDS_FULL = /"(?:reasoning|reasoning_content|reasoning_details|tool_calls|function_call|error|usage|refusal|audio|role)"|"finish_reason":"/;

/**
 * The common event of a streamed reply, `{…"choices":[{…"delta":{"content":"…"}…}]}` with
 * nothing else in its delta, read without building the whole object: JSON.parse of every small
 * event was most of the worker's CPU in a long reply. Returns the content, or undefined for
 * anything it is not sure of (those events take the full parse, which is always right).
 */
export function fastContentDelta(data: string): string | undefined {
  if (data.charCodeAt(0) !== 123 || data.charCodeAt(data.length - 1) !== 125) return undefined; // { … }
  // A raw `"key"` cannot lie inside a string (its quotes would be escaped), so this only ever
  // rejects too much, never too little.
  if (NEEDS_FULL.test(data)) return undefined;
  const at = data.indexOf(DELTA);
  if (at <= 0) return undefined;
  const before = data.charCodeAt(at - 1);
  // After `{` or `,` the quote opens a key: the match is structure, not text inside a string.
  if (before !== 123 && before !== 44) return undefined;
  const start = at + DELTA.length - 1; // the content string's opening quote
  // The closing quote: the first one not escaped by an odd run of backslashes.
  let end = data.indexOf('"', start + 1);
  for (;;) {
    if (end === -1) return undefined;
    let slashes = 0;
    while (data.charCodeAt(end - 1 - slashes) === 92) slashes += 1;
    if (slashes % 2 === 0) break;
    end = data.indexOf('"', end + 1);
  }
  if (data.charCodeAt(end + 1) !== 125) return undefined; // the delta holds its content and nothing else
  if (data.indexOf('"delta"', end) !== -1) return undefined; // more than one choice
  const literal = data.slice(start, end + 1);
  // No escapes and no raw control characters (invalid in JSON): the text is the literal's inside.
  if (literal.indexOf('\\') === -1 && !/[\u0000-\u001f]/.test(literal)) return literal.slice(1, -1);
  try {
    const content: unknown = JSON.parse(literal);
    return typeof content === 'string' ? content : undefined;
  } catch {
    return undefined;
  }
}

export class OpenAIStream implements StreamHandler {
  private done = false;
  private sawChoice = false;
  private finishReason: string | undefined;
  private model: string | undefined;
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  private readonly calls = new ToolCallAccumulator();

  constructor(
    private readonly reply: ReplyBuilder,
    private readonly ctx: ClassifyContext,
  ) {}

  get finished(): boolean {
    return this.done;
  }

  get complete(): boolean {
    return this.done || this.finishReason !== undefined;
  }

  onEvent(ev: SseEvent): void {
    if (this.done) return;
    const data = ev.data.trim();
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    if (data === '') return;
    if (ev.event !== 'error') {
      const content = fastContentDelta(data);
      if (content !== undefined) {
        this.sawChoice = true;
        if (content) this.reply.content(content);
        return;
      }
    }
    const parsed = parseEventData(data, `chunk`, this.ctx);
    const chunk = asObject(parsed);
    if (!chunk) {
      throw new WorkerFailure('INVALID_RESPONSE', `unexpected stream chunk: ${excerpt(data, 120)}`, HINTS.INVALID_RESPONSE_BAD_STREAM(this.ctx));
    }
    if (chunk.error !== undefined && chunk.error !== null) throw classifyStreamError(chunk, this.ctx);
    if (ev.event === 'error') throw classifyStreamError(chunk, this.ctx);

    if (typeof chunk.model === 'string' && chunk.model && !this.model) this.model = chunk.model;
    const usage = asObject(chunk.usage);
    if (usage) {
      if (typeof usage.prompt_tokens === 'number') this.inputTokens = usage.prompt_tokens;
      if (typeof usage.completion_tokens === 'number') this.outputTokens = usage.completion_tokens;
    }
    if (!Array.isArray(chunk.choices)) return;
    const choice = asObject(chunk.choices[0]);
    if (!choice) return;
    this.sawChoice = true;
    const delta = asObject(choice.delta) ?? asObject(choice.message);
    if (delta) {
      const reasoning = reasoningOf(delta);
      if (reasoning) this.reply.reasoning(reasoning);
      if (typeof delta.content === 'string' && delta.content) this.reply.content(delta.content);
      if (Array.isArray(delta.tool_calls)) this.takeToolCalls(delta.tool_calls);
      const legacy = asObject(delta.function_call);
      if (legacy) this.takeToolCalls([{ index: 0, function: legacy }]);
    }
    if (typeof choice.finish_reason === 'string' && choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  /** The tool calls of this reply (ids made up with `idPrefix` where the server sent none). */
  toolCalls(idPrefix: string): ModelToolCall[] {
    return this.calls.finish(idPrefix);
  }

  /** `delta.tool_calls`: by `index`; id and name on a call's first piece, arguments in fragments. */
  private takeToolCalls(list: unknown[]): void {
    for (const raw of list) {
      const tc = asObject(raw);
      if (!tc) continue;
      const fn = asObject(tc.function);
      const id = typeof tc.id === 'string' && tc.id ? tc.id : undefined;
      let index: number;
      if (typeof tc.index === 'number') index = tc.index;
      else if (id !== undefined && !this.calls.hasId(id)) index = (this.calls.lastIndex() ?? -1) + 1; // whole calls without an index
      else index = this.calls.lastIndex() ?? 0;
      const name = typeof fn?.name === 'string' && fn.name ? fn.name : undefined;
      if (id !== undefined || name !== undefined) this.calls.start(index, id, name);
      const args = fn?.arguments;
      if (typeof args === 'string') this.calls.addArguments(index, args);
      else if (args && typeof args === 'object') this.calls.addArguments(index, JSON.stringify(args));
    }
  }

  finish(): StreamOutcome {
    this.reply.end();
    if (!this.complete) {
      if (this.sawChoice || this.reply.hasOutput) {
        throw new WorkerFailure(
          'NETWORK',
          `the stream ended mid-reply (no finish_reason and no [DONE]) after ${this.reply.visibleChars} characters`,
          'The connection was cut before the model finished. Retry; if long replies are always cut after about 60 s, raise the inference router timeout (`openshell inference update --timeout <seconds>`).',
        );
      }
      throw new WorkerFailure(
        'INVALID_RESPONSE',
        'the stream ended without any chat-completion chunk and without [DONE]',
        HINTS.INVALID_RESPONSE_BAD_STREAM(this.ctx),
      );
    }
    const final = this.reply.finalResponse();
    if (final.bytes === 0 && this.calls.size === 0 && this.reply.xmlCalls.length === 0) {
      throw new WorkerFailure(
        'INVALID_RESPONSE',
        `the model returned an empty reply${this.finishReason ? ` (finish_reason: ${this.finishReason})` : ''}`,
        HINTS.INVALID_RESPONSE_EMPTY(),
      );
    }
    const usage: Usage = { model: this.model ?? this.ctx.model };
    if (this.inputTokens !== undefined) usage.input_tokens = this.inputTokens;
    if (this.outputTokens !== undefined) usage.output_tokens = this.outputTokens;
    const outcome: StreamOutcome = { finalResponse: final.text, usage, stopReason: this.finishReason };
    if (final.truncated) outcome.finalResponseBytes = final.bytes;
    return outcome;
  }
}
