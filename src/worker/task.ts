/**
 * Validation of the one task the host writes on stdin. A task that cannot be
 * read is INVALID_TASK (exit 2); a readable task without a model is a
 * NO_MODEL result later, after the `ready` frame.
 */
import { BUILTIN_TOOLS, type ChatMessage, type RouteApi, type TaskInput, type ToolCall, type ToolName } from '../core/protocol.js';

export type ParseResult = { ok: true; task: TaskInput } | { ok: false; taskId: string; message: string };

const APIS: readonly RouteApi[] = ['openai-chat', 'anthropic-messages'];
const ROLES: ReadonlyArray<'system' | 'user' | 'assistant'> = ['system', 'user', 'assistant'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One history message in the neutral form (an error text when it is not one). */
function parseMessage(m: unknown, i: number): ChatMessage | string {
  const shape = `messages[${i}] must be {role: system|user|assistant|tool, content: string}`;
  if (!isObject(m)) return shape;
  if (m.role === 'tool') {
    if (typeof m.tool_call_id !== 'string' || m.tool_call_id === '' || typeof m.content !== 'string') {
      return `messages[${i}] (role tool) needs tool_call_id and content strings`;
    }
    const msg: ChatMessage = { role: 'tool', tool_call_id: m.tool_call_id, name: typeof m.name === 'string' ? m.name : '', content: m.content };
    if (m.is_error === true) msg.is_error = true;
    return msg;
  }
  const hasCalls = m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0;
  // An assistant turn that only called tools may come with content null (the OpenAI form).
  const content = m.content === null && hasCalls ? '' : m.content;
  if (!ROLES.includes(m.role as 'system' | 'user' | 'assistant') || typeof content !== 'string') return shape;
  if (!hasCalls) return { role: m.role as 'system' | 'user' | 'assistant', content };
  const calls: ToolCall[] = [];
  for (const [j, c] of (m.tool_calls as unknown[]).entries()) {
    if (!isObject(c) || typeof c.id !== 'string' || c.id === '' || typeof c.name !== 'string') {
      return `messages[${i}].tool_calls[${j}] must be {id, name, arguments}`;
    }
    const args = typeof c.arguments === 'string' ? c.arguments : isObject(c.arguments) ? JSON.stringify(c.arguments) : '{}';
    calls.push({ id: c.id, name: c.name, arguments: args });
  }
  return { role: 'assistant', content, tool_calls: calls };
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
    const msg = parseMessage(m, i);
    if (typeof msg === 'string') return bad(msg);
    messages.push(msg);
  }

  let tools: ToolName[] | undefined;
  if (raw.tools !== undefined && raw.tools !== null) {
    if (!Array.isArray(raw.tools)) return bad('tools must be an array of tool names');
    for (const t of raw.tools) {
      if (typeof t !== 'string' || !(BUILTIN_TOOLS as readonly string[]).includes(t)) {
        return bad(`tools: unknown tool ${JSON.stringify(t)} (this worker has ${BUILTIN_TOOLS.join(', ')})`);
      }
    }
    tools = [...new Set(raw.tools as ToolName[])];
  }
  let maxSteps: number | undefined;
  if (raw.max_steps !== undefined && raw.max_steps !== null) {
    if (typeof raw.max_steps !== 'number' || !Number.isInteger(raw.max_steps) || raw.max_steps <= 0) return bad('max_steps must be a positive integer');
    maxSteps = raw.max_steps;
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
  if (tools !== undefined && tools.length > 0) task.tools = tools;
  if (maxSteps !== undefined) task.max_steps = maxSteps;
  return { ok: true, task };
}
