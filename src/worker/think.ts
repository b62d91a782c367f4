/**
 * Incremental splitter for reasoning written inline as `<think>…</think>` in the
 * visible content. Tags may be split across chunks at any character; the tags
 * themselves are dropped. Text outside tags is `content`, inside is `thinking`.
 */

export type ThinkPart =
  | { kind: 'content'; text: string }
  | { kind: 'thinking'; text: string }
  /**
   * A `</think>` with no opening tag: chat templates that pre-fill `<think>` in
   * the prompt make the model start inside a think block. Everything before it
   * was reasoning; the caller decides what to do with text it already passed on.
   */
  | { kind: 'orphan-close' };

const OPEN = '<think>';
const CLOSE = '</think>';

export class ThinkSplitter {
  /** True once any think tag was seen (open or close). */
  sawTags = false;
  private depth = 0;
  private pending = '';

  push(text: string): ThinkPart[] {
    const out: ThinkPart[] = [];
    const s = this.pending + text;
    this.pending = '';
    let pos = 0;
    let textStart = 0;
    while (pos < s.length) {
      const lt = s.indexOf('<', pos);
      if (lt === -1) break;
      const rest = s.length - lt;
      if (s.startsWith(OPEN, lt)) {
        this.emit(out, s.slice(textStart, lt));
        this.depth++;
        this.sawTags = true;
        pos = textStart = lt + OPEN.length;
      } else if (s.startsWith(CLOSE, lt)) {
        this.emit(out, s.slice(textStart, lt));
        this.sawTags = true;
        if (this.depth > 0) this.depth--;
        else out.push({ kind: 'orphan-close' });
        pos = textStart = lt + CLOSE.length;
      } else if (
        (rest < OPEN.length && OPEN.startsWith(s.slice(lt))) ||
        (rest < CLOSE.length && CLOSE.startsWith(s.slice(lt)))
      ) {
        // Possibly the start of a tag cut by the chunk boundary: hold it back.
        this.emit(out, s.slice(textStart, lt));
        this.pending = s.slice(lt);
        return out;
      } else {
        pos = lt + 1;
      }
    }
    this.emit(out, s.slice(textStart));
    return out;
  }

  /** End of the stream: a held-back partial tag was literal text after all. */
  end(): ThinkPart[] {
    const out: ThinkPart[] = [];
    const rest = this.pending;
    this.pending = '';
    this.emit(out, rest);
    return out;
  }

  /** Inside an unclosed `<think>` right now. */
  get inThink(): boolean {
    return this.depth > 0;
  }

  /** Outside any think block with nothing held back: text without `<` passes as content unchanged. */
  get idle(): boolean {
    return this.depth === 0 && this.pending === '';
  }

  private emit(out: ThinkPart[], text: string): void {
    if (text.length === 0) return;
    const kind = this.depth > 0 ? 'thinking' : 'content';
    const last = out[out.length - 1];
    if (last && last.kind !== 'orphan-close' && last.kind === kind) last.text += text;
    else out.push({ kind, text });
  }
}

/** Split a whole string at once (tests, fixtures). */
export function splitThink(chunks: Iterable<string>): ThinkPart[] {
  const t = new ThinkSplitter();
  const out: ThinkPart[] = [];
  const add = (parts: ThinkPart[]): void => {
    for (const p of parts) {
      const last = out[out.length - 1];
      if (p.kind !== 'orphan-close' && last && last.kind === p.kind) last.text += p.text;
      else out.push(p.kind === 'orphan-close' ? p : { ...p });
    }
  };
  for (const c of chunks) add(t.push(c));
  add(t.end());
  return out;
}
