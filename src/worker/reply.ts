/**
 * Collects one model reply from a stream: visible content (with inline
 * `<think>` blocks split out) and reasoning, forwards both to the frame sink
 * as they arrive, and decides the final response at the end.
 */
import { ThinkSplitter, type ThinkPart } from './think.js';
import type { SseEvent } from './sse.js';
import type { Usage } from '../core/protocol.js';

export interface ReplySink {
  token(text: string): void;
  thinking(text: string): void;
}

/** What a provider stream reader does with parsed SSE records. */
export interface StreamHandler {
  /** Handle one record; throws a WorkerFailure for an upstream error or malformed data. */
  onEvent(ev: SseEvent): void;
  /** The upstream said the reply is complete ([DONE] / message_stop): stop reading. */
  readonly finished: boolean;
  /** The model said it stopped (finish_reason / stop_reason), even if the stream has not ended yet. */
  readonly complete: boolean;
  /** The byte stream ended (or `finished`): returns the outcome or throws a WorkerFailure. */
  finish(): StreamOutcome;
}

export interface StreamOutcome {
  finalResponse: string;
  usage: Usage;
  /** Why the model stopped (finish_reason / stop_reason), when it said. */
  stopReason?: string | undefined;
}

export class ReplyBuilder {
  private readonly splitter = new ThinkSplitter();
  private visible = '';
  private reasoningText = '';
  /** Visible text that an orphan `</think>` showed to be reasoning (for the final response only). */
  private reclassified = '';
  private ended = false;

  constructor(private readonly sink: ReplySink) {}

  /** A piece of `content` / `text`, which may carry inline think tags. */
  content(text: string): void {
    if (text.length > 0) this.apply(this.splitter.push(text));
  }

  /** A piece of reasoning from a dedicated field. */
  reasoning(text: string): void {
    if (text.length === 0) return;
    this.reasoningText += text;
    this.sink.thinking(text);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.apply(this.splitter.end());
  }

  /** Anything at all arrived (visible or reasoning). */
  get hasOutput(): boolean {
    return this.visible.length > 0 || this.reasoningText.length > 0 || this.reclassified.length > 0;
  }

  get visibleText(): string {
    return this.visible;
  }

  get reasoningTextSoFar(): string {
    return this.reasoningText;
  }

  /**
   * The reply the user gets: the visible content; when that is empty but there
   * was reasoning (a reasoning-only answer, or content that was only a think
   * block), the reasoning. Whitespace left where think tags were cut is trimmed.
   */
  finalResponse(): string {
    this.end();
    const visible = this.splitter.sawTags ? this.visible.trim() : this.visible;
    if (visible.trim().length > 0) return visible;
    const reasoning = (this.reclassified + this.reasoningText).trim();
    return reasoning.length > 0 ? reasoning : '';
  }

  private apply(parts: ThinkPart[]): void {
    for (const p of parts) {
      if (p.kind === 'content') {
        this.visible += p.text;
        this.sink.token(p.text);
      } else if (p.kind === 'thinking') {
        this.reasoningText += p.text;
        this.sink.thinking(p.text);
      } else {
        // `…reasoning</think>answer` without an opening tag: what we took for
        // content so far was reasoning. Tokens already went out; fix the final.
        this.reclassified += this.visible;
        this.visible = '';
      }
    }
  }
}
