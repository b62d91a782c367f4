import { Chalk } from 'chalk';
import { redactValue } from '../core/redact.js';

/** Terminal IO helpers. Colour and progress only on a TTY; --json output is plain JSON on stdout. */

export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  isTTY: boolean;
  errTTY: boolean;
  stdinTTY: boolean;
}

export function processIo(): Io {
  return {
    out: process.stdout,
    err: process.stderr,
    stdin: process.stdin,
    isTTY: !!process.stdout.isTTY,
    errTTY: !!process.stderr.isTTY,
    stdinTTY: !!process.stdin.isTTY,
  };
}

export function printJson(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(redactValue(value), null, 2)}\n`);
}

export function printLine(io: Io, text = ''): void {
  io.out.write(`${text}\n`);
}

export function colors(io: Io, stream: 'out' | 'err' = 'out') {
  const on = stream === 'out' ? io.isTTY : io.errTTY;
  return new Chalk({ level: on && !process.env.NO_COLOR ? 1 : 0 });
}

/** A simple aligned table for human output. */
export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export async function readAllStdin(stdin: NodeJS.ReadStream, maxBytes = 16 * 1024 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > maxBytes) break;
    parts.push(b);
  }
  return Buffer.concat(parts).toString('utf8');
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
