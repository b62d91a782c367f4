import type { ChatMessage, Frame } from '../core/protocol.js';
import { argPreview, oneLine, toolCallLine, toolCallParts, toolOutcome } from '../core/render-text.js';
import { stripControls } from '../core/text.js';

// The pure formatting helpers live in core (the TUI shares them); re-exported for the CLI's callers.
export { argPreview, formatDuration, oneLine, toolCallLine, toolCallParts, toolOutcome } from '../core/render-text.js';

/**
 * How a run looks on a terminal: the reply text as it streams, reasoning dimmed,
 * and each tool call as one compact line between the reply text (tool, argument
 * preview, ✓/✗ with exit code, duration; `--verbose` adds the tool's output and
 * what the model got back). Off a terminal only the reply text is written. Used by
 * `logos run`, `logos chat` and `logos sessions show`.
 *
 * The pure formatting helpers (no colour, no IO) are in core/render-text.ts, shared
 * with the TUI.
 */

// ---- the streaming renderer ----

/**
 * Human output of a run, written in batches: frames that arrive together go out
 * in one write, and when the reader is slower than the model the returned promise
 * holds the worker back instead of piling the reply up in memory.
 */
export class BatchedWriter {
  private pending = '';
  private scheduled = false;
  private blocked: Promise<void> | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  write(text: string): Promise<void> | undefined {
    if (!text) return this.blocked;
    this.pending += text;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return this.blocked;
  }

  flush(): void {
    this.scheduled = false;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    if (!this.stream.write(text) && !this.blocked) {
      this.blocked = new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          this.stream.off('close', done);
          this.blocked = undefined;
          resolve();
        };
        this.stream.once('drain', done);
        this.stream.once('error', done);
        this.stream.once('close', done);
      });
    }
  }
}

export interface Painter {
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  bold(s: string): string;
}

export const plainPainter: Painter = { dim: (s) => s, green: (s) => s, red: (s) => s, bold: (s) => s };

export interface RendererOptions {
  /** stdout is a terminal: reasoning and tool lines are shown; otherwise only the reply text. */
  tty: boolean;
  thinking: boolean;
  verbose: boolean;
  /** Terminal width, for the argument and result previews. */
  columns: number;
  paint: Painter;
}

type Kind = 'token' | 'thinking' | 'tool' | 'output';

/** Text for a person, frame by frame. `write` may return a promise: the output is full, slow down. */
export class RunRenderer {
  tokenChars = 0;
  toolCalls = 0;
  printedAnything = false;
  private endsWithNewline = true;
  private lastKind: Kind | undefined;
  /** A tool call whose line is written up to its outcome (not --verbose). */
  private openCall: string | undefined;
  private outputAtLineStart = true;
  private readonly calls = new Map<string, { tool: string; args: string }>();

  constructor(
    private readonly sink: (text: string) => Promise<void> | undefined,
    private readonly opts: RendererOptions,
  ) {}

  private write(s: string): Promise<void> | undefined {
    if (!s) return undefined;
    this.printedAnything = true;
    this.endsWithNewline = s.endsWith('\n');
    return this.sink(s);
  }

  /** What to write before a new block so it starts on its own line. */
  private lineBreak(): string {
    if (this.openCall !== undefined) {
      this.openCall = undefined;
      return '\n';
    }
    return this.endsWithNewline ? '' : '\n';
  }

  frame(frame: Frame): Promise<void> | undefined {
    const f = frame as Record<string, unknown>;
    switch (frame.type) {
      case 'token': {
        // Model text is data: no control sequence of its own reaches the terminal.
        const content = stripControls(String(f.content ?? ''));
        if (!content) return undefined;
        let pre = '';
        // Text after a tool call starts on a new line (off a terminal too, where the call itself is not shown).
        if (this.lastKind !== 'token' && (this.opts.tty || this.lastKind === 'tool')) pre = this.lineBreak();
        this.tokenChars += content.length;
        this.lastKind = 'token';
        return this.write(pre + content);
      }
      case 'thinking': {
        // Reasoning is for a person watching; scripts reading stdout get only the reply.
        if (!this.opts.thinking || !this.opts.tty) return undefined;
        const content = stripControls(String(f.content ?? ''));
        if (!content) return undefined;
        const pre = this.lastKind !== 'thinking' ? this.lineBreak() : '';
        this.lastKind = 'thinking';
        return this.write(pre + this.opts.paint.dim(content));
      }
      case 'tool_start':
        if (this.opts.tty) return this.toolStart(f);
        this.lastKind = 'tool';
        return undefined;
      case 'tool_output':
        return this.opts.tty && this.opts.verbose ? this.toolOutput(f) : undefined;
      case 'tool_end':
        return this.opts.tty ? this.toolEnd(f) : undefined;
      default:
        return undefined;
    }
  }

  private startText(call: { tool: string; args: string }): string {
    const parts = toolCallParts(call.tool, call.args, this.opts.columns - 16);
    const p = this.opts.paint;
    return `  ${p.dim('▹')} ${p.bold(parts.name)}${parts.args ? `  ${p.dim(parts.args)}` : ''}`;
  }

  private toolStart(f: Record<string, unknown>): Promise<void> | undefined {
    const id = String(f.call_id ?? '');
    const call = { tool: String(f.tool ?? ''), args: argPreview(f.preview) };
    if (this.calls.size >= 256) this.calls.delete(this.calls.keys().next().value as string);
    this.calls.set(id, call);
    let s = this.lineBreak() + this.startText(call);
    this.lastKind = 'tool';
    if (this.opts.verbose) s += '\n';
    else this.openCall = id;
    return this.write(s);
  }

  private toolOutput(f: Record<string, unknown>): Promise<void> | undefined {
    const text = stripControls(String(f.content ?? ''));
    if (!text) return undefined;
    let s = '';
    if (this.lastKind !== 'output') {
      s += this.lineBreak();
      this.outputAtLineStart = true;
    }
    const bar = '    │ ';
    const parts = text.split('\n');
    parts.forEach((part, i) => {
      if (part !== '') {
        if (this.outputAtLineStart) s += this.opts.paint.dim(bar);
        s += this.opts.paint.dim(part);
        this.outputAtLineStart = false;
      }
      if (i < parts.length - 1) {
        s += '\n';
        this.outputAtLineStart = true;
      }
    });
    this.lastKind = 'output';
    return this.write(s);
  }

  private toolEnd(f: Record<string, unknown>): Promise<void> | undefined {
    const id = String(f.call_id ?? '');
    const call = this.calls.get(id) ?? { tool: String(f.tool ?? ''), args: '' };
    this.calls.delete(id);
    this.toolCalls += 1;
    const p = this.opts.paint;
    const o = toolOutcome(f);
    const outcome = o.ok ? p.green(o.text) : p.red(o.text);
    let s: string;
    if (this.opts.verbose) {
      const preview = typeof f.preview === 'string' ? oneLine(f.preview, Math.max(16, this.opts.columns - 30)) : '';
      s = `${this.lineBreak()}    ${outcome}${preview ? p.dim(`  ↳ ${preview}`) : ''}\n`;
    } else if (this.openCall === id) {
      this.openCall = undefined;
      s = `  ${outcome}\n`;
    } else {
      s = `${this.lineBreak()}${this.startText(call)}  ${outcome}\n`;
    }
    this.lastKind = 'tool';
    return this.write(s);
  }

  /** After the run: the final response when no tokens came (reasoning-only fallback), and a final newline. */
  finish(outcome: { status: string; finalResponse: string }): void {
    if (outcome.status === 'ok' && this.tokenChars === 0 && outcome.finalResponse) {
      void this.write(this.lineBreak() + stripControls(outcome.finalResponse));
    }
    if (this.openCall !== undefined || (this.printedAnything && !this.endsWithNewline)) void this.write(this.lineBreak() || '\n');
  }
}

// ---- session history, for `logos sessions show` ----

/**
 * The turns of a session as lines for a person: messages in full, each tool call
 * and each tool result on one line.
 */
export function historyLines(messages: readonly ChatMessage[], columns: number, paint: Painter = plainPainter): string[] {
  const out: string[] = [];
  const body = (text: string): string[] => stripControls(text).replace(/\s+$/, '').split('\n').map((l) => `  ${l}`);
  for (const m of messages) {
    if (m.role === 'user') {
      out.push(paint.bold('you:'), ...body(m.content));
    } else if (m.role === 'system') {
      out.push(paint.dim('system:'), ...body(m.content).map((l) => paint.dim(l)));
    } else if (m.role === 'assistant') {
      if (m.content.trim() || !m.tool_calls?.length) out.push(paint.bold('assistant:'), ...body(m.content));
      for (const c of m.tool_calls ?? []) {
        out.push(`  ${paint.dim(toolCallLine(c.name, argPreview(c.arguments), columns - 4))}`);
      }
    } else if (m.role === 'tool') {
      const mark = m.is_error ? paint.red('✗') : paint.green('✓');
      out.push(`    ${mark} ${paint.dim(oneLine(`${m.name}: ${m.content}`, Math.max(16, columns - 8)))}`);
    }
  }
  return out;
}
