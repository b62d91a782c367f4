/**
 * One model call: the request for the conversation so far, the streamed reply
 * turned into frames as it arrives, and the turn it makes (text, tool calls,
 * Anthropic reasoning blocks). Throws WorkerFailure on every failure.
 */
import type { TaskInput } from '../core/protocol.js';
import { AnthropicStream, anthropicHeaders, anthropicRequestBody } from './anthropic.js';
import { classifyHttpError, HINTS, WorkerFailure, type ClassifyContext } from './classify.js';
import type { AnthropicThinkingBlock, ConversationEntry } from './conversation.js';
import { proxyFor } from './proxy.js';
import { httpRequest, type HttpResponse } from './http.js';
import { OpenAIStream, openAIHeaders, openAIRequestBody } from './openai.js';
import { excerpt } from './redact.js';
import { ReplyBuilder, type StreamHandler, type StreamOutcome } from './reply.js';
import type { Endpoint, RunContext } from './run.js';
import { SseParser, SseTooLargeError } from './sse.js';
import type { CappedText } from './text.js';
import type { ModelToolCall } from './tool-calls.js';
import type { ToolSpec } from './tool-defs.js';
import { WORKER_VERSION } from './version.js';

export interface ModelCall {
  task: TaskInput;
  rc: RunContext;
  endpoint: Endpoint;
  ctx: ClassifyContext;
  idleTimeoutMs: number;
  caFile: string | undefined;
  conversation: readonly ConversationEntry[];
  /** Offered tools; none: a plain chat request. */
  tools: readonly ToolSpec[];
  /** 1-based number of this call in the task. */
  step: number;
}

export interface ModelTurn {
  outcome: StreamOutcome;
  /** The visible text of the turn, trimmed (the content of a turn that calls tools). */
  text: CappedText;
  /** Calls made through the API, then calls written as text (tools offered only). */
  toolCalls: ModelToolCall[];
  /** Anthropic reasoning blocks, to send back with the turn. */
  thinking: AnthropicThinkingBlock[];
}

export async function callModel(call: ModelCall): Promise<ModelTurn> {
  const { task, rc, ctx, endpoint } = call;
  const { env, log } = rc;
  const isAnthropic = task.route.api === 'anthropic-messages';
  const body = JSON.stringify(isAnthropic ? anthropicRequestBody(task, call.conversation, call.tools) : openAIRequestBody(task, call.conversation, call.tools));
  const headers = isAnthropic ? anthropicHeaders(env.ANTHROPIC_API_KEY) : openAIHeaders(env.OPENAI_API_KEY);
  headers['user-agent'] = `logos-worker/${WORKER_VERSION}`;

  log.info('request', {
    api: task.route.api,
    model: task.route.model,
    url: endpoint.url.toString(),
    via_socket: endpoint.socketPath ?? null,
    via_proxy: endpoint.socketPath ? null : (proxyFor(endpoint.url, env)?.host ?? null),
    messages: call.conversation.length,
    bytes: Buffer.byteLength(body),
    placeholder_key: !(isAnthropic ? env.ANTHROPIC_API_KEY : env.OPENAI_API_KEY),
    ...(call.tools.length > 0 ? { step: call.step, tools: call.tools.length } : {}),
  });

  const res = await httpRequest({
    url: endpoint.url,
    method: 'POST',
    headers,
    body,
    socketPath: endpoint.socketPath,
    signal: rc.signal,
    idleTimeoutMs: call.idleTimeoutMs,
    caFile: call.caFile,
    // OpenShell sandboxes reach the model only through their supervisor's proxy.
    proxy: endpoint.socketPath ? undefined : proxyFor(endpoint.url, env),
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
    const reply = new ReplyBuilder(
      {
        token: (content) => rc.emit({ type: 'token', task_id: task.task_id, content }),
        thinking: (content) => rc.emit({ type: 'thinking', task_id: task.task_id, content }),
      },
      undefined,
      { toolXml: call.tools.length > 0 },
    );
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
    const prefix = `${isAnthropic ? 'toolu' : 'call'}_logos_${call.step}_`;
    const toolCalls = [...handler.toolCalls(prefix), ...reply.xmlCalls.map((c, i): ModelToolCall => ({ id: `${prefix}x${i}`, ...c }))];
    log.info('reply complete', {
      bytes,
      events: parser.events,
      keepalives: parser.comments,
      stop_reason: outcome.stopReason ?? null,
      final_bytes: outcome.finalResponseBytes ?? Buffer.byteLength(outcome.finalResponse),
      final_truncated: outcome.finalResponseBytes !== undefined,
      input_tokens: outcome.usage.input_tokens ?? null,
      output_tokens: outcome.usage.output_tokens ?? null,
      ...(call.tools.length > 0 ? { step: call.step, tool_calls: toolCalls.length, text_tool_calls: reply.xmlCalls.length } : {}),
    });
    return { outcome, text: reply.turnText(), toolCalls, thinking: handler instanceof AnthropicStream ? handler.thinkingBlocks() : [] };
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
