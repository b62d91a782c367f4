/**
 * Bounded tool output. A command can print gigabytes; the model gets at most
 * MAX_TOOL_OUTPUT_BYTES of it (the head and the tail, with a note saying how much
 * was cut from the middle), the host gets the output streamed live up to a cap,
 * and the worker holds neither in full.
 */
import { StringDecoder } from 'node:string_decoder';
import { MAX_TOOL_OUTPUT_BYTES } from '../core/protocol.js';
import { framePieces } from './text.js';

/** Room kept in a result for the notes around the kept output. */
const NOTE_ROOM = 1024;
/** Bytes of the head and of the tail kept for the model. */
export const KEPT_PART_BYTES = Math.floor((MAX_TOOL_OUTPUT_BYTES - NOTE_ROOM) / 2);
/** Output streamed to the host per tool call (tool_output frames); the rest is only counted. */
export const MAX_STREAMED_OUTPUT_BYTES = 1024 * 1024;
/** tool_output frames are gathered up to this many characters or this long. */
const STREAM_FLUSH_CHARS = 16 * 1024;
const STREAM_FLUSH_MS = 50;

function isContinuation(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

/** Length of the longest beginning of `buf` (at most `max` bytes) that ends on a character boundary. */
function safeHeadLength(buf: Buffer, max: number): number {
  if (buf.length <= max) return buf.length;
  let end = max;
  // Step back over continuation bytes to the lead byte of the cut character: drop it whole.
  while (end > 0 && isContinuation(buf[end])) end--;
  return end;
}

/** Length of `buf` without a character cut short at its end. */
function wholeCharsLength(buf: Buffer): number {
  let lead = buf.length - 1;
  while (lead > 0 && buf.length - lead < 4 && isContinuation(buf[lead])) lead--;
  const b = buf[lead];
  if (b === undefined || b < 0xc0) return buf.length;
  const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
  return buf.length - lead < need ? lead : buf.length;
}

/** Offset of the first character boundary at or after `start`. */
function safeTailStart(buf: Buffer, start: number): number {
  let i = Math.max(0, start);
  while (i < buf.length && isContinuation(buf[i])) i++;
  return i;
}

export function cutNote(total: number, head: number, tail: number): string {
  return `[… ${total - head - tail} bytes of output cut here: ${total} bytes in all, the first ${head} and the last ${tail} are shown …]`;
}

/** The first and last KEPT_PART_BYTES of a byte stream, and its exact size. */
export class HeadTail {
  total = 0;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;

  constructor(private readonly keep = KEPT_PART_BYTES) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.keep) {
      const take = Math.min(this.keep - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tail.length > 1 && this.tailBytes - this.tail[0]!.length >= this.keep) this.tailBytes -= this.tail.shift()!.length;
  }

  /** The whole output, or its head, a note of the cut, and its tail. */
  text(): { text: string; cut: boolean } {
    const head = Buffer.concat(this.head);
    const tail = Buffer.concat(this.tail);
    if (this.total <= 2 * this.keep) return { text: Buffer.concat([head, tail]).toString('utf8'), cut: false };
    const headPart = head.subarray(0, wholeCharsLength(head));
    const tailPart = tail.subarray(safeTailStart(tail, tail.length - this.keep));
    const note = cutNote(this.total, headPart.length, tailPart.length);
    return { text: `${headPart.toString('utf8')}\n${note}\n${tailPart.toString('utf8')}`, cut: true };
  }
}

/** A string result capped the same way (tools other than shell rarely need it). */
export function capToolText(text: string, max = MAX_TOOL_OUTPUT_BYTES): string {
  if (text.length * 3 <= max || Buffer.byteLength(text) <= max) return text;
  const keep = Math.floor((max - NOTE_ROOM) / 2);
  const ht = new HeadTail(keep);
  ht.add(Buffer.from(text, 'utf8'));
  return ht.text().text;
}

/**
 * Output streamed as tool_output frames: decoded without splitting characters,
 * gathered into fewer frames, and cut (with a note) past MAX_STREAMED_OUTPUT_BYTES.
 */
export class OutputStreamer {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private bytes = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (text: string) => void,
    private readonly maxBytes = MAX_STREAMED_OUTPUT_BYTES,
  ) {}

  add(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.bytes + chunk.length > this.maxBytes) {
      const room = this.maxBytes - this.bytes;
      this.pending += this.decoder.write(chunk.subarray(0, safeHeadLength(chunk, room)));
      this.pending += `\n[… output beyond ${this.maxBytes} bytes is not streamed; the tool result keeps its head and tail …]\n`;
      this.stopped = true;
      this.flush();
      return;
    }
    this.bytes += chunk.length;
    this.pending += this.decoder.write(chunk);
    if (this.pending.length >= STREAM_FLUSH_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), STREAM_FLUSH_MS);
  }

  end(): void {
    if (!this.stopped) this.pending += this.decoder.end();
    this.stopped = true;
    this.flush();
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    for (const piece of framePieces(text)) this.emit(piece);
  }
}

/** At most `max` characters of `text` on one line, for frame previews (whole characters only). */
export function preview(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  let cut = max - 1;
  const c = flat.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return `${flat.slice(0, cut)}…`;
}
