/**
 * Validation of the one task the host writes on stdin. A task that cannot be
 * read is INVALID_TASK (exit 2); a readable task without a model is a
 * NO_MODEL result later, after the `ready` frame.
 */
import type { ChatMessage, RouteApi, TaskInput } from '../core/protocol.js';

export type ParseResult = { ok: true; task: TaskInput } | { ok: false; taskId: string; message: string };

const APIS: readonly RouteApi[] = ['openai-chat', 'anthropic-messages'];
const ROLES: ReadonlyArray<'system' | 'user' | 'assistant'> = ['system', 'user', 'assistant'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseTask(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, taskId: '', message: text.trim() === '' ? 'no task on stdin (empty input)' : `task is not valid JSON: ${why}` };
  }
  if (!isObject(raw)) return { ok: false, taskId: '', message: 'task must be a JSON object' };
  const taskId = typeof raw.task_id === 'string' ? raw.task_id : '';
  const bad = (message: string): ParseResult => ({ ok: false, taskId, message });

  if (raw.v !== 1) return bad(`unsupported task version ${JSON.stringify(raw.v)} (this worker speaks v1)`);
  if (raw.type !== 'task') return bad(`expected "type":"task", got ${JSON.stringify(raw.type)}`);
  if (!taskId) return bad('task_id must be a non-empty string');
  // Every frame repeats it: a huge id would make every line too long for the host.
  if (taskId.length > 128) return { ok: false, taskId: '', message: 'task_id must be at most 128 characters' };
  if (typeof raw.sandbox !== 'string') return bad('sandbox must be a string');
  if (raw.gateway !== undefined && typeof raw.gateway !== 'string') return bad('gateway must be a string');

  const route = raw.route;
  if (!isObject(route)) return bad('route must be an object');
  if (!APIS.includes(route.api as RouteApi)) return bad(`route.api must be one of ${APIS.join(', ')}, got ${JSON.stringify(route.api)}`);
  if (typeof route.base_url !== 'string') return bad('route.base_url must be a string');
  if (route.model !== undefined && route.model !== null && typeof route.model !== 'string') return bad('route.model must be a string');
  if (route.provider !== undefined && typeof route.provider !== 'string') return bad('route.provider must be a string');

  if (!Array.isArray(raw.messages) || raw.messages.length === 0) return bad('messages must be a non-empty array');
  const messages: ChatMessage[] = [];
  for (const [i, m] of raw.messages.entries()) {
    if (!isObject(m) || !ROLES.includes(m.role as 'system' | 'user' | 'assistant') || typeof m.content !== 'string') {
      return bad(`messages[${i}] must be {role: system|user|assistant, content: string}`);
    }
    messages.push({ role: m.role as 'system' | 'user' | 'assistant', content: m.content });
  }

  let params: TaskInput['params'];
  if (raw.params !== undefined && raw.params !== null) {
    if (!isObject(raw.params)) return bad('params must be an object');
    const { max_tokens: maxTokens, temperature } = raw.params;
    params = {};
    if (maxTokens !== undefined && maxTokens !== null) {
      if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens <= 0) return bad('params.max_tokens must be a positive integer');
      params.max_tokens = maxTokens;
    }
    if (temperature !== undefined && temperature !== null) {
      if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) return bad('params.temperature must be a number >= 0');
      params.temperature = temperature;
    }
  }

  let deadline: number | undefined;
  if (raw.deadline_ms !== undefined && raw.deadline_ms !== null) {
    if (typeof raw.deadline_ms !== 'number' || !Number.isFinite(raw.deadline_ms) || raw.deadline_ms <= 0) {
      return bad('deadline_ms must be a positive number');
    }
    deadline = raw.deadline_ms;
  }

  const task: TaskInput = {
    v: 1,
    type: 'task',
    task_id: taskId,
    sandbox: raw.sandbox,
    route: {
      provider: typeof route.provider === 'string' ? route.provider : '',
      model: typeof route.model === 'string' ? route.model : '',
      api: route.api as RouteApi,
      base_url: route.base_url,
    },
    messages,
  };
  if (typeof raw.gateway === 'string') task.gateway = raw.gateway;
  if (params) task.params = params;
  if (deadline !== undefined) task.deadline_ms = deadline;
  return { ok: true, task };
}
