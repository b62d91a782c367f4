import type { Frame, TaskResultFrame } from './protocol.js';

/** Decoding of one stdout line from a worker. Pure; the host counts and logs what is not a frame. */
export type DecodedLine =
  | { kind: 'blank' }
  | { kind: 'frame'; frame: Frame }
  | { kind: 'malformed'; reason: string; preview: string };

export function decodeFrameLine(line: string): DecodedLine {
  const trimmed = line.trim();
  if (trimmed === '') return { kind: 'blank' };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { kind: 'malformed', reason: 'not JSON', preview: trimmed.slice(0, 120) };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'malformed', reason: 'not a JSON object', preview: trimmed.slice(0, 120) };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type === '') {
    return { kind: 'malformed', reason: 'no "type" field', preview: trimmed.slice(0, 120) };
  }
  if (type === 'task_result' && !isTaskResult(value)) {
    return { kind: 'malformed', reason: 'task_result without a valid status', preview: trimmed.slice(0, 120) };
  }
  return { kind: 'frame', frame: value as Frame };
}

export function isTaskResult(v: unknown): v is TaskResultFrame {
  if (!v || typeof v !== 'object') return false;
  const f = v as Partial<TaskResultFrame>;
  return f.type === 'task_result' && (f.status === 'ok' || f.status === 'error');
}
