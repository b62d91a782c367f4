import type { FrameError, Usage } from './protocol.js';

/** One `logos run`, recorded in the state dir from start to end. */
export interface RunRecord {
  id: string;
  sandbox: string;
  route: string;
  provider: string;
  model: string;
  driver: string;
  status: 'running' | 'ok' | 'error';
  started_at: string;
  ended_at?: string;
  duration_ms?: number;
  usage?: Usage;
  error?: FrameError;
  exit_code?: number | null;
  /** Length of the reply, in characters (the reply itself is not kept). */
  response_chars?: number;
  /** Preview of the user's message (first 120 chars). */
  prompt_preview: string;
  /** The host process that ran it, to tell a crashed run from a running one. */
  host_pid: number;
  /** The session the run belongs to (`run --session`, `chat`). */
  session?: string;
  /** The built-in tools the task allowed (`[]`: a plain chat reply). */
  tools?: string[];
  max_steps?: number;
  /** Model calls the worker made, and how often each tool ran (from its result). */
  steps?: number;
  tools_used?: Record<string, number>;
  /** Files put into /sandbox/attachments/ for the task. */
  attachments?: string[];
}

export interface RunStore {
  save(run: RunRecord): Promise<void>;
  get(id: string): Promise<RunRecord | undefined>;
  list(limit: number): Promise<RunRecord[]>;
}

/** A run still marked running whose host process is gone was interrupted (crash, kill -9). */
export function effectiveRunStatus(run: RunRecord, pidAlive: (pid: number) => boolean): RunRecord['status'] | 'interrupted' {
  if (run.status === 'running' && !pidAlive(run.host_pid)) return 'interrupted';
  return run.status;
}

/**
 * A run's outcome as the worker's `task_result` frame would have said it, from its
 * record: what a viewer shows for a run whose frames are gone (the reply itself is
 * not kept). Undefined while it runs.
 */
export function recordedResultFrame(run: Pick<RunRecord, 'id' | 'usage' | 'error' | 'duration_ms' | 'steps' | 'tools_used'> & { status: string }): Record<string, unknown> & { type: 'task_result' } | undefined {
  if (run.status === 'running') return undefined;
  const error = run.error ?? (run.status === 'ok' ? undefined : { code: 'INTERRUPTED', message: 'The process that ran it ended before the run did.' });
  return {
    type: 'task_result',
    task_id: run.id,
    status: run.status === 'ok' ? 'ok' : 'error',
    final_response: '',
    ...(run.usage ? { usage: run.usage } : {}),
    ...(error ? { error } : {}),
    ...(run.duration_ms !== undefined ? { duration_ms: run.duration_ms } : {}),
    ...(run.steps !== undefined ? { steps: run.steps } : {}),
    ...(run.tools_used ? { tools_used: run.tools_used } : {}),
    from_record: true,
  };
}
