import { fstatSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { LogFields, Logger } from '../core/context.js';
import { redactText, redactValue } from '../core/redact.js';

/**
 * The unified debug log: one JSON object per line with ts, level, source, msg
 * and correlation fields (task_id, sandbox, gateway, route). Secrets are masked
 * before anything is written. Never colour, never spinners. Every key appears
 * once per record, and the file is rotated by size while the process runs.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ROTATE_BYTES = 20 * 1024 * 1024;
/** Check the size again after this many bytes written by this process. */
const ROTATE_CHECK_EVERY = 1024 * 1024;
/** Keys the writer sets itself; a field with one of these names is kept as `field_<name>`. */
const RESERVED = new Set(['level', 'ts', 'msg', 'pid', 'time']);

/**
 * Move the log to `<file>.1` when it has grown past the limit. `fd` is our open
 * descriptor: a file someone else already rotated (its inode changed) is left alone.
 */
function rotateIfLarge(file: string, limit: number, fd?: number): boolean {
  try {
    const st = statSync(file);
    if (st.size <= limit) return false;
    if (fd !== undefined && fstatSync(fd).ino !== st.ino) return true; // rotated by another process: just reopen
    renameSync(file, `${file}.1`);
    return true;
  } catch {
    return false; // missing file: nothing to rotate
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
  /** Rotate at this size (default 20 MiB); tests use small values. */
  rotateBytes?: number;
}

/**
 * The unified log. Nothing is created or opened until the first record is written:
 * a command that has nothing to log (`runs list`, a usage error) never touches the disk.
 */
export function createFileLogger(file: string, opts: FileLoggerOptions): Logger {
  const limit = opts.rotateBytes ?? ROTATE_BYTES;
  const level = (LOG_LEVELS as readonly string[]).includes(opts.level ?? '') ? (opts.level as LogLevel) : 'debug';
  let instance: Pino | undefined;
  const open = (): Pino => {
    if (instance) return instance;
    mkdirSync(dirname(file), { recursive: true });
    rotateIfLarge(file, limit);
    // Synchronous writes: the CLI is short-lived and must not lose its last lines on exit or crash.
    const dest = pino.destination({ dest: file, sync: true, mkdir: true });
    let sinceCheck = 0;
    const sink = {
      write(line: string): void {
        dest.write(line);
        sinceCheck += line.length;
        if (sinceCheck >= Math.min(ROTATE_CHECK_EVERY, limit)) {
          sinceCheck = 0;
          // A long-lived process (a run relaying a chatty worker, the daemon) rotates as it goes.
          if (rotateIfLarge(file, limit, (dest as unknown as { fd: number }).fd)) dest.reopen();
        }
      },
    };
    instance = pino(
      {
        level,
        base: { pid: process.pid },
        messageKey: 'msg',
        timestamp: () => `,"ts":"${new Date().toISOString()}"`,
        formatters: { level: (label) => ({ level: label }) },
      },
      sink,
    );
    return instance;
  };
  return new PinoLogger(open, RANK[level], { source: opts.source });
}
