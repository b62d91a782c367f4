/**
 * Interfaces the core depends on. Adapters, store and log implement them;
 * the CLI and daemon wire them together (see src/cli/context.ts).
 */

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields (source, task_id, sandbox, route, gateway) to every record. */
  child(fields: LogFields): Logger;
}

export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger;
  },
};

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
