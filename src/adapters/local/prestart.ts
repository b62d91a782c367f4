import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setOwnerHome } from '../exec/owner.js';
import { childEnv, killGroup, spawnChild, type SpawnedChild } from '../exec/runner.js';
import { SOCKET_NAME } from './bwrap-args.js';

/**
 * A run's sandbox started before the CLI has loaded.
 *
 * `logos run` spends ~50 ms loading and parsing before it knows which sandbox to start,
 * and the worker then needs ~80 ms of its own to start in it: the two wait on each other.
 * So every local run writes down how its sandbox was started (the plan, in the runtime
 * directory: bubblewrap's path, arguments, environment and option data, with the task's
 * directory left open), keyed by what chose the sandbox on the command line (`--sandbox`,
 * `--route` or neither). The next `logos run` with the same choice has the launcher start
 * that plan at once, with a new task directory (`prestart`, from bin/logos.js, before the
 * CLI bundle loads); the worker waits for its task on stdin as usual.
 *
 * Nothing is trusted: when the local driver starts the sandbox (startWorker), it builds
 * the start as always and takes the early one only when program, arguments, environment
 * and option data are byte for byte the same; otherwise it stops it and starts its own
 * (a sandbox deleted or changed, another config, a new Logos). One not taken within
 * ADOPT_WITHIN_MS, or by the time the process exits, is stopped and its directory removed
 * (a command that failed before its task, another driver, `--help`). The plan is read only
 * when it is a regular file of this user that nobody else can write. `LOGOS_PRESTART=0`
 * turns it off (cli/prestart-entry.ts).
 */

export const PLAN_FILE = 'prestart.json';
/** Stands for the task directory in a plan's option data (never part of a real path). */
export const TASK_DIR_MARK = '\u0001task-dir\u0001';
const MAX_PLAN_BYTES = 64 * 1024;
export const ADOPT_WITHIN_MS = 3000;
const SLOT = Symbol.for('logos.prestart');

export interface PrestartPlan {
  v: 1;
  /** What chose the sandbox (see runSelector). */
  selector: string;
  file: string;
  args: string[];
  /** The child's environment, without the owner tag (each process adds its own). */
  env: Record<string, string>;
  /** Data for file descriptors 3, 4, …, with TASK_DIR_MARK for the task directory. */
  fds: string[];
}

export interface Prestarted extends SpawnedChild {
  file: string;
  args: string[];
  /** The environment it got, the owner tag included. */
  env: Record<string, string | undefined>;
  fds: string[];
  /** Its task directory (in the runtime directory). */
  dir: string;
  state: 'waiting' | 'taken' | 'discarded';
}

/** Options of `logos run` that take a value (skipped when looking for the sandbox's choice). */
const VALUE_OPTIONS = new Set(['--persona', '--system', '--tools', '--max-steps', '-t', '--timeout', '--max-tokens', '--temperature', '-f', '--file', '-a', '--attach']);

/** The key of a run's sandbox choice; the `run` command and runSelector must agree. */
export function selectorOf(choice: { sandbox?: string | undefined; route?: string | undefined }): string {
  if (choice.sandbox !== undefined) return `sandbox:${choice.sandbox}`;
  if (choice.route !== undefined) return `route:${choice.route}`;
  return 'default';
}

/**
 * The selector of a `logos run` command line (arguments after the program), or undefined
 * when the sandbox cannot be told from it or none would be started here (`--daemon`,
 * `--session`, help). A wrong guess only costs a sandbox started and stopped.
 */
export function runSelector(args: string[]): string | undefined {
  let i = 0;
  while (args[i] === '--json') i++;
  if (args[i] !== 'run') return undefined;
  let sandbox: string | undefined;
  let route: string | undefined;
  for (let j = i + 1; j < args.length; j++) {
    const a = args[j] as string;
    if (a === '--') break;
    if (a === '--daemon' || a === '--session' || a.startsWith('--session=') || a === '-h' || a === '--help') return undefined;
    if (a === '-s' || a === '--sandbox') sandbox = args[++j];
    else if (a.startsWith('--sandbox=')) sandbox = a.slice('--sandbox='.length);
    else if (a === '-r' || a === '--route') route = args[++j];
    else if (a.startsWith('--route=')) route = a.slice('--route='.length);
    else if (VALUE_OPTIONS.has(a)) j++;
  }
  return selectorOf({ sandbox, route });
}

function isPlan(v: unknown): v is PrestartPlan {
  const o = v as PrestartPlan;
  const strings = (a: unknown): boolean => Array.isArray(a) && a.every((x) => typeof x === 'string');
  return (
    typeof o === 'object' &&
    o !== null &&
    o.v === 1 &&
    typeof o.selector === 'string' &&
    typeof o.file === 'string' &&
    o.file.startsWith('/') &&
    strings(o.args) &&
    strings(o.fds) &&
    typeof o.env === 'object' &&
    o.env !== null &&
    Object.values(o.env).every((x) => typeof x === 'string')
  );
}

/** The plan in `file` when it is this user's own regular file, unwritable by others, and well formed. */
export function readPlan(file: string): PrestartPlan | undefined {
  let fd: number | undefined;
  try {
    // Opened without following a link and without waiting on a FIFO; checked on the descriptor read.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_PLAN_BYTES || (st.mode & 0o022) !== 0) return undefined;
    if (process.getuid && st.uid !== process.getuid()) return undefined;
    const plan: unknown = JSON.parse(readFileSync(fd, 'utf8'));
    return isPlan(plan) ? plan : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write the plan (0600, atomically) unless the file already says the same. Never throws. */
export function writePlan(runtimeDir: string, plan: PrestartPlan): void {
  const file = join(runtimeDir, PLAN_FILE);
  const text = `${JSON.stringify(plan)}\n`;
  try {
    if (readFileSync(file, 'utf8') === text) return;
  } catch {
    // none yet
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

function slot(): { current?: Prestarted } {
  const g = globalThis as unknown as Record<symbol, { current?: Prestarted }>;
  return (g[SLOT] ??= {});
}

/**
 * From the launcher, before the CLI loads (cli/prestart-entry.ts): start the plan for this
 * command line, if there is one for its selector. Never throws and never prints: the CLI
 * does the real work.
 */
export function prestart(args: string[], paths: { runtime: string; state: string }): void {
  try {
    const selector = runSelector(args);
    if (selector === undefined) return;
    const plan = readPlan(join(paths.runtime, PLAN_FILE));
    if (!plan || plan.selector !== selector) return;
    const dir = join(paths.runtime, `task-${process.pid}-prestart`);
    if (Buffer.byteLength(join(dir, SOCKET_NAME)) >= 100) return;
    mkdirSync(dir, { mode: 0o700 });
    setOwnerHome(paths.state);
    const childEnvironment = childEnv({ env: plan.env });
    const fds = plan.fds.map((f) => f.split(TASK_DIR_MARK).join(dir));
    let spawned: SpawnedChild;
    try {
      spawned = spawnChild(plan.file, plan.args, { deferInput: true, extendEnv: false, inputFds: fds.map((f) => Buffer.from(f)) }, childEnvironment);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const pre: Prestarted = { ...spawned, file: plan.file, args: plan.args, env: childEnvironment, fds, dir, state: 'waiting' };
    // Until taken it must not keep the process alive: a command that fails first exits at once.
    holdOpen(pre, false);
    slot().current = pre;
    const unclaimed = (): void => {
      if (pre.state === 'waiting') stop(pre);
    };
    process.once('exit', unclaimed);
    setTimeout(unclaimed, ADOPT_WITHIN_MS).unref();
  } catch {
    // the CLI starts its sandbox as usual
  }
}

/** Whether the child and its pipes keep the event loop (and so the process) alive. */
function holdOpen(pre: Prestarted, hold: boolean): void {
  const { child } = pre;
  for (const h of [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void } | null>) {
    if (hold) h?.ref?.();
    else h?.unref?.();
  }
}

/** Stop an early sandbox and remove its directory (synchronously: also runs at exit). */
function stop(pre: Prestarted): void {
  pre.state = 'discarded';
  if (pre.child.pid !== undefined) killGroup(pre.child.pid, 'SIGKILL');
  rmSync(pre.dir, { recursive: true, force: true });
}

/**
 * For the local driver: the sandbox started early, if one is waiting; it is the caller's
 * from now on (to adopt, or to stop with discardPrestarted).
 */
export function takePrestarted(): Prestarted | undefined {
  const pre = slot().current;
  if (!pre || pre.state !== 'waiting') return undefined;
  pre.state = 'taken';
  holdOpen(pre, true);
  slot().current = undefined;
  return pre;
}

/** Stop one taken but not adopted. */
export function discardPrestarted(pre: Prestarted): void {
  stop(pre);
}

/** Whether the early sandbox is exactly the one the driver would start now. */
export function samePrestart(pre: Prestarted, want: { file: string; args: string[]; env: Record<string, string | undefined>; fds: string[] }): boolean {
  const sameList = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  const envKeys = Object.keys(want.env);
  return (
    pre.child.pid !== undefined &&
    pre.child.exitCode === null &&
    pre.child.signalCode === null &&
    pre.file === want.file &&
    sameList(pre.args, want.args) &&
    sameList(pre.fds, want.fds) &&
    envKeys.length === Object.keys(pre.env).length &&
    envKeys.every((k) => Object.hasOwn(pre.env, k) && pre.env[k] === want.env[k])
  );
}
