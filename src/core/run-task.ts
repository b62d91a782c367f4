import type { Clock, Logger } from './context.js';
import { checkTaskSize, dispatchTask, TASK_ENVELOPE_BYTES, type DispatchOutcome } from './dispatch.js';
import { LogosError } from './errors.js';
import { newTaskId, sandboxNameForRoute } from './names.js';
import { DEFAULT_PERSONA, loadPersona } from './personas.js';
import type { PersonaSource, Records } from './ports.js';
import { MAX_TASK_BYTES, type ChatMessage, type Frame, type TaskInput, type TaskResultFrame, type ToolName } from './protocol.js';
import { own } from './records.js';
import { resolveRoute, type RouteRecord, type RoutesFile } from './routes.js';
import type { RunRecord, RunStore } from './runs.js';
import { attachmentNote, attachmentTargets, inSandbox } from './sandbox-paths.js';
import { createSandbox, type DriverKind, type SandboxDriver, type SandboxesFile, type SandboxRecord, type WarmStart } from './sandboxes.js';
import {
  addReplies,
  messagesBytes,
  newSession,
  SESSION_HISTORY_BYTES,
  trimHistory,
  TurnRecorder,
  validateSessionName,
  type SessionRecord,
  type SessionStore,
} from './sessions.js';
import { DEFAULT_MAX_STEPS, MAX_STEPS_LIMIT, sandboxTools } from './tools.js';

/**
 * The `logos run` use case (and each turn of `logos chat`): pick sandbox and route,
 * put the task together (system prompt or persona, the session's history, the
 * message, tools and step limit), record the run, put attachments in, dispatch,
 * record the outcome and what the worker said in the session.
 */

export interface RunTaskContext {
  routes: Records<RoutesFile>;
  sandboxes: Records<SandboxesFile>;
  runs: RunStore;
  sessions: SessionStore;
  personas: PersonaSource;
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
  /** A system prompt of the caller's own; wins over `persona`. */
  system?: string;
  /** A persona by name (templates/personas/NAME.md). */
  persona?: string;
  sandbox?: string;
  route?: string;
  /** Continue (or start) this session: its history goes with the task, the run's messages into it. */
  session?: string;
  /** Built-in tools for this task; undefined: the sandbox's default. `[]`: none (a plain chat reply). */
  tools?: ToolName[];
  /** Model calls allowed in the tool loop (1..MAX_STEPS_LIMIT, default DEFAULT_MAX_STEPS). */
  maxSteps?: number;
  /** Host files put into /sandbox/attachments/ before the task; the message says where. */
  attachments?: string[];
  timeoutMs: number;
  params?: TaskInput['params'];
  signal?: AbortSignal;
  /** See DispatchInput.onFrame: a returned promise pauses the worker's output until it settles. */
  onFrame?: (frame: Frame, line: string) => void | Promise<void>;
  /** Called once the run is recorded, before the worker starts. */
  onStart?: (run: RunRecord) => void;
  /** Progress worth showing a person (e.g. a sandbox being created on first use). */
  onProgress?: (message: string) => void;
  /** Something a person should know that is not an error (a session's history trimmed). */
  onWarning?: (message: string) => void;
  /** See WarmOptions.plan (`logos run` only). */
  plan?: string;
}

export interface RunTaskResult {
  run: RunRecord;
  outcome: DispatchOutcome;
  /** The session after the run (with --session). */
  session?: SessionRecord;
}

/**
 * Without --sandbox, a task goes to the sandbox named after its route (the
 * default route unless --route is given), created on first use.
 */
async function pickSandbox(ctx: RunTaskContext, input: Pick<RunTaskInput, 'sandbox' | 'route' | 'onProgress'>): Promise<{ sandbox: SandboxRecord; route: RouteRecord }> {
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

/** A session keeps the sandbox of its first run; another one is a mistake worth stopping. */
function otherSandbox(session: string, has: string, asked: string): LogosError {
  return new LogosError('INVALID_ARGUMENT', `Session '${session}' runs in sandbox '${has}', not '${asked}'.`, {
    hint: `Leave out --sandbox to continue it in '${has}', or start a new session (another --session name) for '${asked}'.`,
    details: { session, sandbox: has },
  });
}

/** The session a run would continue (undefined: it starts with this run); refuses another sandbox. */
export async function openSession(sessions: SessionStore, name: string, sandbox?: string): Promise<SessionRecord | undefined> {
  const s = await sessions.get(validateSessionName(name));
  if (s && sandbox && sandbox !== s.sandbox) throw otherSandbox(s.name, s.sandbox, sandbox);
  return s;
}

export function checkMaxSteps(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_STEPS_LIMIT) {
    throw new LogosError('INVALID_ARGUMENT', `--max-steps must be a whole number from 1 to ${MAX_STEPS_LIMIT}, got '${n}'.`);
  }
  return n;
}

export async function runTask(ctx: RunTaskContext, input: RunTaskInput): Promise<RunTaskResult> {
  if (!input.message.trim()) {
    throw new LogosError('USAGE', 'The message is empty.', {
      hint: 'Pass it as an argument (`logos run "Summarise README.md"`), with --file, or on stdin.',
    });
  }
  // Everything that can be checked is checked before anything is created or recorded.
  const maxSteps = checkMaxSteps(input.maxSteps ?? DEFAULT_MAX_STEPS);
  const sessionName = input.session !== undefined ? validateSessionName(input.session) : undefined;
  const attachments = input.attachments ?? [];
  const attachRels = attachments.length > 0 ? attachmentTargets(attachments) : [];
  const user: ChatMessage = { role: 'user', content: attachRels.length > 0 ? `${input.message}\n\n${attachmentNote(attachRels)}` : input.message };
  const system = input.system ?? (input.persona !== undefined ? await loadPersona(ctx.personas, input.persona) : undefined);
  // A task that cannot fit is refused before anything is created or recorded.
  checkTaskSize(system !== undefined ? [{ role: 'system', content: system }, user] : [user]);

  const existing = sessionName ? await openSession(ctx.sessions, sessionName, input.sandbox) : undefined;
  if (existing && !own((await ctx.sandboxes.read()).sandboxes, existing.sandbox)) {
    throw new LogosError('NOT_FOUND', `Session '${existing.name}' runs in sandbox '${existing.sandbox}', which no longer exists.`, {
      hint: `Recreate it (\`logos sandbox create ${existing.sandbox} --route ${existing.route}\`) or start a new session.`,
    });
  }
  const { sandbox, route } = await pickSandbox(ctx, { ...input, sandbox: input.sandbox ?? existing?.sandbox });
  const id = newTaskId(ctx.clock.now());
  // The sandbox starts now (the local one: bubblewrap and Node) while the task is put together,
  // recorded and its attachments put in; it is stopped if the run ends before its task is sent.
  const driver = ctx.driver(sandbox.driver);
  const warm = await driver.warm?.(sandbox, route, {
    taskId: id,
    timeoutMs: input.timeoutMs,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.plan !== undefined ? { plan: input.plan } : {}),
  });
  try {
    return await runPrepared(ctx, input, { id, sandbox, route, system, user, existing, sessionName, attachments, attachRels, maxSteps, ...(warm ? { warm } : {}) });
  } finally {
    warm?.discard();
  }
}

interface Prepared {
  id: string;
  sandbox: SandboxRecord;
  route: RouteRecord;
  system: string | undefined;
  user: ChatMessage;
  existing: SessionRecord | undefined;
  sessionName: string | undefined;
  attachments: string[];
  attachRels: string[];
  maxSteps: number;
  warm?: WarmStart;
}

async function runPrepared(ctx: RunTaskContext, input: RunTaskInput, p: Prepared): Promise<RunTaskResult> {
  const { id, sandbox, route, user, existing, sessionName, attachments, attachRels, maxSteps } = p;
  let system = p.system;
  const tools = input.tools ?? sandboxTools(sandbox.tools);
  if (system === undefined && tools.length > 0) system = await loadPersona(ctx.personas, DEFAULT_PERSONA);

  // The session's history goes between the system prompt and the new message, within its budget.
  const head: ChatMessage[] = system !== undefined ? [{ role: 'system', content: system }] : [];
  let history: ChatMessage[] = [];
  if (existing && existing.messages.length > 0) {
    const room = MAX_TASK_BYTES - TASK_ENVELOPE_BYTES - messagesBytes([...head, user]);
    const t = trimHistory(existing.messages, Math.min(SESSION_HISTORY_BYTES, room));
    history = t.messages;
    if (t.dropped > 0) input.onWarning?.(`Session '${existing.name}': the oldest ${t.dropped} message(s) were left out so the task fits.`);
  }
  const messages = [...head, ...history, user];
  checkTaskSize(messages);

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
    tools,
    max_steps: maxSteps,
    ...(sessionName ? { session: sessionName } : {}),
    ...(attachRels.length > 0 ? { attachments: attachRels.map(inSandbox) } : {}),
  };
  await ctx.runs.save(run);
  input.onStart?.(run);
  const log = ctx.logger.child({ task_id: id, sandbox: sandbox.name, route: route.name });
  log.info('run started', { driver: sandbox.driver, tools, max_steps: maxSteps, ...(sessionName ? { session: sessionName, history_messages: history.length } : {}) });

  const recorder = new TurnRecorder();
  let sessionStarted = false;
  let session: SessionRecord | undefined;
  /** The run's messages go into the session whatever the outcome (the user's message is in already). */
  const finishSession = async (result?: TaskResultFrame): Promise<void> => {
    if (!sessionName || !sessionStarted) return;
    const replies = recorder.finish(result);
    const now = ctx.clock.now().toISOString();
    let dropped = 0;
    session = await ctx.sessions.update(sessionName, (cur) => {
      if (!cur) return undefined; // deleted meanwhile: it stays deleted
      dropped = addReplies(cur, replies, { cut: recorder.cut, droppedWhileRunning: recorder.dropped, now });
      return cur;
    });
    if (recorder.rejected > 0) log.warn('worker message frames not kept in the session', { rejected: recorder.rejected });
    if (dropped > 0) {
      input.onWarning?.(`Session '${sessionName}': its oldest turns were trimmed to keep the history under ${SESSION_HISTORY_BYTES / 1024} KiB.`);
      log.info('session history trimmed', { session: sessionName, dropped_messages: dropped });
    }
  };

  const onFrame = (frame: Frame, line: string): void | Promise<void> => {
    if (sessionName && frame.type === 'message') recorder.add(frame);
    return input.onFrame?.(frame, line);
  };

  let outcome: DispatchOutcome;
  try {
    if (sessionName) {
      const now = ctx.clock.now().toISOString();
      session = await ctx.sessions.update(sessionName, (cur) => {
        // Another run may have started the session meanwhile, in another sandbox.
        if (cur && cur.sandbox !== sandbox.name) throw otherSandbox(sessionName, cur.sandbox, sandbox.name);
        const s = cur ?? newSession(sessionName, sandbox.name, route.name, now);
        s.messages.push(user);
        s.runs += 1;
        s.last_run = id;
        s.updated_at = now;
        return s;
      });
      sessionStarted = true;
    }
    for (const [i, local] of attachments.entries()) {
      const rel = attachRels[i] as string;
      if (input.signal?.aborted) break;
      const { bytes } = await ctx.driver(sandbox.driver).putFile(sandbox, local, rel);
      input.onProgress?.(`Attached ${local} as ${inSandbox(rel)}`);
      log.info('attachment put into sandbox', { path: inSandbox(rel), bytes });
    }
    await ctx.beforeDispatch?.(route, sandbox, input.signal);
    if (input.signal?.aborted) throw new LogosError('CANCELLED', 'The run was cancelled before the worker started.');
    outcome = await dispatchTask(
      { clock: ctx.clock, logger: ctx.logger, driver: ctx.driver(sandbox.driver) },
      {
        taskId: id,
        sandbox,
        route,
        messages,
        tools,
        maxSteps,
        timeoutMs: input.timeoutMs,
        ...(input.params ? { params: input.params } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
        ...(p.warm ? { warm: p.warm } : {}),
        onFrame,
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
    await finishSession().catch((se: unknown) => log.error('could not record the run in its session', { error: (se as Error).message }));
    throw e;
  }
  if (outcome.sandboxUpdate) {
    const updated = outcome.sandboxUpdate;
    await ctx.sandboxes.update((file) => {
      if (own(file.sandboxes, updated.name)) file.sandboxes[updated.name] = updated;
    });
  }
  if (outcome.error?.code === 'MAX_STEPS' && !outcome.error.hint) {
    outcome.error = new LogosError('MAX_STEPS', outcome.error.message, {
      hint: `The agent used all ${maxSteps} model calls it was allowed. Give it more with --max-steps N (up to ${MAX_STEPS_LIMIT}), or ask for less at once.`,
      details: outcome.error.details,
    });
  }
  run.status = outcome.status;
  run.ended_at = ctx.clock.now().toISOString();
  run.duration_ms = outcome.durationMs;
  run.exit_code = outcome.exitCode;
  run.response_chars = outcome.responseChars;
  if (outcome.usage) run.usage = outcome.usage;
  const steps = outcome.result?.steps;
  if (typeof steps === 'number' && Number.isSafeInteger(steps) && steps >= 0) run.steps = steps;
  const used = toolsUsed(outcome.result?.tools_used);
  if (used) run.tools_used = used;
  if (outcome.error) {
    run.error = { code: outcome.error.code, message: outcome.error.message, ...(outcome.error.hint ? { hint: outcome.error.hint } : {}) };
  }
  await ctx.runs.save(run);
  await finishSession(outcome.result);
  return { run, outcome, ...(session ? { session } : {}) };
}

/** `tools_used` from a worker's result, kept only if it is a small map of counts. */
function toolsUsed(v: unknown): Record<string, number> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const entries = Object.entries(v as Record<string, unknown>).filter(
    ([k, n]) => k.length <= 128 && typeof n === 'number' && Number.isSafeInteger(n) && n >= 0,
  ) as Array<[string, number]>;
  return entries.length > 0 ? Object.fromEntries(entries.slice(0, 64)) : undefined;
}
