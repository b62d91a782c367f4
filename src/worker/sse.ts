/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream format).
 * Bytes may be split anywhere, even inside a UTF-8 character or between CR and
 * LF; lines end with LF, CRLF or CR; `:` lines are comments (keep-alives);
 * several `data:` lines in one record are joined with "\n".
 */

export interface SseEvent {
  /** The `event:` field, when the record had one. */
  event?: string;
  data: string;
  id?: string;
}

/** A single record (or line) larger than this is not a stream we want to hold in memory. */
export const MAX_SSE_BUFFER = 16 * 1024 * 1024;

export class SseTooLargeError extends Error {
  constructor(size: number) {
    super(`event-stream record larger than ${MAX_SSE_BUFFER} bytes (${size} buffered)`);
    this.name = 'SseTooLargeError';
  }
}

export class SseParser {
  /** Comment lines seen so far (keep-alives). */
  comments = 0;
  /** Records dispatched so far. */
  events = 0;

  private readonly decoder = new TextDecoder('utf-8');
  private partial = '';
  private afterCR = false;
  private started = false;
  private data: string[] = [];
  private eventName: string | undefined;
  private lastId: string | undefined;
  private buffered = 0;

  /** Feed the next piece of the stream; returns the records it completed. */
  feed(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: SseEvent[] = [];
    this.process(text, out);
    return out;
  }

  /**
   * The stream ended. Flushes a trailing partial line and, leniently, a record
   * that was not followed by a blank line (some servers end with `data: [DONE]\n`).
   */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    this.process(this.decoder.decode(), out);
    if (this.partial.length > 0) {
      const line = this.partial;
      this.partial = '';
      this.line(line, out);
    }
    this.dispatch(out);
    return out;
  }

  private process(input: string, out: SseEvent[]): void {
    let text = input;
    if (text.length === 0) return;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.afterCR) {
      this.afterCR = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1); // the LF of a CRLF split across chunks
    }
    const s = this.partial + text;
    const n = s.length;
    // The held partial line has no line break: search only the new text, with
    // indexOf rather than a per-character loop (this runs over every byte of the reply).
    let from = this.partial.length;
    let pos = 0;
    // Next CR / LF at or after `from` (-1: none left), each searched again only once passed.
    let cr = s.indexOf('\r', from);
    let lf = s.indexOf('\n', from);
    for (;;) {
      if (cr !== -1 && cr < from) cr = s.indexOf('\r', from);
      if (lf !== -1 && lf < from) lf = s.indexOf('\n', from);
      const i = cr !== -1 && (lf === -1 || cr < lf) ? cr : lf;
      if (i === -1) break;
      this.line(s.slice(pos, i), out);
      let next = i + 1;
      if (i === cr) {
        if (next < n) {
          if (s.charCodeAt(next) === 10) next++;
        } else {
          this.afterCR = true;
        }
      }
      pos = from = next;
    }
    this.partial = s.slice(pos);
    if (this.partial.length + this.buffered > MAX_SSE_BUFFER) {
      throw new SseTooLargeError(this.partial.length + this.buffered);
    }
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.comments++;
      return;
    }
    // Nearly every line of a reply: `data: …`, taken without slicing out its field name.
    if (line.startsWith('data: ')) {
      const value = line.slice(6);
      this.data.push(value);
      this.buffered += value.length + 1;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.buffered += value.length + 1;
        break;
      case 'event':
        this.eventName = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields are ignored, as the spec says
        break;
    }
  }

  private dispatch(out: SseEvent[]): void {
    if (this.data.length > 0) {
      const ev: SseEvent = { data: this.data.length === 1 ? (this.data[0] as string) : this.data.join('\n') };
      if (this.eventName !== undefined && this.eventName !== '') ev.event = this.eventName;
      if (this.lastId !== undefined) ev.id = this.lastId;
      out.push(ev);
      this.events++;
    }
    this.data = [];
    this.eventName = undefined;
    this.buffered = 0;
  }
}

/** Parse a whole stream at once (tests, fixtures). */
export function parseSse(chunks: Iterable<Uint8Array | string>): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.feed(c));
  out.push(...p.end());
  return out;
}
