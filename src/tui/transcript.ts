import { formatDuration, toolOutcome } from '../core/render-text.js';
import { stripControls } from '../core/text.js';
import type { ErrorView, FrameView } from './model.js';

/**
 * A run's frames folded into what the run view shows: reply text, reasoning, one
 * block per tool call (its output kept with it) and the final result. Pure; a block
 * that changes is replaced by a new object, so the lines drawn for the others are
 * reused (see run-lines.ts). Text is stored as it came and cleaned where it is drawn.
 */

export type Block =
  | { kind: 'text'; text: string }
  | { kind: 'thinking'; text: string }
  | { kind: 'tool'; callId: string; tool: string; preview: string; output: string; outputCut: boolean; end?: ToolEnd }
  | { kind: 'result'; ok: boolean; summary: string; error?: ErrorView };

export interface ToolEnd {
  ok: boolean;
  /** `✓ exit 0 · 41ms` */
  outcome: string;
  /** The start of what the model got back. */
  preview: string;
}

export interface Transcript {
  readonly blocks: readonly Block[];
  /** Characters held (text, reasoning, tool output), to bound memory on a long run. */
  readonly chars: number;
  /** Blocks dropped from the start to stay under the bound. */
  readonly dropped: number;
  /** The highest frame `seq` seen, -1 before any. */
  readonly lastSeq: number;
  readonly done: boolean;
}

export const EMPTY_TRANSCRIPT: Transcript = { blocks: [], chars: 0, dropped: 0, lastSeq: -1, done: false };

/** What a run view holds at most; older blocks go first. */
export const MAX_TRANSCRIPT_CHARS = 512 * 1024;
/** A tool's output kept for its expanded view (the tail). */
export const MAX_TOOL_OUTPUT_CHARS = 16 * 1024;

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function errorOf(v: unknown): ErrorView | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const e = v as Record<string, unknown>;
  const code = str(e.code);
  const message = str(e.message);
  if (!code && !message) return undefined;
  const hint = str(e.hint);
  return { code: code || 'ERROR', message, ...(hint ? { hint } : {}) };
}

/** `✓ done in 3.2s · 412 in / 96 out tokens · 3 steps` (without the mark). */
export function resultSummary(f: Record<string, unknown>): string {
  const parts: string[] = [];
  const d = formatDuration(f.duration_ms);
  parts.push(d ? `in ${d}` : '');
  const usage = (f.usage && typeof f.usage === 'object' ? f.usage : {}) as Record<string, unknown>;
  const inT = num(usage.input_tokens);
  const outT = num(usage.output_tokens);
  if (inT !== undefined || outT !== undefined) parts.push(`${inT ?? '?'} in / ${outT ?? '?'} out tokens`);
  const steps = num(f.steps);
  if (steps !== undefined) parts.push(`${steps} step${steps === 1 ? '' : 's'}`);
  return parts.filter(Boolean).join(' · ');
}

function findTool(blocks: Block[], callId: string): number {
  for (let i = blocks.length - 1; i >= 0; i -= 1) {
    const b = blocks[i];
    if (b?.kind === 'tool' && b.callId === callId) return i;
  }
  return -1;
}

function sizeOf(b: Block): number {
  switch (b.kind) {
    case 'text':
    case 'thinking':
      return b.text.length;
    case 'tool':
      return b.output.length + b.preview.length;
    default:
      return b.summary.length;
  }
}

/** Fold frames into a transcript (a new object; the old one is unchanged). */
export function foldFrames(t: Transcript, frames: readonly FrameView[]): Transcript {
  if (frames.length === 0) return t;
  const blocks = t.blocks.slice();
  let chars = t.chars;
  let lastSeq = t.lastSeq;
  let done = t.done;
  for (const f of frames) {
    if (typeof f.seq === 'number') {
      if (f.seq <= lastSeq) continue;
      lastSeq = f.seq;
    }
    const last = blocks[blocks.length - 1];
    switch (f.type) {
      case 'token':
      case 'thinking': {
        const content = str(f.content);
        if (!content) break;
        const kind = f.type === 'token' ? 'text' : 'thinking';
        if (last && last.kind === kind) blocks[blocks.length - 1] = { kind, text: last.text + content };
        else blocks.push({ kind, text: content });
        chars += content.length;
        break;
      }
      case 'tool_start':
        blocks.push({ kind: 'tool', callId: str(f.call_id), tool: str(f.tool), preview: str(f.preview), output: '', outputCut: false });
        chars += str(f.preview).length;
        break;
      case 'tool_output': {
        const i = findTool(blocks, str(f.call_id));
        const b = blocks[i];
        if (!b || b.kind !== 'tool') break;
        let output = b.output + str(f.content);
        let cut = b.outputCut;
        if (output.length > MAX_TOOL_OUTPUT_CHARS) {
          output = output.slice(output.length - MAX_TOOL_OUTPUT_CHARS);
          cut = true;
        }
        chars += output.length - b.output.length;
        blocks[i] = { ...b, output, outputCut: cut };
        break;
      }
      case 'tool_end': {
        let i = findTool(blocks, str(f.call_id));
        if (i === -1) {
          // An end without its start (a run opened late): show the call anyway.
          blocks.push({ kind: 'tool', callId: str(f.call_id), tool: str(f.tool), preview: '', output: '', outputCut: false });
          i = blocks.length - 1;
        }
        const b = blocks[i];
        if (!b || b.kind !== 'tool') break;
        const o = toolOutcome(f as Record<string, unknown>);
        blocks[i] = { ...b, end: { ok: o.ok, outcome: o.text, preview: str(f.preview) } };
        break;
      }
      case 'task_result': {
        const ok = f.status === 'ok';
        // A reply that came only as the final response (no tokens streamed) is shown as text.
        const final = str(f.final_response);
        if (ok && final && !blocks.some((b) => b.kind === 'text')) {
          blocks.push({ kind: 'text', text: final });
          chars += final.length;
        }
        const error = errorOf(f.error);
        blocks.push({ kind: 'result', ok, summary: resultSummary(f), ...(error ? { error } : {}) });
        done = true;
        break;
      }
      default:
        break;
    }
  }
  let dropped = t.dropped;
  let start = 0;
  while (chars > MAX_TRANSCRIPT_CHARS && start < blocks.length - 1) {
    chars -= sizeOf(blocks[start] as Block);
    start += 1;
  }
  dropped += start;
  return { blocks: start > 0 ? blocks.slice(start) : blocks, chars, dropped, lastSeq, done };
}

/** The tool calls in order, for selecting one in the run view. */
export function toolIds(t: Transcript): string[] {
  const ids: string[] = [];
  for (const b of t.blocks) if (b.kind === 'tool') ids.push(b.callId);
  return ids;
}

/** Text fit for one terminal line or a wrapped paragraph: control characters removed, tabs as spaces. */
export function cleanText(text: string): string {
  return stripControls(text).replace(/\t/g, '  ');
}
