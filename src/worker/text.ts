/**
 * Text of any length in bounded memory. A model can stream megabytes (or a
 * runaway hundreds of MiB); the worker keeps only the beginning of each text it
 * accumulates, enough for a final response capped at MAX_INLINE_RESPONSE_BYTES,
 * plus exact counts of the whole, so the capped result is still exact.
 */
import { MAX_INLINE_RESPONSE_BYTES } from '../core/protocol.js';

/** UTF-16 units kept beyond the cap: a cut never has to look past the kept text. */
export const HEAD_MARGIN = 64;

/**
 * Most UTF-16 units of text in one token/thinking frame. JSON escaping turns a
 * unit into at most 6 bytes (`\u001f`, a lone surrogate), so a frame stays far
 * below MAX_FRAME_BYTES even when an upstream sends megabytes in one delta.
 */
export const MAX_FRAME_CONTENT_UNITS = 64 * 1024;

/** What String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator). */
export function isTrimSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** UTF-8 size of one whitespace unit (all of them are in the BMP, none is a surrogate). */
function spaceBytes(c: number): number {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * The longest beginning of `s` whose UTF-8 encoding fits in `maxBytes`, never
 * splitting a character (a surrogate pair stays whole or goes). Sizes match
 * Buffer.byteLength: a lone surrogate counts as its 3-byte replacement.
 */
export function utf8Head(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s;
  let bytes = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    let size = 3;
    let width = 1;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (isHigh(c) && i + 1 < n && isLow(s.charCodeAt(i + 1))) {
      size = 4;
      width = 2;
    }
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += width;
  }
  return s.slice(0, i);
}

/** Cut `text` into pieces of at most `max` units for frames, keeping surrogate pairs whole. */
export function framePieces(text: string, max = MAX_FRAME_CONTENT_UNITS): string[] {
  if (text.length <= max) return [text];
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(i + max, text.length);
    if (end < text.length && end - i > 1 && isHigh(text.charCodeAt(end - 1)) && isLow(text.charCodeAt(end))) end--;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

/** A final response as it goes into task_result. */
export interface CappedText {
  /** The whole text, or its beginning cut to at most the cap (whole characters only). */
  text: string;
  /** UTF-8 size of the whole text. */
  bytes: number;
  /** `text` is only the beginning. */
  truncated: boolean;
}

/**
 * Append-only text that remembers its first `cap + HEAD_MARGIN` units and the
 * exact size of everything. Leading and trailing whitespace are tracked apart,
 * so the text can be given trimmed (as String.prototype.trim would) without
 * holding it: a reply that starts with a long whitespace run still has its real
 * beginning, and a trailing run of any length is subtracted exactly.
 * Retained: at most `keep` units of the text, or 2 × `keep` when the text opens
 * with more than `keep` units of whitespace (each form needs its own head).
 */
export class BoundedText {
  /** Units kept of each part. */
  readonly keep: number;
  /** The leading whitespace run (its first `keep` units). */
  private lead = '';
  private leadChars = 0;
  private leadBytes = 0;
  /** Everything from the first non-whitespace unit on (its first `keep` units). */
  private body = '';
  private bodyChars = 0;
  private bodyBytes = 0;
  /** The whitespace run at the end of `body` (what trimEnd would drop). */
  private trailChars = 0;
  private trailBytes = 0;
  /**
   * The text so far ends with a high surrogate: a piece that starts with the low one completes
   * the pair, 4 bytes in UTF-8, not the 3 + 3 of two lone halves each piece was counted as.
   */
  private endsHigh = false;

  constructor(readonly cap = MAX_INLINE_RESPONSE_BYTES) {
    // A kept part that was cut is longer than `cap` bytes, so a capped head never reaches its end.
    this.keep = cap + HEAD_MARGIN;
  }

  /** UTF-16 length of the whole text. */
  get length(): number {
    return this.leadChars + this.bodyChars;
  }

  /** UTF-8 size of the whole text. */
  get bytes(): number {
    return this.leadBytes + this.bodyBytes;
  }

  /** Anything other than whitespace arrived (the text does not trim to ''). */
  get hasNonSpace(): boolean {
    return this.bodyChars > 0;
  }

  /** UTF-16 units actually held in memory. */
  get retainedUnits(): number {
    return this.lead.length + this.body.length;
  }

  append(s: string): void {
    if (s.length === 0) return;
    let rest = s;
    if (this.bodyChars === 0) {
      let i = 0;
      let bytes = 0;
      while (i < s.length) {
        const c = s.charCodeAt(i);
        if (!isTrimSpace(c)) break;
        bytes += spaceBytes(c);
        i++;
      }
      if (i > 0) {
        this.leadChars += i;
        this.leadBytes += bytes;
        if (this.lead.length < this.keep) this.lead += s.slice(0, Math.min(i, this.keep - this.lead.length));
        if (i === s.length) return;
        rest = s.slice(i);
      }
    }
    let bytes = Buffer.byteLength(rest, 'utf8');
    if (this.endsHigh && isLow(rest.charCodeAt(0))) bytes -= 2;
    this.endsHigh = isHigh(rest.charCodeAt(rest.length - 1));
    this.bodyChars += rest.length;
    this.bodyBytes += bytes;
    const room = this.keep - this.body.length;
    if (room > 0) this.body += rest.length <= room ? rest : rest.slice(0, room);
    // Usually one short scan: how much of the end is whitespace.
    let j = rest.length;
    let tailBytes = 0;
    while (j > 0) {
      const c = rest.charCodeAt(j - 1);
      if (!isTrimSpace(c)) break;
      tailBytes += spaceBytes(c);
      j--;
    }
    if (j === 0) {
      this.trailChars += rest.length;
      this.trailBytes += bytes;
    } else {
      this.trailChars = rest.length - j;
      this.trailBytes = tailBytes;
    }
  }

  /** Append the whole of another text (which may itself be held only in part). */
  appendText(other: BoundedText): void {
    if (other.length === 0) return;
    if (this.bodyChars === 0) {
      // All whitespace so far: the other's leading run extends ours, its body becomes ours.
      this.leadChars += other.leadChars;
      this.leadBytes += other.leadBytes;
      if (this.lead.length < this.keep) this.lead = (this.lead + other.lead).slice(0, this.keep);
      this.body = other.body.slice(0, this.keep);
      this.bodyChars = other.bodyChars;
      this.bodyBytes = other.bodyBytes;
      this.trailChars = other.trailChars;
      this.trailBytes = other.trailBytes;
      this.endsHigh = other.endsHigh;
      return;
    }
    this.bodyChars += other.length;
    this.bodyBytes += other.bytes;
    if (this.endsHigh && isLow(other.rawBeginning().charCodeAt(0))) this.bodyBytes -= 2;
    this.endsHigh = other.endsHigh;
    // Our kept body is the whole of it until it is full, so adding the other's beginning keeps it a true beginning.
    if (this.body.length < this.keep) this.body = (this.body + other.rawBeginning()).slice(0, this.keep);
    if (other.bodyChars > 0) {
      this.trailChars = other.trailChars;
      this.trailBytes = other.trailBytes;
    } else {
      this.trailChars += other.leadChars;
      this.trailBytes += other.leadBytes;
    }
  }

  /** The text (or, with `trim`, the text trimmed) capped to `cap` bytes. */
  capped(trim = false): CappedText {
    let kept: string;
    let bytes: number;
    if (trim) {
      const n = this.bodyChars - this.trailChars;
      kept = this.body.length > n ? this.body.slice(0, n) : this.body;
      bytes = this.bodyBytes - this.trailBytes;
    } else {
      kept = this.rawBeginning();
      bytes = this.bytes;
    }
    if (bytes <= this.cap) return { text: kept, bytes, truncated: false };
    return { text: utf8Head(kept, this.cap), bytes, truncated: true };
  }

  clear(): void {
    this.lead = this.body = '';
    this.leadChars = this.leadBytes = this.bodyChars = this.bodyBytes = this.trailChars = this.trailBytes = 0;
    this.endsHigh = false;
  }

  clone(): BoundedText {
    const c = new BoundedText(this.cap);
    c.appendText(this);
    return c;
  }

  /** The kept beginning of the untrimmed text. */
  private rawBeginning(): string {
    return this.lead.length < this.leadChars ? this.lead : this.lead + this.body;
  }
}
