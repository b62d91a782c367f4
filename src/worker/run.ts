/**
 * Runs one task: resolves the endpoint and hands the model calls to the agent
 * loop (agent.ts; one call when no tools are offered). Throws WorkerFailure on
 * every failure. No process IO here (main.ts wires stdin/stdout/signals), so
 * tests can call it.
 */
import type { Frame, TaskInput } from '../core/protocol.js';
import { runAgent, type TaskOutcome } from './agent.js';
import { HINTS, WorkerFailure, type ClassifyContext } from './classify.js';
import type { WorkerLogger } from './log.js';
import { callModel } from './model-call.js';

export type WorkerEnv = Record<string, string | undefined>;

export const DEFAULT_DEADLINE_MS = 600_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export interface Endpoint {
  /** Full request URL (base URL + /chat/completions or /messages). */
  url: URL;
  /** The base URL actually used (after env overrides). */
  baseUrl: string;
  /** Set when requests go over the host proxy's Unix socket. */
  socketPath?: string | undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v.trim() : undefined;
}

/** Base URL (env override first), request path, and the optional Unix socket. */
export function resolveEndpoint(task: TaskInput, env: WorkerEnv): Endpoint {
  const isAnthropic = task.route.api === 'anthropic-messages';
  const override = nonEmpty(isAnthropic ? env.ANTHROPIC_BASE_URL : env.OPENAI_BASE_URL);
  const baseUrl = override ?? task.route.base_url.trim();
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new WorkerFailure(
      'INVALID_TASK',
      `invalid base URL ${JSON.stringify(baseUrl)}${override ? ` (from ${isAnthropic ? 'ANTHROPIC_BASE_URL' : 'OPENAI_BASE_URL'})` : ''}`,
      'Set the route base URL to a full URL such as https://inference.local/v1.',
    );
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new WorkerFailure('INVALID_TASK', `unsupported base URL scheme ${base.protocol}`, 'Use an http:// or https:// base URL.');
  }
  let path = base.pathname.replace(/\/+$/, '');
  // The Anthropic SDKs take a base URL without /v1 (https://api.anthropic.com); accept that form too.
  if (isAnthropic && path === '') path = '/v1';
  const url = new URL(base.toString());
  url.pathname = `${path}${isAnthropic ? '/messages' : '/chat/completions'}`;
  return { url, baseUrl, socketPath: nonEmpty(env.LOGOS_INFERENCE_SOCKET) };
}

export function idleTimeoutFromEnv(env: WorkerEnv): number {
  const n = Number(env.LOGOS_IDLE_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_IDLE_TIMEOUT_MS;
}

export interface RunContext {
  env: WorkerEnv;
  emit: (frame: Frame) => void;
  log: WorkerLogger;
  signal?: AbortSignal | undefined;
  idleTimeoutMs?: number | undefined;
  /**
   * Asked after each network chunk: a promise while frames are not being read
   * fast enough (the stream is read on once it settles), else undefined.
   * Keeps memory bounded when the reader is slower than the model.
   */
  backpressure?: (() => Promise<void> | undefined) | undefined;
  /** Where tools run and relative paths start (default: the process's cwd, the sandbox). */
  cwd?: string | undefined;
}

export async function runTask(task: TaskInput, rc: RunContext): Promise<TaskOutcome> {
  const { env } = rc;
  const api = task.route.api;
  const ctx: ClassifyContext = { provider: task.route.provider, model: task.route.model, api };
  if (!task.route.model || task.route.model.trim() === '') {
    throw new WorkerFailure('NO_MODEL', 'the task has no model (route.model is empty)', HINTS.NO_MODEL());
  }
  const endpoint = resolveEndpoint(task, env);
  ctx.baseUrl = endpoint.baseUrl;
  ctx.socketPath = endpoint.socketPath;
  const idleTimeoutMs = rc.idleTimeoutMs ?? idleTimeoutFromEnv(env);
  const caFile = env.NODE_EXTRA_CA_CERTS ? undefined : nonEmpty(env.SSL_CERT_FILE);
  return runAgent(task, rc, ctx, (conversation, step, tools) =>
    callModel({ task, rc, endpoint, ctx, idleTimeoutMs, caFile, conversation, tools, step }),
  );
}
