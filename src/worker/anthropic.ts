/**
 * Anthropic messages (`POST {base}/messages`, named SSE events): request
 * building and the stream reader.
 */
import type { TaskInput, Usage } from '../core/protocol.js';
import { classifyStreamError, HINTS, WorkerFailure, type ClassifyContext } from './classify.js';
import { excerpt } from './redact.js';
import type { ReplyBuilder, StreamHandler, StreamOutcome } from './reply.js';
import type { SseEvent } from './sse.js';
import { asObject, num, parseEventData, type Json } from './json.js';

export const ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

export function anthropicRequestBody(task: TaskInput): Record<string, unknown> {
  const system = task.messages.filter((m) => m.role === 'system').map((m) => m.content);
  const body: Record<string, unknown> = {
    model: task.route.model,
    messages: task.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
    max_tokens: task.params?.max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    stream: true,
  };
  if (system.length > 0) body.system = system.join('\n\n');
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
        if (block?.type === 'text' && typeof block.text === 'string') this.reply.content(block.text);
        else if (block?.type === 'thinking' && typeof block.thinking === 'string') this.reply.reasoning(block.thinking);
        break;
      }
      case 'content_block_delta': {
        this.started = true;
        const delta = asObject(obj.delta);
        if (delta?.type === 'text_delta' && typeof delta.text === 'string') this.reply.content(delta.text);
        else if (delta?.type === 'thinking_delta' && typeof delta.thinking === 'string') this.reply.reasoning(delta.thinking);
        // signature_delta, input_json_delta, citations_delta: nothing to show
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
    if (final.bytes === 0) {
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
