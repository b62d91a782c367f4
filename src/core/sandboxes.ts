import type { Clock, Logger } from './context.js';
import { LogosError } from './errors.js';
import { validateSandboxName } from './names.js';
import type { Records } from './ports.js';
import type { ToolName } from './protocol.js';
import type { RouteRecord } from './routes.js';
import { own } from './records.js';

export type DriverKind = 'local' | 'openshell';

export interface SandboxRecord {
  name: string;
  driver: DriverKind;
  /** The model route, fixed for the sandbox's life. */
  route: string;
  created_at: string;
  /** Local driver: the sandbox's writable directory (mounted at /sandbox). */
  dir?: string;
  gateway?: string;
  workspace?: string;
  /** OpenShell: sha256 of the worker bundle uploaded into the sandbox. */
  worker_sha?: string;
  /**
   * The built-in tools tasks here get unless `run --tools/--no-tools` says otherwise
   * (`[]`: none). Absent (records made before tools existed): all of them.
   */
  tools?: string[];
  /** OpenShell: the release line it was created on (0.0.x sandboxes must be recreated on 0.1.x). Absent: 0.0. */
  os_line?: '0.0' | '0.1';
  /** OpenShell: the image it was created from. */
  image?: string;
}

export interface SandboxesFile {
  version: 1;
  sandboxes: Record<string, SandboxRecord>;
}

export const emptySandboxes = (): SandboxesFile => ({ version: 1, sandboxes: {} });

/** What a sandbox reports about itself; "ready" means measured, not "a record exists". */
export interface SandboxStatus {
  phase: 'Ready' | 'Provisioning' | 'Error' | 'Missing' | 'Unknown';
  detail?: string;
}

/** Callbacks for a worker's output, line by line. */
export interface OutputHandlers {
  onStdoutLine: (line: string) => void;
  onOversizedLine: (bytes: number) => void;
  onStderrLine: (line: string) => void;
  /** Called when the worker's stdout closes (the process may still be running). */
  onStdoutEnd?: () => void;
}

export interface ExecRequest extends OutputHandlers {
  /** The task's id (the `task_id` inside taskJson). */
  taskId: string;
  taskJson: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The sandbox this driver started ahead of the task (SandboxDriver.warm), if any. */
  warm?: WarmStart;
}

/** A sandbox started ahead of its task (see SandboxDriver.warm). */
export interface WarmStart {
  /** Stop it if no exec took it over (the run ended before its task was sent); safe to call always. */
  discard(): void;
}

export interface WarmOptions {
  taskId: string;
  /** The task's deadline, counted from now. */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * What chose the sandbox on the command line (`logos run`): a driver that can start the
   * next such run's sandbox before the CLI loads keeps how it started this one under it.
   */
  plan?: string;
}

export interface ExecOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  stderrTail: string;
  durationMs: number;
  /** The sandbox could not be started at all (driver error). */
  startError?: LogosError;
}

export interface RunningExec {
  outcome: Promise<ExecOutcome>;
  /** Kill the worker and everything it started. */
  kill(): void;
  /**
   * The worker delivered its final result: stop serving it (e.g. close the
   * inference proxy), so a worker that lingers can make no more model calls.
   */
  resultReceived?(): void;
  /** Stop reading the worker's output for now (the reader is slow); resumeOutput continues. */
  pauseOutput?(): void;
  resumeOutput?(): void;
  /** The driver changed the sandbox (e.g. uploaded a newer worker): the record to save. */
  updatedRecord?: SandboxRecord;
}

/** The fields of a finished process that make an ExecOutcome. */
export function outcomeOf(r: Omit<ExecOutcome, 'startError'>): ExecOutcome {
  return { exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, cancelled: r.cancelled, stderrTail: r.stderrTail, durationMs: r.durationMs };
}

/** An exec that never started: the driver's reason, reported like any other outcome. */
export function failedExec(err: LogosError): RunningExec {
  return {
    outcome: Promise.resolve({ exitCode: null, signal: null, timedOut: false, cancelled: false, stderrTail: '', durationMs: 0, startError: err }),
    kill() {},
  };
}

export interface SandboxDriver {
  readonly kind: DriverKind;
  /** Where the worker finds the model inside this kind of sandbox. */
  readonly inferenceBaseUrl: string;
  /** Check the driver can work here (binaries present); throws with an install hint. */
  preflight(): Promise<void>;
  create(rec: SandboxRecord, route: RouteRecord): Promise<SandboxRecord>;
  remove(rec: SandboxRecord): Promise<void>;
  status(rec: SandboxRecord): Promise<SandboxStatus>;
  exec(rec: SandboxRecord, route: RouteRecord, req: ExecRequest): Promise<RunningExec>;
  /**
   * Start the sandbox of a task before the task is ready (the local driver starts bubblewrap
   * and the worker, which waits for its task on stdin), so that the host's own preparation
   * overlaps the sandbox's start; `exec` with `req.warm` takes it over. Undefined when it
   * cannot start now: `exec` then starts it and reports why it could not.
   */
  warm?(rec: SandboxRecord, route: RouteRecord, opts: WarmOptions): Promise<WarmStart | undefined>;
  /** The last lines of the worker log kept inside the sandbox. */
  logs(rec: SandboxRecord, lines: number): Promise<string[]>;
  /**
   * Copy the host file `localFile` (a regular file) to /sandbox/<rel>, creating the
   * directories on the way and replacing a regular file there. Never follows a link
   * the sandbox planted.
   */
  putFile(rec: SandboxRecord, localFile: string, rel: string): Promise<{ bytes: number }>;
  /**
   * Copy /sandbox/<rel> (a regular file, at most maxBytes) to the host file
   * `localFile`, which is replaced only once the whole file arrived.
   */
  getFile(rec: SandboxRecord, rel: string, localFile: string, maxBytes: number): Promise<{ bytes: number }>;
}

export interface SandboxContext {
  sandboxes: Records<SandboxesFile>;
  clock: Clock;
  logger: Logger;
  driver: (kind: DriverKind) => SandboxDriver;
}

function notFound(name: string, known: string[]): LogosError {
  return new LogosError('NOT_FOUND', `No sandbox named '${name}'.`, {
    hint: known.length > 0 ? `Known sandboxes: ${known.join(', ')}. See \`logos sandbox list\`.` : 'Create one with `logos sandbox create <name>`.',
  });
}

export async function createSandbox(
  ctx: SandboxContext,
  input: { name: string; driver: DriverKind; route: RouteRecord; tools?: ToolName[] },
): Promise<SandboxRecord> {
  const name = validateSandboxName(input.name, input.driver);
  const driver = ctx.driver(input.driver);
  await driver.preflight();
  const existing = own((await ctx.sandboxes.read()).sandboxes, name);
  if (existing) {
    throw new LogosError('ALREADY_EXISTS', `A sandbox named '${name}' already exists (route ${existing.route}).`, {
      hint: `Use it with \`logos run --sandbox ${name} …\`, or delete it first: \`logos sandbox delete ${name}\`.`,
    });
  }
  const draft: SandboxRecord = { name, driver: input.driver, route: input.route.name, created_at: ctx.clock.now().toISOString() };
  if (input.tools) draft.tools = [...input.tools];
  const rec = await driver.create(draft, input.route);
  // Register locally only once the driver says it exists.
  try {
    await ctx.sandboxes.update((file) => {
      if (own(file.sandboxes, name)) {
        throw new LogosError('ALREADY_EXISTS', `A sandbox named '${name}' was created by another process meanwhile.`, {
          hint: `See it with \`logos sandbox show ${name}\`.`,
        });
      }
      file.sandboxes[name] = rec;
    });
  } catch (err) {
    await driver.remove(rec).catch(() => {});
    throw err;
  }
  ctx.logger.info('sandbox created', { sandbox: name, route: rec.route, driver: rec.driver });
  return rec;
}

export async function listSandboxes(ctx: Pick<SandboxContext, 'sandboxes'>): Promise<SandboxRecord[]> {
  const file = await ctx.sandboxes.read();
  return Object.values(file.sandboxes).sort((a, b) => a.name.localeCompare(b.name));
}

export async function getSandbox(ctx: Pick<SandboxContext, 'sandboxes'>, name: string): Promise<SandboxRecord> {
  const file = await ctx.sandboxes.read();
  const s = own(file.sandboxes, name);
  if (!s) throw notFound(name, Object.keys(file.sandboxes));
  return s;
}

export async function deleteSandbox(ctx: SandboxContext, name: string): Promise<SandboxRecord> {
  const rec = await getSandbox(ctx, name);
  await ctx.driver(rec.driver).remove(rec);
  await ctx.sandboxes.update((file) => {
    delete file.sandboxes[name];
  });
  ctx.logger.info('sandbox deleted', { sandbox: name });
  return rec;
}

export async function sandboxesUsingRoute(ctx: Pick<SandboxContext, 'sandboxes'>, route: string): Promise<string[]> {
  return (await listSandboxes(ctx)).filter((s) => s.route === route).map((s) => s.name);
}
