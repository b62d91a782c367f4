import { mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { LogFields, Logger } from '../core/context.js';
import { redactText, redactValue } from '../core/redact.js';

/**
 * The unified debug log: one JSON object per line with ts, level, source, msg
 * and correlation fields (task_id, sandbox, gateway, route). Secrets are masked
 * before anything is written. Never colour, never spinners.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const ROTATE_BYTES = 20 * 1024 * 1024;

function rotateIfLarge(file: string): void {
  try {
    if (statSync(file).size > ROTATE_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // missing file: nothing to rotate
  }
}

class PinoLogger implements Logger {
  /** `source` is kept here, not in pino bindings, so a child can change it without a duplicate key. */
  constructor(
    private readonly p: pino.Logger,
    private readonly source: string,
  ) {}
  private write(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: LogFields): void {
    if (!this.p.isLevelEnabled(level)) return;
    const { source, ...rest } = fields ?? {};
    this.p[level]({ source: typeof source === 'string' ? source : this.source, ...redactValue(rest) }, redactText(msg));
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
    const { source, ...rest } = fields;
    return new PinoLogger(this.p.child(redactValue(rest)), typeof source === 'string' ? source : this.source);
  }
}

export function createFileLogger(file: string, opts: { level?: string; source: string }): Logger {
  mkdirSync(dirname(file), { recursive: true });
  rotateIfLarge(file);
  const level = (LOG_LEVELS as readonly string[]).includes(opts.level ?? '') ? (opts.level as LogLevel) : 'debug';
  // Synchronous writes: the CLI is short-lived and must not lose its last lines on exit or crash.
  const dest = pino.destination({ dest: file, sync: true, mkdir: true });
  const p = pino(
    {
      level,
      base: { pid: process.pid },
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return new PinoLogger(p, opts.source);
}
