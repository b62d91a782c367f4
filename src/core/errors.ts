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
  | 'PERMISSION_NOT_600'
  | 'NO_CREDENTIAL'
  // environment / dependencies
  | 'BWRAP_MISSING'
  | 'BWRAP_FAILED'
  | 'OPENSHELL_MISSING'
  | 'OPENSHELL_TOO_OLD'
  | 'OPENSHELL_FAILED'
  | 'DOCKER_MISSING'
  | 'DOCKER_NOT_RUNNING'
  | 'DOCKER_FAILED'
  | 'PORT_IN_USE'
  | 'GATEWAY_UNREACHABLE'
  | 'GATEWAY_START_FAILED'
  | 'ROUTE_NOT_READY'
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
  BWRAP_MISSING: EXIT_CODES.ENVIRONMENT,
  BWRAP_FAILED: EXIT_CODES.ENVIRONMENT,
  OPENSHELL_MISSING: EXIT_CODES.ENVIRONMENT,
  OPENSHELL_TOO_OLD: EXIT_CODES.ENVIRONMENT,
  DOCKER_MISSING: EXIT_CODES.ENVIRONMENT,
  DOCKER_NOT_RUNNING: EXIT_CODES.ENVIRONMENT,
  SANDBOX_UNAVAILABLE: EXIT_CODES.UNAVAILABLE,
  SANDBOX_DISCONNECTED: EXIT_CODES.UNAVAILABLE,
  WORKER_EXIT_WITHOUT_RESULT: EXIT_CODES.UNAVAILABLE,
  GATEWAY_UNREACHABLE: EXIT_CODES.UNAVAILABLE,
  GATEWAY_START_FAILED: EXIT_CODES.UNAVAILABLE,
  ROUTE_NOT_READY: EXIT_CODES.UNAVAILABLE,
  TASK_TIMEOUT: EXIT_CODES.TIMEOUT,
  TIMEOUT: EXIT_CODES.TIMEOUT,
  CANCELLED: EXIT_CODES.CANCELLED,
  INTERNAL: EXIT_CODES.INTERNAL,
};

export function exitCodeFor(code: string): number {
  return EXIT_BY_CODE[code as ReasonCode] ?? EXIT_CODES.FAILURE;
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

/** Wrap anything thrown into a LogosError (unknown errors become INTERNAL). */
export function toLogosError(err: unknown): LogosError {
  if (err instanceof LogosError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new LogosError('INTERNAL', message, {
    hint: 'This is a bug in Logos. Run with LOGOS_LOG_LEVEL=debug and look at the log (`logos debug path`).',
    cause: err,
  });
}
