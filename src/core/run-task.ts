import type { Clock, Logger } from './context.js';
import { checkTaskSize, dispatchTask, type DispatchOutcome } from './dispatch.js';
import { LogosError } from './errors.js';
import { newTaskId, sandboxNameForRoute } from './names.js';
import type { Records } from './ports.js';
import type { ChatMessage, Frame, TaskInput } from './protocol.js';
import { resolveRoute, type RouteRecord, type RoutesFile } from './routes.js';
import type { RunRecord, RunStore } from './runs.js';
import { createSandbox, type DriverKind, type SandboxDriver, type SandboxesFile, type SandboxRecord } from './sandboxes.js';
import { own } from './records.js';

/** The `logos run` use case: pick sandbox and route, record the run, dispatch, record the outcome. */

export interface RunTaskContext {
  routes: Records<RoutesFile>;
  sandboxes: Records<SandboxesFile>;
  runs: RunStore;
  clock: Clock;
  logger: Logger;
  driver: (kind: DriverKind) => SandboxDriver;
  /** The driver for a sandbox created on demand for this route. */
  defaultDriver: (route: RouteRecord) => DriverKind;
  hostPid: number;
  /**
   * Runs before every dispatch, e.g. LM Studio ensure-loaded or re-syncing a
   * gateway route's credential. Throwing fails the run (it is recorded).
   */
  beforeDispatch?: (route: RouteRecord, sandbox: SandboxRecord, signal?: AbortSignal) => Promise<void>;
}

export interface RunTaskInput {
  message: string;
  system?: string;
  sandbox?: string;
  route?: string;
  timeoutMs: number;
  params?: TaskInput['params'];
  signal?: AbortSignal;
  /** See DispatchInput.onFrame: a returned promise pauses the worker's output until it settles. */
  onFrame?: (frame: Frame, line: string) => void | Promise<void>;
  /** Called once the run is recorded, before the worker starts. */
  onStart?: (run: RunRecord) => void;
  /** Progress worth showing a person (e.g. a sandbox being created on first use). */
  onProgress?: (message: string) => void;
}

export interface RunTaskResult {
  run: RunRecord;
  outcome: DispatchOutcome;
}

/**
 * Without --sandbox, a task goes to the sandbox named after its route (the
 * default route unless --route is given), created on first use.
 */
async function pickSandbox(ctx: RunTaskContext, input: RunTaskInput): Promise<{ sandbox: SandboxRecord; route: RouteRecord }> {
  const file = await ctx.sandboxes.read();
  if (input.sandbox) {
    const sb = own(file.sandboxes, input.sandbox);
    if (!sb) {
      throw new LogosError('NOT_FOUND', `No sandbox named '${input.sandbox}'.`, {
        hint: `Create it with \`logos sandbox create ${input.sandbox}\`, or leave out --sandbox to use the route's own sandbox.`,
      });
    }
    // --route may name the route or give its provider/model: compare the route it resolves to.
    const asked = input.route ? (await resolveRoute(ctx, input.route)).name : undefined;
    if (asked && asked !== sb.route) {
      throw new LogosError('INVALID_ARGUMENT', `Sandbox '${sb.name}' is bound to route '${sb.route}', not '${input.route}'.`, {
        hint: 'A sandbox keeps its model route for life. Leave out --route, or use a sandbox created with that route.',
      });
    }
    const route = await resolveRoute(ctx, sb.route);
    return { sandbox: sb, route };
  }
  const route = await resolveRoute(ctx, input.route);
  const driver = ctx.defaultDriver(route);
  // OpenShell takes names of at most 19 characters: a longer route name gets a short stable one.
  const name = sandboxNameForRoute(route.name, driver);
  const existing = own(file.sandboxes, name);
  if (existing && existing.route === route.name) return { sandbox: existing, route };
  if (existing) {
    throw new LogosError('IN_USE', `The sandbox '${name}' exists but is bound to route '${existing.route}'.`, {
      hint: 'Pass --sandbox explicitly.',
    });
  }
  input.onProgress?.(
    `Creating sandbox '${name}' for route ${route.name} (${driver === 'openshell' ? `on gateway ${route.gateway}` : 'local'}, first use)`,
  );
  const sandbox = await createSandbox(ctx, { name, driver, route });
  return { sandbox, route };
}

export async function runTask(ctx: RunTaskContext, input: RunTaskInput): Promise<RunTaskResult> {
  if (!input.message.trim()) {
    throw new LogosError('USAGE', 'The message is empty.', {
      hint: 'Pass it as an argument (`logos run "Summarise README.md"`), with --file, or on stdin.',
    });
  }
  const messages: ChatMessage[] = [];
  if (input.system) messages.push({ role: 'system', content: input.system });
  messages.push({ role: 'user', content: input.message });
  // A task that cannot fit is refused before anything is created or recorded.
  checkTaskSize(messages);
  const { sandbox, route } = await pickSandbox(ctx, input);

  const id = newTaskId(ctx.clock.now());
  const run: RunRecord = {
    id,
    sandbox: sandbox.name,
    route: route.name,
    provider: route.provider,
    model: route.model,
    driver: sandbox.driver,
    status: 'running',
    started_at: ctx.clock.now().toISOString(),
    prompt_preview: input.message.slice(0, 120),
    host_pid: ctx.hostPid,
  };
  await ctx.runs.save(run);
  input.onStart?.(run);
  ctx.logger.info('run started', { task_id: id, sandbox: sandbox.name, route: route.name, driver: sandbox.driver });

  let outcome: DispatchOutcome;
  try {
    await ctx.beforeDispatch?.(route, sandbox, input.signal);
    if (input.signal?.aborted) throw new LogosError('CANCELLED', 'The run was cancelled before the worker started.');
    outcome = await dispatchTask(
      { clock: ctx.clock, logger: ctx.logger, driver: ctx.driver(sandbox.driver) },
      {
        taskId: id,
        sandbox,
        route,
        messages,
        timeoutMs: input.timeoutMs,
        ...(input.params ? { params: input.params } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.onFrame ? { onFrame: input.onFrame } : {}),
      },
    );
  } catch (err) {
    const e = input.signal?.aborted
      ? new LogosError('CANCELLED', 'The run was cancelled before the worker started.', { cause: err })
      : err instanceof LogosError
        ? err
        : new LogosError('INTERNAL', (err as Error).message, { cause: err });
    run.status = 'error';
    run.ended_at = ctx.clock.now().toISOString();
    run.error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    await ctx.runs.save(run);
    throw e;
  }
  if (outcome.sandboxUpdate) {
    const updated = outcome.sandboxUpdate;
    await ctx.sandboxes.update((file) => {
      if (own(file.sandboxes, updated.name)) file.sandboxes[updated.name] = updated;
    });
  }
  run.status = outcome.status;
  run.ended_at = ctx.clock.now().toISOString();
  run.duration_ms = outcome.durationMs;
  run.exit_code = outcome.exitCode;
  run.response_chars = outcome.responseChars;
  if (outcome.usage) run.usage = outcome.usage;
  if (outcome.error) {
    run.error = { code: outcome.error.code, message: outcome.error.message, ...(outcome.error.hint ? { hint: outcome.error.hint } : {}) };
  }
  await ctx.runs.save(run);
  return { run, outcome };
}
