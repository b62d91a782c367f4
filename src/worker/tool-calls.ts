/**
 * Tool calls as a model streams them: an id and a name first, then the
 * arguments' JSON text in fragments (OpenAI `delta.tool_calls[].function.arguments`,
 * Anthropic `input_json_delta.partial_json`). Shared by both stream readers.
 */
import type { ToolCall } from '../core/protocol.js';

/** A call the model made; `error` is set when it cannot be run as written (reported back to the model). */
export interface ModelToolCall extends ToolCall {
  error?: string;
}

/**
 * Arguments kept per call. Past this the call is not run (the model is told to write
 * in parts) and the memory stays bounded whatever the model streams.
 */
export const MAX_TOOL_ARGUMENT_CHARS = 4 * 1024 * 1024;

class PendingCall {
  name = '';
  private parts: string[] = [];
  private chars = 0;
  private overflow = false;

  constructor(public id: string) {}

  addArguments(text: string): void {
    if (text.length === 0 || this.overflow) return;
    this.chars += text.length;
    if (this.chars > MAX_TOOL_ARGUMENT_CHARS) {
      this.overflow = true;
      this.parts = [];
      return;
    }
    this.parts.push(text);
  }

  done(fallbackId: string, fallbackArguments: string): ModelToolCall {
    const id = this.id || fallbackId;
    if (this.overflow) {
      return { id, name: this.name, arguments: '{}', error: `the arguments are larger than ${MAX_TOOL_ARGUMENT_CHARS} characters; write big files in parts (several calls)` };
    }
    const text = this.parts.join('');
    return { id, name: this.name, arguments: text.trim() === '' ? fallbackArguments : text };
  }
}

/** Calls keyed by their stream index, in index order at the end. */
export class ToolCallAccumulator {
  private readonly calls = new Map<number, PendingCall>();
  private readonly initial = new Map<number, string>();

  get size(): number {
    return this.calls.size;
  }

  /** The first piece of call `index`: its id and name (either may be missing on some servers). */
  start(index: number, id: string | undefined, name: string | undefined): void {
    let call = this.calls.get(index);
    if (!call) {
      call = new PendingCall(id ?? '');
      this.calls.set(index, call);
    } else if (id && !call.id) call.id = id;
    // Servers that repeat the name in every piece repeat it whole; others send it once.
    if (name && name !== call.name) call.name += name;
  }

  /** Arguments given whole at the start (Anthropic's `input` of a tool_use block). */
  initialArguments(index: number, json: string): void {
    this.initial.set(index, json);
  }

  addArguments(index: number, text: string): void {
    if (!this.calls.has(index)) this.start(index, undefined, undefined);
    this.calls.get(index)!.addArguments(text);
  }

  /** The most recent index (for servers that send pieces without one). */
  lastIndex(): number | undefined {
    let last: number | undefined;
    for (const k of this.calls.keys()) last = k;
    return last;
  }

  has(index: number): boolean {
    return this.calls.has(index);
  }

  hasId(id: string): boolean {
    for (const c of this.calls.values()) if (c.id === id) return true;
    return false;
  }

  /** The finished calls; `idPrefix` names calls that came without an id. */
  finish(idPrefix: string): ModelToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call], i) => call.done(`${idPrefix}${i}`, this.initial.get(index) ?? '{}'));
  }
}
