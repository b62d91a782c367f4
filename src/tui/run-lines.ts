import { argPreview, oneLine, toolCallParts } from '../core/render-text.js';
import { cleanText, type Block, type Transcript } from './transcript.js';

/**
 * The run view's lines: each block of a transcript wrapped to the width, a tool call
 * as one line (`▹ shell  ls -la  ✓ exit 0 · 41ms`) or, expanded, with its arguments,
 * output and what the model got back below it. Pure. Lines of a block are cached by
 * the block object, so a streaming reply re-wraps only its last block.
 */

export type Style = 'dim' | 'bold' | 'ok' | 'err' | 'warn' | 'thinking' | 'accent';

export interface Seg {
  text: string;
  style?: Style;
}

export interface Line {
  segs: Seg[];
  /** Set on a tool call's own line (not its details). */
  callId?: string;
}

/** Expanded output shows at most this many lines (its tail). */
export const MAX_EXPANDED_OUTPUT_LINES = 200;

/** Wrap text to `width` columns: at spaces where possible, hard otherwise. Keeps empty lines. */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let rest = para;
    while (rest.length > w) {
      let cut = rest.lastIndexOf(' ', w);
      if (cut <= 0) cut = w;
      out.push(rest.slice(0, cut).trimEnd());
      rest = rest.slice(cut).replace(/^ /, '');
    }
    out.push(rest);
  }
  return out;
}

function tail<T>(xs: T[], n: number): T[] {
  return xs.length > n ? xs.slice(xs.length - n) : xs;
}

function detail(label: string, text: string, width: number, style: Style = 'dim'): Line[] {
  const lines = wrap(text, width - 6);
  return lines.map((l, i) => ({ segs: [{ text: `    ${i === 0 ? label : ' '.repeat(label.length)}${l}`, style }] }));
}

export function blockLines(b: Block, width: number, expanded: boolean): Line[] {
  switch (b.kind) {
    case 'text':
      return wrap(cleanText(b.text), width).map((l) => ({ segs: [{ text: l }] }));
    case 'thinking':
      return wrap(cleanText(b.text), width - 2).map((l) => ({ segs: [{ text: `┊ ${l}`, style: 'thinking' }] }));
    case 'tool': {
      const outcome = b.end ? b.end.outcome : '…';
      const parts = toolCallParts(b.tool, argPreview(b.preview), width - outcome.length - 4);
      const segs: Seg[] = [{ text: expanded ? '▾ ' : '▹ ', style: 'dim' }, { text: parts.name, style: 'bold' }];
      if (parts.args) segs.push({ text: `  ${parts.args}`, style: 'dim' });
      segs.push({ text: `  ${outcome}`, style: b.end ? (b.end.ok ? 'ok' : 'err') : 'warn' });
      const lines: Line[] = [{ segs, callId: b.callId }];
      if (!expanded) return lines;
      lines.push(...detail('arguments: ', cleanText(b.preview) || '(none)', width));
      if (b.output) {
        const out = tail(cleanText(b.output).replace(/\n$/, '').split('\n'), MAX_EXPANDED_OUTPUT_LINES);
        if (b.outputCut || out.length === MAX_EXPANDED_OUTPUT_LINES) lines.push({ segs: [{ text: '    │ … (earlier output not kept)', style: 'dim' }] });
        for (const l of out) for (const w of wrap(l, width - 6)) lines.push({ segs: [{ text: `    │ ${w}`, style: 'dim' }] });
      }
      if (b.end?.preview) lines.push(...detail('↳ ', oneLine(b.end.preview, 4 * width), width));
      if (!b.end) lines.push({ segs: [{ text: '    running…', style: 'warn' }] });
      return lines;
    }
    case 'result': {
      const lines: Line[] = [];
      if (b.ok) lines.push({ segs: [{ text: `✓ done${b.summary ? ` ${b.summary}` : ''}`, style: 'ok' }] });
      else {
        const e = b.error;
        const head = e ? `✗ ${oneLine(e.code, 40)}: ${cleanText(e.message)}` : '✗ failed';
        lines.push(...wrap(head, width).map((l) => ({ segs: [{ text: l, style: 'err' as Style }] })));
        if (e?.hint) lines.push(...wrap(`hint: ${cleanText(e.hint)}`, width).map((l) => ({ segs: [{ text: l, style: 'dim' as Style }] })));
        if (b.summary) lines.push({ segs: [{ text: b.summary, style: 'dim' }] });
      }
      return lines;
    }
  }
}

interface Cached {
  width: number;
  expanded: boolean;
  lines: Line[];
}

export type LineCache = WeakMap<Block, Cached>;

/** All lines of a transcript; blocks already drawn at this width come from the cache. */
export function transcriptLines(t: Transcript, width: number, expanded: ReadonlySet<string>, cache: LineCache): Line[] {
  const out: Line[] = [];
  if (t.dropped > 0) out.push({ segs: [{ text: `… ${t.dropped} earlier block${t.dropped === 1 ? '' : 's'} not kept`, style: 'dim' }] });
  for (const b of t.blocks) {
    const ex = b.kind === 'tool' && expanded.has(b.callId);
    let c = cache.get(b);
    if (!c || c.width !== width || c.expanded !== ex) {
      c = { width, expanded: ex, lines: blockLines(b, width, ex) };
      cache.set(b, c);
    }
    for (const l of c.lines) out.push(l);
  }
  return out;
}
