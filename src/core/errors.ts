/**
 * The one error type Logos throws. Core and adapters throw it; only the CLI
 * entry renders it and turns it into an exit code (see EXIT_CODES).
 */

export type ReasonCode =
  // usage and input
  | 'USAGE'
  | 'INVALID_ARGUMENT'
  | 'INVALID_NAME'
  | 'TASK_TOO_LARGE'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'IN_USE'
  | 'NO_DEFAULT_ROUTE'
  | 'NO_TTY'
  // local state
  | 'STATE_CORRUPT'
  | 'STATE_LOCKED'
  | 'PATH_NOT_WRITABLE'
  | 'DISK_FULL'
  | 'PERMISSION_NOT_600'
  | 'NO_CREDENTIAL'
  // environment / dependencies
  | 'BWRAP_MISSING'
  | 'BWRAP_FAILED'
  | 'OPENSHELL_MISSING'
  | 'OPENSHELL_TOO_OLD'
  | 'OPENSHELL_UNSUPPORTED'
  | 'OPENSHELL_FAILED'
  | 'DOCKER_MISSING'
  | 'DOCKER_NOT_RUNNING'
  | 'DOCKER_FAILED'
  | 'PORT_IN_USE'
  | 'IMAGE_MISSING'
  | 'INSUFFICIENT_RESOURCES'
  | 'GATEWAY_UNREACHABLE'
  | 'GATEWAY_START_FAILED'
  | 'ROUTE_NOT_READY'
  | 'DAEMON_NOT_RUNNING'
  | 'DAEMON_UNAVAILABLE'
  // dispatch
  | 'SANDBOX_UNAVAILABLE'
  | 'SANDBOX_DISCONNECTED'
  | 'WORKER_EXIT_WITHOUT_RESULT'
  | 'TASK_TIMEOUT'
  | 'CANCELLED'
  // upstream model errors reported by the worker
  | 'AUTH'
  | 'RATE_LIMIT'
  | 'MODEL_NOT_FOUND'
  | 'CONTEXT_OVERFLOW'
  | 'UPSTREAM_5XX'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'
  | 'NO_MODEL'
  // the agent's tool loop used up its model calls (`--max-steps`)
  | 'MAX_STEPS'
  | 'INTERNAL';

/** Stable exit codes. Documented in README.md ("Exit codes"); changing one is a breaking change. */
export const EXIT_CODES = {
  OK: 0,
  FAILURE: 1, // generic failure (upstream model error, failed command)
  USAGE: 2, // bad arguments or input
  NOT_FOUND: 3, // a named object does not exist
  CONFLICT: 4, // exists already / in use
  ENVIRONMENT: 5, // a dependency is missing or misconfigured (bwrap, openshell, docker, permissions)
  STATE: 6, // local state is corrupt or locked
  UNAVAILABLE: 7, // sandbox / gateway / worker unavailable or disconnected
  TIMEOUT: 124, // deadline hit (same as timeout(1) and `openshell sandbox exec --timeout`)
  CANCELLED: 130, // interrupted by Ctrl-C / SIGTERM
  INTERNAL: 70, // a bug in Logos
} as const;

const EXIT_BY_CODE: Partial<Record<ReasonCode, number>> = {
  USAGE: EXIT_CODES.USAGE,
  INVALID_ARGUMENT: EXIT_CODES.USAGE,
  INVALID_NAME: EXIT_CODES.USAGE,
  TASK_TOO_LARGE: EXIT_CODES.USAGE,
  NO_TTY: EXIT_CODES.USAGE,
  NOT_FOUND: EXIT_CODES.NOT_FOUND,
  NO_DEFAULT_ROUTE: EXIT_CODES.NOT_FOUND,
  NO_CREDENTIAL: EXIT_CODES.NOT_FOUND,
  ALREADY_EXISTS: EXIT_CODES.CONFLICT,
  IN_USE: EXIT_CODES.CONFLICT,
  PORT_IN_USE: EXIT_CODES.CONFLICT,
  STATE_CORRUPT: EXIT_CODES.STATE,
  STATE_LOCKED: EXIT_CODES.STATE,
  PERMISSION_NOT_600: EXIT_CODES.ENVIRONMENT,
  PATH_NOT_WRITABLE: EXIT_CODES.ENVIRONMENT,
  DISK_FULL: EXIT_CODES.ENVIRONMENT,
  BWRAP_MISSING: EXIT_CODES.ENVIRONMENT,
  BWRAP_FAILED: EXIT_CODES.ENVIRONMENT,
  OPENSHELL_MISSING: EXIT_CODES.ENVIRONMENT,
  OPENSHELL_TOO_OLD: EXIT_CODES.ENVIRONMENT,
  OPENSHELL_UNSUPPORTED: EXIT_CODES.ENVIRONMENT,
  IMAGE_MISSING: EXIT_CODES.ENVIRONMENT,
  INSUFFICIENT_RESOURCES: EXIT_CODES.ENVIRONMENT,
  DOCKER_MISSING: EXIT_CODES.ENVIRONMENT,
  DOCKER_NOT_RUNNING: EXIT_CODES.ENVIRONMENT,
  SANDBOX_UNAVAILABLE: EXIT_CODES.UNAVAILABLE,
  SANDBOX_DISCONNECTED: EXIT_CODES.UNAVAILABLE,
  WORKER_EXIT_WITHOUT_RESULT: EXIT_CODES.UNAVAILABLE,
  GATEWAY_UNREACHABLE: EXIT_CODES.UNAVAILABLE,
  GATEWAY_START_FAILED: EXIT_CODES.UNAVAILABLE,
  ROUTE_NOT_READY: EXIT_CODES.UNAVAILABLE,
  DAEMON_NOT_RUNNING: EXIT_CODES.NOT_FOUND,
  DAEMON_UNAVAILABLE: EXIT_CODES.UNAVAILABLE,
  TASK_TIMEOUT: EXIT_CODES.TIMEOUT,
  TIMEOUT: EXIT_CODES.TIMEOUT,
  CANCELLED: EXIT_CODES.CANCELLED,
  INTERNAL: EXIT_CODES.INTERNAL,
};

export function exitCodeFor(code: string): number {
  return Object.hasOwn(EXIT_BY_CODE, code) ? (EXIT_BY_CODE[code as ReasonCode] ?? EXIT_CODES.FAILURE) : EXIT_CODES.FAILURE;
}

export interface LogosErrorInit {
  hint?: string | undefined;
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

export class LogosError extends Error {
  readonly code: ReasonCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ReasonCode, message: string, init: LogosErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'LogosError';
    this.code = code;
    this.hint = init.hint;
    this.details = init.details ?? {};
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }

  toJSON(): { code: ReasonCode; message: string; hint?: string; details?: Record<string, unknown> } {
    const out: { code: ReasonCode; message: string; hint?: string; details?: Record<string, unknown> } = {
      code: this.code,
      message: this.message,
    };
    if (this.hint) out.hint = this.hint;
    if (Object.keys(this.details).length > 0) out.details = this.details;
    return out;
  }
}

export function isLogosError(err: unknown): err is LogosError {
  return err instanceof LogosError;
}

/**
 * A filesystem refusal on one of Logos' own paths (state, log, config) is the
 * environment, not a bug: say which path and what to do.
 */
function fromErrno(err: unknown): LogosError | undefined {
  const e = err as (NodeJS.ErrnoException & { dest?: unknown }) | undefined;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return undefined;
  const path = typeof e.path === 'string' ? e.path : typeof e.dest === 'string' ? e.dest : undefined;
  const where = path ? ` ${path}` : '';
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return new LogosError('PATH_NOT_WRITABLE', `Permission denied on${where || ' a file Logos needs'} (${e.syscall ?? 'access'}).`, {
        hint: `Logos needs to read and write its config, state and log directories (\`logos debug path\` lists them). Fix the owner or mode${path ? ` of ${path}` : ''}, or set LOGOS_HOME to a directory you own.`,
        details: { path, errno: e.code },
        cause: err,
      });
    case 'EROFS':
      return new LogosError('PATH_NOT_WRITABLE', `${path ?? 'A path Logos writes'} is on a read-only file system.`, {
        hint: 'Set LOGOS_HOME (or XDG_STATE_HOME / XDG_CONFIG_HOME) to a writable directory.',
        details: { path, errno: e.code },
        cause: err,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new LogosError('DISK_FULL', `No space left to write${where || ' a file'}.`, {
        hint: 'Free some disk space (`df -h`), or set LOGOS_HOME to a disk with room. Nothing already stored was changed.',
        details: { path, errno: e.code },
        cause: err,
      });
    default:
      return undefined;
  }
}

/** Wrap anything thrown into a LogosError (unknown errors become INTERNAL). */
export function toLogosError(err: unknown): LogosError {
  if (err instanceof LogosError) return err;
  const fs = fromErrno(err);
  if (fs) return fs;
  const message = err instanceof Error ? err.message : String(err);
  return new LogosError('INTERNAL', message, {
    hint: 'This is a bug in Logos. Run with LOGOS_LOG_LEVEL=debug and look at the log (`logos debug path`).',
    cause: err,
  });
}
