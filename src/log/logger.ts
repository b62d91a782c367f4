import { accessSync, appendFileSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import pinoRoll, { type RollStream } from 'pino-roll';
import type { LogFields, Logger } from '../core/context.js';
import { redactText, redactValue } from '../core/redact.js';
import { currentLogFile, LOG_BASE, LOG_EXTENSION, logFileNumber, logFilesSync } from './files.js';

/**
 * The unified debug log: one JSON object per line with ts, level, source, msg
 * and correlation fields (task_id, sandbox, gateway, route). Secrets are masked
 * before anything is written. Never colour, never spinners. Every key appears
 * once per record. The files are pino-roll's (log/files.ts): a new number when one
 * reaches the size limit, the oldest removed beyond a count.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ROTATE_BYTES = 20 * 1024 * 1024;
/** The files kept in all, the one written now included (pino-roll removes the oldest beyond). */
export const KEEP_FILES = 4;
/** Look for a newer file another process started after this many bytes written here, or this long. */
const JOIN_CHECK_BYTES = 1024 * 1024;
const JOIN_CHECK_MS = 10_000;
/** Keys the writer sets itself; a field with one of these names is kept as `field_<name>`. */
const RESERVED = new Set(['level', 'ts', 'msg', 'pid', 'time']);

/**
 * pino-roll's stream, kept joined with the other writers. pino-roll counts the bytes its
 * own process writes, so when a command starts `logos.5.jsonl`, a daemon that opened
 * `logos.4.jsonl` earlier would go on writing there (and lose its lines once the oldest
 * files are removed). Every megabyte or ten seconds of writing, the sink looks for a higher
 * number and opens pino-roll again on it; lines keep going to the old file until then.
 * pino-roll opens asynchronously: lines written before it is ready wait in memory, and
 * are appended directly if the process exits first.
 */
class RollingSink {
  private stream: RollStream | undefined;
  private opening = false;
  private pending: string[] = [];
  private sinceCheck = 0;
  private lastCheck = Date.now();
  private failed = false;
  private readonly onExit = (): void => this.flushPendingSync();

  constructor(
    private readonly dir: string,
    private readonly limit: number,
  ) {
    process.once('exit', this.onExit);
    this.open();
  }

  write(line: string): void {
    if (this.failed) return;
    if (this.stream) this.stream.write(line);
    else this.pending.push(line);
    this.sinceCheck += line.length;
    if (this.sinceCheck >= Math.min(JOIN_CHECK_BYTES, this.limit) || Date.now() - this.lastCheck >= JOIN_CHECK_MS) this.joinNewest();
  }

  private open(): void {
    this.opening = true;
    pinoRoll({
      // logos.N.jsonl: pino-roll 4 takes the extension from this name (its `extension` option is overwritten).
      file: join(this.dir, `${LOG_BASE}${LOG_EXTENSION}`),
      size: `${this.limit / 1024}k`,
      limit: { count: KEEP_FILES, removeOtherLogFiles: true },
      // Synchronous writes: the CLI is short-lived and must not lose its last lines on exit or crash.
      sync: true,
      mkdir: true,
      mode: 0o600,
    }).then(
      (next) => {
        next.on('error', (err: unknown) => this.fail(err));
        const prev = this.stream;
        this.stream = next;
        this.opening = false;
        for (const line of this.pending.splice(0)) next.write(line);
        process.off('exit', this.onExit);
        prev?.end();
      },
      (err: unknown) => this.fail(err),
    );
  }

  private joinNewest(): void {
    this.sinceCheck = 0;
    this.lastCheck = Date.now();
    if (this.opening || !this.stream) return;
    let newest = 0;
    try {
      newest = logFilesSync(this.dir).at(-1)?.n ?? 0;
    } catch {
      return;
    }
    if (newest > logFileNumber(this.stream.file)) this.open();
  }

  private flushPendingSync(): void {
    if (this.pending.length === 0) return;
    try {
      appendFileSync(currentLogFile(this.dir), this.pending.splice(0).join(''), { mode: 0o600 });
    } catch {
      // nowhere to write: the command's own output said what mattered
    }
  }

  /** The log cannot be written (disk full, permissions changed): said once, then logging stops. */
  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.opening = false;
    this.pending = [];
    process.off('exit', this.onExit);
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    try {
      process.stderr.write(`logos: the debug log in ${this.dir} cannot be written${code ? ` (${code})` : ''}; logging stops here.\n`);
    } catch {
      // no stderr either
    }
  }
}

type Pino = pino.Logger;
const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

class PinoLogger implements Logger {
  /** Bindings are merged here, not with pino.child, so a record never carries a key twice. */
  constructor(
    private readonly p: () => Pino,
    private readonly min: number,
    private readonly bindings: LogFields,
  ) {}
  private write(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: LogFields): void {
    if (RANK[level] < this.min) return;
    const rec: LogFields = { ...this.bindings };
    if (fields) {
      for (const [k, v] of Object.entries(redactValue(fields))) {
        if (v === undefined) continue;
        rec[RESERVED.has(k) ? `field_${k}` : k] = v;
      }
    }
    this.p()[level](rec, redactText(msg));
  }
  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    const add: LogFields = {};
    for (const [k, v] of Object.entries(redactValue(fields))) if (v !== undefined && !RESERVED.has(k)) add[k] = v;
    return new PinoLogger(this.p, this.min, { ...this.bindings, ...add });
  }
}

export interface FileLoggerOptions {
  level?: string;
  source: string;
  /** Start a new file at this size (default 20 MiB); tests use small values. */
  rotateBytes?: number;
}

/**
 * The unified log in `dir`. Nothing is created or opened until the first record is written:
 * a command that has nothing to log (`runs list`, a usage error) never touches the disk.
 */
export function createFileLogger(dir: string, opts: FileLoggerOptions): Logger {
  const limit = opts.rotateBytes ?? ROTATE_BYTES;
  const level = (LOG_LEVELS as readonly string[]).includes(opts.level ?? '') ? (opts.level as LogLevel) : 'debug';
  let instance: Pino | undefined;
  const open = (): Pino => {
    if (instance) return instance;
    // Made and checked here, synchronously: a log directory that cannot be written is
    // reported by the command that tried (with the path), not lost in a callback.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
    instance = pino(
      {
        level,
        base: { pid: process.pid },
        messageKey: 'msg',
        timestamp: () => `,"ts":"${new Date().toISOString()}"`,
        formatters: { level: (label) => ({ level: label }) },
      },
      new RollingSink(dir, limit),
    );
    return instance;
  };
  return new PinoLogger(open, RANK[level], { source: opts.source });
}
