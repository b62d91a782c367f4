import { isUtf8 } from 'node:buffer';
import { isatty } from 'node:tty';
import { Chalk } from 'chalk';
import { LogosError } from '../core/errors.js';
import { redactValue } from '../core/redact.js';
import { stripControls, terminalSafe } from '../core/text.js';

/** Terminal IO helpers. Colour and progress only on a TTY; --json output is plain JSON on stdout. */

export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  isTTY: boolean;
  errTTY: boolean;
  stdinTTY: boolean;
  /**
   * stdout unfiltered, for code that drives the terminal itself (readline's line
   * editing); never write untrusted text to it.
   */
  term?: NodeJS.WriteStream;
}

export function processIo(): Io {
  return {
    out: process.stdout,
    err: process.stderr,
    // process.stdin is made on first use (a stream over the pipe, file or terminal): only
    // commands that read it pay for it; isatty(0) answers the question without it.
    get stdin() {
      return process.stdin;
    },
    isTTY: !!process.stdout.isTTY,
    errTTY: !!process.stderr.isTTY,
    stdinTTY: isatty(0),
  };
}

function colourOn(tty: boolean): boolean {
  return tty && !process.env.NO_COLOR;
}

/** A stream whose text writes pass through terminalSafe (see core/text.ts). */
function safeStream(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  const write = (chunk: unknown, ...rest: unknown[]): boolean =>
    (stream.write as (...a: unknown[]) => boolean)(typeof chunk === 'string' ? terminalSafe(chunk) : chunk, ...rest);
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write') return write;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * The streams as a person reads them: every text written to a human stream loses
 * its control characters (colour codes excepted). stdout carrying data (--json,
 * `debug tail --raw`) stays exactly as written.
 */
export function humanIo(io: Io, dataOnStdout: boolean): Io {
  return {
    isTTY: io.isTTY,
    errTTY: io.errTTY,
    stdinTTY: io.stdinTTY,
    get stdin() {
      return io.stdin;
    },
    term: io.term ?? io.out,
    out: dataOnStdout ? io.out : safeStream(io.out),
    err: safeStream(io.err),
  };
}

/**
 * The one JSON envelope of every command's `--json` output: `{"ok": true, …}`, a list as
 * `{"ok": true, "items": […]}` (as the daemon's list endpoints), a failure as
 * `{"ok": false, "error": {code, message, hint}}` (render-error.ts). A result that says
 * itself whether it is ok (`route sync`, `doctor`) keeps its own `ok`. Streams (`run --json`,
 * `debug tail --json`) print one JSON object per line instead.
 */
export function envelope(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return { ok: true, items: value };
  if (value && typeof value === 'object') return 'ok' in value ? (value as Record<string, unknown>) : { ok: true, ...(value as Record<string, unknown>) };
  return { ok: true, value };
}

export function printJson(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(redactValue(envelope(value)), null, 2)}\n`);
}

export function printLine(io: Io, text = ''): void {
  io.out.write(`${text}\n`);
}

export function colors(io: Io, stream: 'out' | 'err' = 'out') {
  return new Chalk({ level: colourOn(stream === 'out' ? io.isTTY : io.errTTY) ? 1 : 0 });
}

/**
 * Width of a cell as the terminal shows it: colour codes and combining marks take no room,
 * East Asian wide characters and emoji take two columns, a surrogate pair is one character.
 */
export function visibleWidth(text: string): number {
  let w = 0;
  for (const ch of text.replace(/\u001b\[[0-9;]*m/g, '')) {
    const cp = ch.codePointAt(0) ?? 0;
    // Combining marks, zero-width characters and variation selectors take no column.
    if (/\p{M}/u.test(ch) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) continue;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

/**
 * An aligned table for human output. Cells are data: their control characters
 * are removed before the caller's colours (if any) are measured out.
 */
export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows].map((r) => r.map((cell) => terminalSafe(cell)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleWidth(r[i] ?? ''))));
  return all
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleWidth(cell))))).join('  '))
    .join('\n');
}

/** `Key:  value` lines for `show` commands; values are data and lose their control characters. */
export function printFields(io: Io, rows: Array<[string, string]>, width = 11): void {
  for (const [k, v] of rows) printLine(io, `${`${k}:`.padEnd(width)} ${stripControls(v)}`);
}

/**
 * Read a stream to its end, refusing (not truncating) more than maxBytes and
 * input that is not UTF-8. `what` names the input in errors ("the message on stdin").
 */
export async function readBounded(
  stream: AsyncIterable<unknown>,
  maxBytes: number,
  what: string,
  tooLarge: (what: string, max: number) => LogosError = (w, m) =>
    new LogosError('INVALID_ARGUMENT', `${w} is larger than ${formatBytes(m)}; nothing was read.`, { hint: 'Give a smaller input.' }),
): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > maxBytes) throw tooLarge(what, maxBytes);
    parts.push(b);
  }
  return decodeUtf8(Buffer.concat(parts), what);
}

/** Strict UTF-8: invalid input is reported, never silently replaced with U+FFFD. */
export function decodeUtf8(buf: Uint8Array, what: string): string {
  if (!isUtf8(buf)) {
    throw new LogosError('INVALID_ARGUMENT', `${what} is not valid UTF-8.`, {
      hint: 'Convert it to UTF-8 first, e.g. `iconv -f latin1 -t utf-8 FILE`.',
    });
  }
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1048576).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Read a secret at a TTY prompt without echoing it (shows * per character). */
export async function promptSecret(io: Io, question: string): Promise<string> {
  const stdin = io.stdin;
  io.err.write(question);
  stdin.setRawMode?.(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error): void => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off('data', onData);
      io.err.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (s: string): void => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') {
          if (value.length > 0) {
            value = value.slice(0, -1);
            io.err.write('\b \b');
          }
          continue;
        }
        value += ch;
        io.err.write('*');
      }
    };
    stdin.on('data', onData);
  });
}

/** Ask a yes/no question at a TTY: one key, y or Y is yes; anything else (Enter, n, Ctrl-C) is no. */
export async function promptYesNo(io: Io, question: string): Promise<boolean> {
  const stdin = io.stdin;
  io.err.write(question);
  stdin.setRawMode?.(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve) => {
    const onData = (s: string): void => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off('data', onData);
      const yes = /^[yY]/.test(s);
      io.err.write(`${yes ? 'yes' : 'no'}\n`);
      resolve(yes);
    };
    stdin.on('data', onData);
  });
}
