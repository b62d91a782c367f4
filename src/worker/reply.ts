/**
 * Collects one model reply from a stream: visible content (with inline
 * `<think>` blocks split out) and reasoning, forwards both to the frame sink
 * as they arrive, and decides the final response at the end. Memory stays
 * bounded however long the reply: see BoundedText.
 */
import { ThinkSplitter, type ThinkPart } from './think.js';
import { ToolXmlSplitter, type ToolXmlPart, type XmlToolCall } from './tool-xml.js';
import type { SseEvent } from './sse.js';
import { MAX_INLINE_RESPONSE_BYTES, type Usage } from '../core/protocol.js';
import { BoundedText, framePieces, MAX_FRAME_CONTENT_UNITS, type CappedText } from './text.js';
import type { ModelToolCall } from './tool-calls.js';

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
  /** After finish(): the tool calls the reply made through the API (ids made up with `idPrefix` where missing). */
  toolCalls(idPrefix: string): ModelToolCall[];
}

export interface StreamOutcome {
  /** The final response, or its beginning cut to MAX_INLINE_RESPONSE_BYTES (see finalResponseBytes). */
  finalResponse: string;
  /** Set only when finalResponse was cut: the UTF-8 size of the whole final response. */
  finalResponseBytes?: number;
  usage: Usage;
  /** Why the model stopped (finish_reason / stop_reason), when it said. */
  stopReason?: string | undefined;
}

export class ReplyBuilder {
  private readonly splitter = new ThinkSplitter();
  // Bounded: a reply of any length keeps only what a capped final response needs.
  private readonly visible: BoundedText;
  private readonly reasoningText: BoundedText;
  /** Visible text that an orphan `</think>` showed to be reasoning (for the final response only). */
  private readonly reclassified: BoundedText;
  private ended = false;
  /** Set when tools were offered: tool calls written as text are taken out of the content. */
  private readonly xml: ToolXmlSplitter | undefined;
  /** Tool calls found in the content (a local server that did not parse them). */
  readonly xmlCalls: XmlToolCall[] = [];

  constructor(
    private readonly sink: ReplySink,
    /** Largest final response in UTF-8 bytes (tests use small caps). */
    cap = MAX_INLINE_RESPONSE_BYTES,
    opts: { toolXml?: boolean } = {},
  ) {
    this.visible = new BoundedText(cap);
    this.reasoningText = new BoundedText(cap);
    this.reclassified = new BoundedText(cap);
    if (opts.toolXml) this.xml = new ToolXmlSplitter();
  }

  /** A piece of `content` / `text`, which may carry inline think tags. */
  content(text: string): void {
    if (text.length === 0) return;
    // Nearly every piece of a long reply: plain text outside any think block or tool-call
    // block, nothing held back. Both splitters would pass it on whole as one text part.
    if (text.indexOf('<') === -1 && this.splitter.idle && (!this.xml || this.xml.idle)) this.visibleText(text);
    else this.apply(this.splitter.push(text));
  }

  /** A piece of reasoning from a dedicated field. */
  reasoning(text: string): void {
    if (text.length === 0) return;
    this.reasoningText.append(text);
    this.thinking(text);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.apply(this.splitter.end());
    if (this.xml) this.applyXml(this.xml.end());
  }

  /** The visible text of this turn, trimmed and capped (the content of a turn that called tools). */
  turnText(): CappedText {
    this.end();
    return this.visible.capped(true);
  }

  /** Anything at all arrived (visible or reasoning). */
  get hasOutput(): boolean {
    return this.visible.length > 0 || this.reasoningText.length > 0 || this.reclassified.length > 0;
  }

  /** UTF-16 length of the visible text so far (for messages). */
  get visibleChars(): number {
    return this.visible.length;
  }

  /** UTF-16 units of reply text held in memory (bounded whatever the reply length). */
  get retainedUnits(): number {
    return this.visible.retainedUnits + this.reasoningText.retainedUnits + this.reclassified.retainedUnits;
  }

  /**
   * The reply the user gets: the visible content; when that is empty but there
   * was reasoning (a reasoning-only answer, or content that was only a think
   * block), the reasoning. Whitespace left where think tags were cut is trimmed.
   * Over the cap, `text` is the beginning and `bytes` the size of the whole.
   */
  finalResponse(): CappedText {
    this.end();
    if (this.visible.hasNonSpace) return this.visible.capped(this.splitter.sawTags);
    const reasoning = this.reclassified.clone();
    reasoning.appendText(this.reasoningText);
    return reasoning.capped(true);
  }

  private apply(parts: ThinkPart[]): void {
    for (const p of parts) {
      if (p.kind === 'content') {
        if (this.xml) this.applyXml(this.xml.push(p.text));
        else this.visibleText(p.text);
      } else if (p.kind === 'thinking') {
        this.reasoningText.append(p.text);
        this.thinking(p.text);
      } else {
        // `…reasoning</think>answer` without an opening tag: what we took for
        // content so far was reasoning. Tokens already went out; fix the final.
        this.reclassified.appendText(this.visible);
        this.visible.clear();
      }
    }
  }

  private applyXml(parts: ToolXmlPart[]): void {
    for (const p of parts) {
      if (p.kind === 'text') this.visibleText(p.text);
      else this.xmlCalls.push(p.error === undefined ? { name: p.name, arguments: p.arguments } : { name: p.name, arguments: p.arguments, error: p.error });
    }
  }

  private visibleText(text: string): void {
    this.visible.append(text);
    this.token(text);
  }

  private token(text: string): void {
    if (text.length <= MAX_FRAME_CONTENT_UNITS) this.sink.token(text);
    else for (const piece of framePieces(text)) this.sink.token(piece);
  }

  private thinking(text: string): void {
    if (text.length <= MAX_FRAME_CONTENT_UNITS) this.sink.thinking(text);
    else for (const piece of framePieces(text)) this.sink.thinking(piece);
  }
}
