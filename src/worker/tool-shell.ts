/**
 * The `shell` tool: `/bin/sh -c` in the sandbox, in its own process group, so
 * that a timeout, the task deadline or the worker being signalled can kill the
 * command and everything it started (the host's kill reaches only the worker's
 * group). Nothing a command starts outlives it: when the shell exits, what is
 * left in its group is stopped too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { DEFAULT_SHELL_TIMEOUT_S, type ToolContext, type ToolResult } from './tool-defs.js';
import { HeadTail, OutputStreamer } from './tool-output.js';

/** Between SIGTERM and SIGKILL to a process group. */
export const KILL_GRACE_MS = 2000;

export interface ShellRun {
  command: string;
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  onOutput?: ((text: string) => void) | undefined;
  graceMs?: number;
}

export interface ShellOutcome {
  /** null when the shell was killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Stopped because the task was aborted (deadline) or the worker is exiting. */
  cancelled: boolean;
  /** stdout and stderr interleaved, capped to the head and tail with a note. */
  output: string;
  /** Size of the whole output. */
  bytes: number;
  /** The shell could not be started. */
  startError?: string;
}

interface LiveShell {
  pgid: number;
  cancel(graceMs: number): void;
  done: Promise<unknown>;
}

const live = new Set<LiveShell>();

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty
  }
}

/**
 * Something of the group still runs. Zombies do not count: killed processes wait
 * for init to reap them, and waiting for that would only add the grace period.
 */
function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true; // no /proc: assume the worst
  }
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${n}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) === pgid && f[0] !== 'Z') return true;
  }
  return false;
}

/** Commands running now (tests, logs). */
export function runningShells(): number {
  return live.size;
}

/** The worker is being stopped: SIGTERM every command's group, SIGKILL after the grace, wait for them. */
export async function stopAllShells(graceMs = 500): Promise<void> {
  const all = [...live];
  for (const s of all) s.cancel(graceMs);
  await Promise.all(all.map((s) => s.done));
}

/** Last resort at process exit (no time left to wait): SIGKILL every group still known. */
export function killAllShellsNow(): void {
  for (const s of live) signalGroup(s.pgid, 'SIGKILL');
}

export function runShell(run: ShellRun): Promise<ShellOutcome> {
  const grace = run.graceMs ?? KILL_GRACE_MS;
  const capture = new HeadTail();
  const streamer = run.onOutput ? new OutputStreamer(run.onOutput) : undefined;
  let timedOut = false;
  let cancelled = false;

  return new Promise<ShellOutcome>((resolve) => {
    let child: ChildProcess;
    // `exec 2>&1` first: one pipe for both streams keeps them in the order written.
    // (On its own line, so that a syntax error in the command is reported through it.)
    try {
      child = spawn('/bin/sh', ['-c', `exec 2>&1\n${run.command}`], { cwd: run.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ exitCode: null, signal: null, timedOut, cancelled, output: '', bytes: 0, startError: err instanceof Error ? err.message : String(err) });
      return;
    }
    const pgid = child.pid;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let exited = false;
    let closed = false;
    let killed = false;
    let finished = false;
    let stopping = false;
    const timers: NodeJS.Timeout[] = [];
    let settle: () => void = () => undefined;
    const done = new Promise<void>((r) => (settle = r));
    const entry: LiveShell = {
      pgid: pgid ?? -1,
      cancel: (ms) => {
        cancelled = true;
        stop(ms);
      },
      done,
    };

    const onData = (chunk: Buffer): void => {
      capture.add(chunk);
      streamer?.add(chunk);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    const finish = (startError?: string): void => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      run.signal?.removeEventListener('abort', onAbort);
      live.delete(entry);
      streamer?.end();
      const { text } = capture.text();
      const outcome: ShellOutcome = { exitCode, signal: exitSignal, timedOut, cancelled, output: text, bytes: capture.total };
      if (startError !== undefined) outcome.startError = startError;
      settle();
      resolve(outcome);
    };

    const maybeFinish = (): void => {
      if (!closed || !exited || finished) return;
      // Something of the command's may still run (it closed its output, or is still dying from
      // the SIGTERM): look again shortly; the SIGKILL at the end of the grace ends the wait.
      if (pgid !== undefined && !killed && groupAlive(pgid)) {
        timers.push(setTimeout(maybeFinish, 20));
        return;
      }
      finish();
    };

    const kill = (): void => {
      if (pgid === undefined) return;
      killed = true;
      signalGroup(pgid, 'SIGKILL');
      if (closed && exited) finish();
      else {
        // A process that left the group (setsid) still holds the pipe: stop waiting for it.
        timers.push(
          setTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
            finish();
          }, grace),
        );
      }
    };

    /** SIGTERM to the group now, SIGKILL after `ms`. */
    const stop = (ms: number): void => {
      if (pgid === undefined || finished) return;
      if (stopping) {
        if (ms < grace) timers.push(setTimeout(kill, ms)); // a shorter grace (the worker is exiting)
        return;
      }
      stopping = true;
      signalGroup(pgid, 'SIGTERM');
      timers.push(setTimeout(kill, ms));
    };

    function onAbort(): void {
      cancelled = true;
      stop(grace);
    }

    child.on('error', (err) => {
      // Only reached when the shell could not be started (no /bin/sh, cwd missing).
      if (pgid === undefined) finish(err.message);
    });
    child.on('exit', (code, signal) => {
      exited = true;
      exitCode = code;
      exitSignal = signal;
      // Whatever the command left behind in its group goes with it.
      stop(grace);
      maybeFinish();
    });
    child.on('close', () => {
      if (pgid === undefined) return; // never started: 'error' reports it
      closed = true;
      exited = true;
      maybeFinish();
    });

    if (pgid === undefined) return; // 'error' follows
    live.add(entry);
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop(grace);
      }, run.timeoutMs),
    );
    if (run.signal?.aborted) onAbort();
    else run.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The shell tool: arguments already validated. */
export async function shellTool(args: { command: string; timeout_s?: number | undefined }, ctx: ToolContext): Promise<ToolResult> {
  const timeoutMs = (args.timeout_s !== undefined && args.timeout_s > 0 ? args.timeout_s : DEFAULT_SHELL_TIMEOUT_S) * 1000;
  const r = await runShell({ command: args.command, cwd: ctx.cwd, timeoutMs, signal: ctx.signal, onOutput: ctx.onOutput });
  if (r.startError !== undefined) return { ok: false, text: `could not start /bin/sh: ${r.startError}`, exitCode: null };
  let status: string;
  if (r.cancelled) status = '[stopped: the task was cancelled; the command and its processes were killed]';
  else if (r.timedOut) status = `[timed out after ${seconds(timeoutMs)}: the command and its processes were killed; pass timeout_s for a longer limit]`;
  else if (r.exitCode === null) status = `[killed by ${r.signal ?? 'a signal'}]`;
  else status = `[exit code ${r.exitCode}]`;
  const body = r.bytes === 0 ? '(no output)' : r.output;
  const text = `${body}${body.endsWith('\n') ? '' : '\n'}${status}`;
  return { ok: r.exitCode === 0 && !r.timedOut && !r.cancelled, text, exitCode: r.exitCode };
}
