/**
 * The worker's own log: JSON lines on stderr (the host relays them into the
 * unified log) and appended to a file inside the sandbox, so `logos sandbox logs`
 * can read it later. Never stdout: that channel carries frames only.
 */
import { appendFileSync } from 'node:fs';
import { scrub } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const DEFAULT_LOG_FILE = '/tmp/logos-worker.jsonl';

export interface WorkerLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  setTaskId(taskId: string | undefined): void;
}

export interface LoggerOptions {
  /** Log file to append to; undefined disables the file. Write failures are ignored. */
  file?: string | undefined;
  level?: LogLevel | undefined;
  taskId?: string | undefined;
  /** Where a stderr line goes (defaults to process.stderr). */
  writeStderr?: ((line: string) => void) | undefined;
  now?: (() => Date) | undefined;
}

export function parseLogLevel(value: string | undefined): LogLevel {
  const v = (value ?? '').toLowerCase();
  return v === 'debug' || v === 'warn' || v === 'error' ? v : 'info';
}

export function createLogger(opts: LoggerOptions = {}): WorkerLogger {
  const min = RANK[opts.level ?? 'info'];
  let taskId = opts.taskId;
  let fileBroken = false;
  const writeStderr =
    opts.writeStderr ??
    ((line: string) => {
      try {
        process.stderr.write(line);
      } catch {
        // stderr gone: nothing sensible left to do with a log line
      }
    });
  const now = opts.now ?? (() => new Date());

  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[level] < min) return;
    const record: Record<string, unknown> = { ts: now().toISOString(), level, msg, task_id: taskId ?? null };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined && !(k in record)) record[k] = v;
      }
    }
    let line: string;
    try {
      line = scrub(JSON.stringify(record)) + '\n';
    } catch {
      line = JSON.stringify({ ts: record.ts, level, msg: scrub(msg), task_id: taskId ?? null }) + '\n';
    }
    writeStderr(line);
    if (opts.file && !fileBroken) {
      try {
        appendFileSync(opts.file, line);
      } catch {
        fileBroken = true; // read-only /tmp or similar: the stderr copy still reaches the host
      }
    }
  };

  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    setTaskId: (id) => {
      taskId = id;
    },
  };
}
