/**
 * Anthropic messages (`POST {base}/messages`, named SSE events): request
 * building and the stream reader.
 */
import type { TaskInput, Usage } from '../core/protocol.js';
import { classifyStreamError, HINTS, WorkerFailure, type ClassifyContext } from './classify.js';
import { argumentsObject, conversationOf, toolResultText, type AnthropicThinkingBlock, type ConversationEntry } from './conversation.js';
import { excerpt } from './redact.js';
import type { ReplyBuilder, StreamHandler, StreamOutcome } from './reply.js';
import type { SseEvent } from './sse.js';
import { asObject, num, parseEventData, type Json } from './json.js';
import { ToolCallAccumulator, type ModelToolCall } from './tool-calls.js';
import type { ToolSpec } from './tool-defs.js';

export const ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;
/** Reasoning kept per block to send back; a larger block is dropped (the API may then refuse the next step). */
export const MAX_KEPT_THINKING_CHARS = 4 * 1024 * 1024;

type Block = Record<string, unknown>;
interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | Block[];
}

/**
 * The neutral conversation as Anthropic messages: system text goes to the top-level
 * `system`; an assistant turn's calls become `tool_use` blocks after its reasoning
 * and text; tool results become `tool_result` blocks of the next user message
 * (consecutive results, and a user text after them, share one message).
 */
export function anthropicMessages(conversation: readonly ConversationEntry[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const { message: m, thinking } of conversation) {
    const last = out[out.length - 1];
    const openResults = last?.role === 'user' && Array.isArray(last.content) ? last.content : undefined;
    if (m.role === 'system') continue;
    if (m.role === 'tool') {
      const block: Block = { type: 'tool_result', tool_use_id: m.tool_call_id, content: toolResultText(m.content) };
      if (m.is_error) block.is_error = true;
      if (openResults && openResults.every((b) => b.type === 'tool_result')) openResults.push(block);
      else out.push({ role: 'user', content: [block] });
    } else if (m.role === 'user') {
      if (openResults) openResults.push({ type: 'text', text: m.content });
      else out.push({ role: 'user', content: m.content });
    } else if (m.role === 'assistant') {
      const calls = m.tool_calls ?? [];
      if (calls.length === 0 && !thinking?.length) {
        out.push({ role: 'assistant', content: m.content });
        continue;
      }
      const blocks: Block[] = [...(thinking ?? [])];
      // The API refuses empty text blocks.
      if (m.content.trim() !== '') blocks.push({ type: 'text', text: m.content });
      for (const c of calls) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: argumentsObject(c.arguments) });
      if (blocks.length > 0) out.push({ role: 'assistant', content: blocks });
    }
  }
  return out;
}

export function anthropicRequestBody(task: TaskInput, conversation: readonly ConversationEntry[] = conversationOf(task.messages), tools: readonly ToolSpec[] = []): Record<string, unknown> {
  const system = conversation.filter((e) => e.message.role === 'system').map((e) => e.message.content);
  const body: Record<string, unknown> = {
    model: task.route.model,
    messages: anthropicMessages(conversation),
    max_tokens: task.params?.max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    stream: true,
  };
  if (system.length > 0) body.system = system.join('\n\n');
  if (tools.length > 0) body.tools = tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  if (task.params?.temperature !== undefined) body.temperature = task.params.temperature;
  return body;
}

export function anthropicHeaders(apiKey: string | undefined): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    'accept-encoding': 'identity',
    'x-api-key': apiKey && apiKey.length > 0 ? apiKey : 'logos-placeholder',
    'anthropic-version': ANTHROPIC_VERSION,
  };
}


export class AnthropicStream implements StreamHandler {
  private stopped = false;
  private started = false;
  private stopReason: string | undefined;
  private model: string | undefined;
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  private readonly calls = new ToolCallAccumulator();
  /** Reasoning blocks by index, to send back with the turn. */
  private readonly thinking = new Map<number, { parts: string[]; chars: number; signature: string } | { data: string }>();

  constructor(
    private readonly reply: ReplyBuilder,
    private readonly ctx: ClassifyContext,
  ) {}

  get finished(): boolean {
    return this.stopped;
  }

  get complete(): boolean {
    return this.stopped || this.stopReason !== undefined;
  }

  onEvent(ev: SseEvent): void {
    if (this.stopped) return;
    const data = ev.data.trim();
    if (data === '') return;
    const parsed = parseEventData(data, `event${ev.event ? ` "${ev.event}"` : ''}`, this.ctx);
    const obj = asObject(parsed);
    if (!obj) {
      throw new WorkerFailure('INVALID_RESPONSE', `unexpected stream event: ${excerpt(data, 120)}`, HINTS.INVALID_RESPONSE_BAD_STREAM(this.ctx));
    }
    // Some proxies drop the `event:` lines; the JSON `type` says the same.
    const type = typeof obj.type === 'string' ? obj.type : (ev.event ?? '');
    switch (type) {
      case 'message_start': {
        this.started = true;
        const message = asObject(obj.message);
        if (message && typeof message.model === 'string' && message.model) this.model = message.model;
        const usage = asObject(message?.usage);
        if (usage) this.takeUsage(usage);
        break;
      }
      case 'content_block_start': {
        this.started = true;
        const block = asObject(obj.content_block);
        const index = num(obj.index) ?? 0;
        if (block?.type === 'text' && typeof block.text === 'string') this.reply.content(block.text);
        else if (block?.type === 'thinking') {
          this.thinking.set(index, { parts: [], chars: 0, signature: typeof block.signature === 'string' ? block.signature : '' });
          if (typeof block.thinking === 'string') this.addThinking(index, block.thinking);
        } else if (block?.type === 'redacted_thinking' && typeof block.data === 'string') this.thinking.set(index, { data: block.data });
        else if (block?.type === 'tool_use') {
          this.calls.start(index, typeof block.id === 'string' ? block.id : undefined, typeof block.name === 'string' ? block.name : undefined);
          const input = asObject(block.input);
          if (input && Object.keys(input).length > 0) this.calls.initialArguments(index, JSON.stringify(input));
        }
        break;
      }
      case 'content_block_delta': {
        this.started = true;
        const delta = asObject(obj.delta);
        const index = num(obj.index) ?? 0;
        if (delta?.type === 'text_delta' && typeof delta.text === 'string') this.reply.content(delta.text);
        else if (delta?.type === 'thinking_delta' && typeof delta.thinking === 'string') this.addThinking(index, delta.thinking);
        else if (delta?.type === 'signature_delta' && typeof delta.signature === 'string') {
          const b = this.thinking.get(index);
          if (b && 'signature' in b) b.signature += delta.signature;
        } else if (delta?.type === 'input_json_delta' && typeof delta.partial_json === 'string' && this.calls.has(index)) {
          this.calls.addArguments(index, delta.partial_json);
        }
        // citations_delta: nothing to show
        break;
      }
      case 'message_delta': {
        const delta = asObject(obj.delta);
        if (delta && typeof delta.stop_reason === 'string' && delta.stop_reason) this.stopReason = delta.stop_reason;
        const usage = asObject(obj.usage);
        if (usage) this.takeUsage(usage);
        break;
      }
      case 'message_stop':
        this.stopped = true;
        break;
      case 'error':
        throw classifyStreamError(obj, this.ctx);
      default:
        // ping, content_block_stop and event types added later
        break;
    }
  }

  finish(): StreamOutcome {
    this.reply.end();
    if (!this.complete) {
      if (this.started || this.reply.hasOutput) {
        throw new WorkerFailure(
          'NETWORK',
          `the stream ended mid-reply (no message_stop) after ${this.reply.visibleChars} characters`,
          'The connection was cut before the model finished. Retry; if long replies are always cut after about 60 s, raise the inference router timeout (`openshell inference update --timeout <seconds>`).',
        );
      }
      throw new WorkerFailure(
        'INVALID_RESPONSE',
        'the stream ended without any message event and without message_stop',
        HINTS.INVALID_RESPONSE_BAD_STREAM(this.ctx),
      );
    }
    const final = this.reply.finalResponse();
    if (final.bytes === 0 && this.calls.size === 0 && this.reply.xmlCalls.length === 0) {
      throw new WorkerFailure(
        'INVALID_RESPONSE',
        `the model returned an empty reply${this.stopReason ? ` (stop_reason: ${this.stopReason})` : ''}`,
        HINTS.INVALID_RESPONSE_EMPTY(),
      );
    }
    const usage: Usage = { model: this.model ?? this.ctx.model };
    if (this.inputTokens !== undefined) usage.input_tokens = this.inputTokens;
    if (this.outputTokens !== undefined) usage.output_tokens = this.outputTokens;
    const outcome: StreamOutcome = { finalResponse: final.text, usage, stopReason: this.stopReason };
    if (final.truncated) outcome.finalResponseBytes = final.bytes;
    return outcome;
  }

  /** The tool_use blocks of this reply. */
  toolCalls(idPrefix: string): ModelToolCall[] {
    return this.calls.finish(idPrefix);
  }

  /** The reasoning blocks of this reply, verbatim and in order, to send back with it. */
  thinkingBlocks(): AnthropicThinkingBlock[] {
    const out: AnthropicThinkingBlock[] = [];
    for (const [, b] of [...this.thinking.entries()].sort(([a], [c]) => a - c)) {
      if ('data' in b) out.push({ type: 'redacted_thinking', data: b.data });
      else if (b.chars <= MAX_KEPT_THINKING_CHARS) out.push({ type: 'thinking', thinking: b.parts.join(''), signature: b.signature });
    }
    return out;
  }

  private addThinking(index: number, text: string): void {
    if (text.length === 0) return;
    this.reply.reasoning(text);
    const b = this.thinking.get(index);
    if (!b || 'data' in b) return;
    b.chars += text.length;
    if (b.chars <= MAX_KEPT_THINKING_CHARS) b.parts.push(text);
    else b.parts = [];
  }

  private takeUsage(usage: Json): void {
    const input = num(usage.input_tokens);
    if (input !== undefined) {
      // Cached prompt tokens are reported apart from input_tokens; the prompt is their sum.
      this.inputTokens = input + (num(usage.cache_creation_input_tokens) ?? 0) + (num(usage.cache_read_input_tokens) ?? 0);
    }
    const output = num(usage.output_tokens);
    if (output !== undefined) this.outputTokens = output;
  }
}
