import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { execa as ExecaFn } from 'execa';
import type { Logger } from '../../core/context.js';
import { nullLogger } from '../../core/context.js';
import { redactText } from '../../core/redact.js';
import { OWNER_ENV, ownerTag } from './owner.js';

/**
 * The subprocess boundary: the only module that starts processes (and imports execa).
 * - commands run to completion with their output collected (`runProcess`: openshell and
 *   docker queries) go through execa; processes that stream (`spawnProcess`: a task's
 *   sandbox, `openshell sandbox exec`, docker pull and build) start with node:child_process,
 *   because loading execa and its per-process stream plumbing took ~25 ms of every task's
 *   start. Both follow the same contract:
 * - argv arrays only, never a shell string;
 * - stdin is ignored unless the call gives input (a child waiting on an open
 *   stdin would hang forever, e.g. `openshell sandbox exec`);
 * - every child leads its own process group, and timeouts, aborts and our own
 *   exit kill the whole group;
 * - results never reject: they carry exit code, output, timedOut, notFound;
 * - argv and env are redacted before they are logged.
 */

export interface RunOptions {
  /** Data written to stdin, then stdin is closed. Without it stdin is /dev/null. */
  input?: string | Uint8Array;
  /** Data for file descriptors 3, 4, … of the child (each read-only, at the data's start, then end of file). */
  inputFds?: Uint8Array[];
  /** Extra environment (merged over the parent's unless extendEnv is false). Put secrets here, never in argv. */
  env?: Record<string, string | undefined>;
  extendEnv?: boolean;
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL for the process group. */
  killGraceMs?: number;
  logger?: Logger;
}

export interface StreamOptions extends RunOptions {
  /**
   * Keep stdin open for `sendInput` instead of writing `input` at once: the process starts
   * while its input is still being put together (a task's sandbox starts ahead of its task).
   * `timeoutMs` then counts from `sendInput`.
   */
  deferInput?: boolean;
  onStdoutLine?: (line: string) => void;
  /** A stdout line longer than maxLineBytes is dropped; this reports its size. */
  onOversizedLine?: (bytes: number) => void;
  onStderrLine?: (line: string) => void;
  /** stdout reached EOF (the process may still be running). */
  onStdoutEnd?: () => void;
  maxLineBytes?: number;
}

export interface RunResult {
  argv: string[];
  exitCode: number | null;
  /** Signal that ended the process, if any. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** The last few KiB of stderr, for error messages. */
  stderrTail: string;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
  /** The program was not found (ENOENT). */
  notFound: boolean;
  /** Set when the process could not be started for another reason. */
  spawnError?: string;
}

export interface RunningProcess {
  pid: number | undefined;
  result: Promise<RunResult>;
  /** Kill the whole process group (SIGTERM, then SIGKILL after the grace). */
  kill(): void;
  /** Stop reading stdout (the child blocks once the pipe is full); resumeStdout continues. */
  pauseStdout(): void;
  resumeStdout(): void;
  /** With `deferInput`: write the input and close stdin (once; later calls do nothing). */
  sendInput(data: string | Uint8Array): void;
}

const STDERR_TAIL_BYTES = 4096;
const DEFAULT_MAX_LINE = 1024 * 1024;

/** Process groups still alive, killed synchronously if we exit first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  });
}

/** Signal a process group (a child Logos started leads its own), or the process alone if that fails. */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

class LineSplitter {
  private buf = '';
  private dropping = false;
  private droppedBytes = 0;
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly max: number,
    private readonly onOversized?: (bytes: number) => void,
  ) {}
  push(chunk: string): void {
    let text = chunk;
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl === -1) {
        if (this.dropping) {
          this.droppedBytes += Buffer.byteLength(text);
        } else {
          this.buf += text;
          if (Buffer.byteLength(this.buf) > this.max) {
            this.dropping = true;
            this.droppedBytes = Buffer.byteLength(this.buf);
            this.buf = '';
          }
        }
        return;
      }
      const part = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (this.dropping) {
        this.onOversized?.(this.droppedBytes + Buffer.byteLength(part));
        this.dropping = false;
        this.droppedBytes = 0;
      } else {
        let line = this.buf + part;
        if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1); // \r\n
        this.buf = '';
        // Every frame passes here: count its bytes only when its length allows it to be over (UTF-8 ≤ 3 bytes a UTF-16 unit).
        if (line.length * 3 > this.max && Buffer.byteLength(line) > this.max) this.onOversized?.(Buffer.byteLength(line));
        else this.onLine(line);
      }
    }
  }
  end(): void {
    if (this.dropping) this.onOversized?.(this.droppedBytes);
    else if (this.buf.length > 0) this.onLine(this.buf.replace(/\r$/, ''));
    this.buf = '';
    this.dropping = false;
  }
}

type Execa = typeof ExecaFn;
let execaFn: Execa | undefined;
let execaLoading: Promise<Execa> | undefined;

/**
 * execa is loaded on the first collected command, not at start-up: most commands never
 * start a process, and `logos --version` or `logos runs list` should not pay for it.
 */
function loadExeca(): Promise<Execa> {
  return (execaLoading ??= import('execa').then((m) => (execaFn = m.execa)));
}

/** How a child ended, as both ways of starting one report it. */
export interface Ended {
  exitCode: number | null;
  signal: string | null;
  notFound: boolean;
  spawnError?: string;
}

/** A started child: its pid, output streams and end. */
interface Started {
  pid: number | undefined;
  stdout: Readable | null;
  stderr: Readable | null;
  ended: Promise<Ended>;
  /** With `deferInput`: writes the input and closes stdin. */
  sendInput?: (data: string | Uint8Array) => void;
}

type Starter = (file: string, args: string[], opts: StreamOptions, env: Record<string, string | undefined>) => Started;

const startWithExeca =
  (execa: Execa): Starter =>
  (file, args, opts, env) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const child = execa(file, args, {
      input: opts.input,
      ...(opts.inputFds?.length ? { stdio: [stdin, 'pipe', 'pipe', ...opts.inputFds] } : { stdin }),
      env,
      extendEnv: opts.extendEnv ?? true,
      cwd: opts.cwd,
      detached: true, // own process group, so the whole tree can be killed
      buffer: false,
      reject: false,
      encoding: 'utf8',
      stripFinalNewline: false,
      windowsHide: true,
      cleanup: false, // we kill process groups ourselves (exit hook); signal-exit would re-emit signals
    });
    const ended = child.then(
      (r): Ended => {
        const failed = r as unknown as { code?: string; originalMessage?: string; message?: string };
        const notFound = failed.code === 'ENOENT';
        const end: Ended = { exitCode: typeof r.exitCode === 'number' ? r.exitCode : null, signal: r.signal ?? null, notFound };
        if (notFound || (r.failed && r.exitCode === undefined && !r.signal)) end.spawnError = failed.originalMessage ?? failed.message ?? 'could not start';
        return end;
      },
      // reject:false means this should not happen; keep the contract anyway.
      (err: unknown): Ended => ({ exitCode: null, signal: null, notFound: false, spawnError: err instanceof Error ? err.message : String(err) }),
    );
    return { pid: child.pid, stdout: child.stdout, stderr: child.stderr, ended };
  };

/** A child started with node:child_process, its end watched from the start. */
export interface SpawnedChild {
  child: ChildProcess;
  ended: Promise<Ended>;
}

/** The environment a child gets besides the parent's: the caller's, and who started it. */
export function childEnv(opts: Pick<RunOptions, 'env'>): Record<string, string | undefined> {
  // Who started it: a child left behind by a host that died is found by this, never by its name.
  return { ...(opts.env ?? {}), [OWNER_ENV]: ownerTag() };
}

/**
 * Start a child with node:child_process (own process group, pipes, `inputFds` written
 * and closed); its input is left to the caller. Throws when it cannot even be tried.
 * Used by spawnProcess and by the sandbox started before the CLI loads (local/prestart.ts).
 */
export function spawnChild(file: string, args: string[], opts: StreamOptions, env: Record<string, string | undefined>): SpawnedChild {
  const data = opts.inputFds ?? [];
  // A descriptor of a written file when the temp directory allows it, else a pipe written below.
  const extra = data.map((d): number | 'pipe' => dataFd(d) ?? 'pipe');
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      stdio: [opts.input === undefined && !opts.deferInput ? 'ignore' : 'pipe', 'pipe', 'pipe', ...extra],
      env: (opts.extendEnv ?? true) ? { ...process.env, ...env } : env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      detached: true, // own process group, so the whole tree can be killed
      windowsHide: true,
    });
  } finally {
    for (const fd of extra) if (fd !== 'pipe') closeSync(fd); // the child has its own copies
  }
  extra.forEach((fd, i) => {
    if (fd === 'pipe') feed(child.stdio[3 + i], data[i] as Uint8Array);
  });
  const ended = new Promise<Ended>((resolve) => {
    let error: NodeJS.ErrnoException | undefined;
    child.once('error', (err: NodeJS.ErrnoException) => {
      error = err;
      // Never started (e.g. ENOENT): no 'close' is coming.
      if (child.pid === undefined) resolve({ exitCode: null, signal: null, notFound: err.code === 'ENOENT', spawnError: err.message });
    });
    child.once('close', (code, signal) => {
      resolve({ exitCode: code, signal, notFound: false, ...(error && code === null && !signal ? { spawnError: error.message } : {}) });
    });
  });
  return { child, ended };
}

let dataFiles = 0;

/**
 * A read-only descriptor of `data`, at its start, for a child's fd 3+: an unlinked private
 * file, not a pipe. Written and ended here and now: a pipe is closed (its end of file) only
 * when the event loop next runs, and a child that reads to the end (bwrap's `--args`)
 * started before a long synchronous stretch (the sandbox the launcher starts before the CLI
 * loads) would wait for it all that time. Undefined when the temp
 * directory cannot take it (read-only, full, missing): the caller falls back to a pipe.
 */
function dataFd(data: Uint8Array): number | undefined {
  const path = join(tmpdir(), `.logos-fd-${process.pid}-${++dataFiles}-${Math.random().toString(36).slice(2)}`);
  let w: number;
  try {
    w = openSync(path, 'wx', 0o600);
  } catch {
    return undefined;
  }
  try {
    for (let at = 0; at < data.length; ) at += writeSync(w, data, at);
    return openSync(path, 'r');
  } catch {
    return undefined;
  } finally {
    closeSync(w);
    unlinkSync(path);
  }
}

/** Write and close; a child that exits without reading its input must not crash us with EPIPE. */
function feed(stream: unknown, data: string | Uint8Array): void {
  const w = stream as NodeJS.WritableStream & { on(event: 'error', fn: () => void): void };
  w.on('error', () => {});
  w.end(data);
}

/** A spawned child as the runner drives it: its input now, or later with deferInput. */
function started({ child, ended }: SpawnedChild, opts: StreamOptions): Started {
  if (opts.deferInput) {
    let sent = false;
    const sendInput = (data: string | Uint8Array): void => {
      if (sent || !child.stdin) return;
      sent = true;
      feed(child.stdin, data);
    };
    return { pid: child.pid, stdout: child.stdout, stderr: child.stderr, ended, sendInput };
  }
  if (opts.input !== undefined && child.stdin) feed(child.stdin, opts.input);
  return { pid: child.pid, stdout: child.stdout, stderr: child.stderr, ended };
}

/** node:child_process, for processes that stream (see the top of this file). */
const startWithNode: Starter = (file, args, opts, env) => started(spawnChild(file, args, opts, env), opts);

/**
 * Take over a child started earlier by spawnChild (with `deferInput`, as `opts` says):
 * from here it is driven, timed, logged and killed like one spawnProcess started.
 */
export function adoptProcess(spawned: SpawnedChild, file: string, args: string[], opts: StreamOptions): RunningProcess {
  return spawnWith(() => started(spawned, opts), file, args, opts);
}

/**
 * Start a process that streams (see the contract at the top of this file). Returns at once.
 */
export function spawnProcess(file: string, args: string[], opts: StreamOptions = {}): RunningProcess {
  return spawnWith(startWithNode, file, args, opts);
}

/**
 * Start a process through execa: the first call of a process lifetime starts the child
 * once execa has loaded, and a kill or pause asked for before that applies as soon as
 * the child exists.
 */
function spawnWithExeca(file: string, args: string[], opts: StreamOptions): RunningProcess {
  if (execaFn) return spawnWith(startWithExeca(execaFn), file, args, opts);
  let inner: RunningProcess | undefined;
  let killed = false;
  let paused = false;
  const result = loadExeca().then((fn) => {
    inner = spawnWith(startWithExeca(fn), file, args, opts);
    if (killed) inner.kill();
    if (paused) inner.pauseStdout();
    return inner.result;
  });
  return {
    get pid() {
      return inner?.pid;
    },
    result,
    kill() {
      killed = true;
      inner?.kill();
    },
    pauseStdout() {
      paused = true;
      inner?.pauseStdout();
    },
    resumeStdout() {
      paused = false;
      inner?.resumeStdout();
    },
    sendInput() {
      // collected commands get their input up front (deferInput is for spawnProcess)
    },
  };
}

function spawnWith(start: Starter, file: string, args: string[], opts: StreamOptions): RunningProcess {
  const logger = opts.logger ?? nullLogger;
  const argv = [file, ...args];
  const started = Date.now();
  const grace = opts.killGraceMs ?? 2000;
  installExitHook();
  // Logged once started (the first record opens the log file: that waits until the child runs).
  const logStart = (pid: number | undefined): void =>
    logger.debug('exec start', {
      argv: argv.map((a) => redactText(a)),
      env_names: Object.keys(opts.env ?? {}),
      timeout_ms: opts.timeoutMs,
      child_pid: pid,
    });

  let child: Started;
  const stdoutParts: string[] = [];
  let stderrAll = '';
  let timedOut = false;
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;

  const streaming = !!(opts.onStdoutLine || opts.onStderrLine);
  try {
    child = start(file, args, opts, childEnv(opts));
  } catch (err) {
    logStart(undefined);
    const e = err as NodeJS.ErrnoException;
    const result: RunResult = {
      argv,
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '',
      stderrTail: '',
      durationMs: Date.now() - started,
      timedOut: false,
      cancelled: false,
      notFound: e.code === 'ENOENT',
      spawnError: e.message,
    };
    return { pid: undefined, result: Promise.resolve(result), kill() {}, pauseStdout() {}, resumeStdout() {}, sendInput() {} };
  }
  const pid = child.pid;
  if (pid) liveGroups.add(pid);
  logStart(pid);

  const kill = (): void => {
    if (!pid) return;
    const p = pid;
    killGroup(p, 'SIGTERM');
    if (!killTimer) {
      killTimer = setTimeout(() => killGroup(p, 'SIGKILL'), grace);
      killTimer.unref();
    }
  };

  const outSplit = new LineSplitter((l) => opts.onStdoutLine?.(l), opts.maxLineBytes ?? DEFAULT_MAX_LINE, opts.onOversizedLine);
  const errSplit = new LineSplitter((l) => opts.onStderrLine?.(l), opts.maxLineBytes ?? DEFAULT_MAX_LINE);
  // Read stdout and stderr concurrently: a full stderr pipe would block the child.
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    if (streaming) outSplit.push(chunk);
    else stdoutParts.push(chunk);
  });
  child.stdout?.on('end', () => {
    if (streaming) outSplit.end();
    opts.onStdoutEnd?.();
  });
  child.stderr?.on('data', (chunk: string) => {
    stderrAll += chunk;
    if (stderrAll.length > 1024 * 1024) stderrAll = stderrAll.slice(-STDERR_TAIL_BYTES * 4);
    if (streaming) errSplit.push(chunk);
  });

  // The deadline runs from the start, or, with deferInput, from when the input is sent (a
  // sandbox started ahead of its task waits as long as the task takes to be ready).
  const startDeadline = (): void => {
    if (!opts.timeoutMs || opts.timeoutMs <= 0 || timeoutTimer) return;
    timeoutTimer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
  };
  if (!opts.deferInput) startDeadline();
  const onAbort = (): void => {
    cancelled = true;
    kill();
  };
  if (opts.signal) {
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }

  const result = child.ended.then((r) => {
    if (timeoutTimer) clearTimeout(timeoutTimer);
    if (killTimer) clearTimeout(killTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    if (pid) {
      // Make sure nothing of the group is left behind (grandchildren that ignored SIGTERM).
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
    }
    if (streaming) errSplit.end();
    const res: RunResult = {
      argv,
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: stdoutParts.join(''),
      stderr: stderrAll,
      stderrTail: stderrAll.slice(-STDERR_TAIL_BYTES),
      durationMs: Date.now() - started,
      timedOut,
      cancelled,
      notFound: r.notFound,
    };
    if (r.spawnError && (r.notFound || (!timedOut && !cancelled))) res.spawnError = r.spawnError;
    logger.debug('exec end', {
      argv0: file,
      exit_code: res.exitCode,
      signal: res.signal,
      duration_ms: res.durationMs,
      timed_out: timedOut,
      cancelled,
      not_found: r.notFound,
    });
    return res;
  });
  return {
    pid,
    result,
    kill,
    pauseStdout: () => child.stdout?.pause(),
    resumeStdout: () => child.stdout?.resume(),
    sendInput: (data) => {
      child.sendInput?.(data);
      startDeadline();
    },
  };
}

/** Run to completion and collect output. Never rejects. */
export function runProcess(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return spawnWithExeca(file, args, opts).result;
}
