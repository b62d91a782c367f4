import type { Frame, TaskResultFrame } from './protocol.js';

/** Decoding of one stdout line from a worker. Pure; the host counts and logs what is not a frame. */
export type DecodedLine =
  | { kind: 'blank' }
  | { kind: 'frame'; frame: Frame }
  | { kind: 'malformed'; reason: string; preview: string };

const TOKEN_PREFIX = '{"type":"token","task_id":"';
const THINKING_PREFIX = '{"type":"thinking","task_id":"';

/**
 * The line of a token or thinking frame exactly as the bundled worker writes it,
 * `{"type":"token","task_id":"…","content":"…"}`, checked and read without
 * JSON.parse (which was most of the host's CPU in a long reply). Only a line that
 * is certainly that JSON object is accepted; anything else returns undefined and
 * takes the full parse.
 */
export function fastTextFrame(line: string): Frame | undefined {
  const type = line.startsWith(TOKEN_PREFIX) ? 'token' : line.startsWith(THINKING_PREFIX) ? 'thinking' : undefined;
  if (!type) return undefined;
  const idStart = type === 'token' ? TOKEN_PREFIX.length : THINKING_PREFIX.length;
  const idEnd = line.indexOf('"', idStart);
  if (idEnd === -1 || line.startsWith('","content":"', idEnd) === false) return undefined;
  const taskId = line.slice(idStart, idEnd);
  if (taskId.indexOf('\\') !== -1 || /[\u0000-\u001f]/.test(taskId)) return undefined;
  const start = idEnd + '","content":'.length; // the content's opening quote
  const end = line.length - 2; // its closing quote: the line ends with `"}`
  if (end <= start || line.charCodeAt(end) !== 34 || line.charCodeAt(end + 1) !== 125) return undefined;
  const literal = line.slice(start, end + 1);
  let content: string;
  if (literal.indexOf('\\') === -1) {
    // No escapes: the text is what lies between the quotes, if no quote or control character is in it.
    content = literal.slice(1, -1);
    if (content.indexOf('"') !== -1 || /[\u0000-\u001f]/.test(content)) return undefined;
  } else {
    try {
      const v: unknown = JSON.parse(literal);
      if (typeof v !== 'string') return undefined;
      content = v;
    } catch {
      return undefined;
    }
  }
  return { type, task_id: taskId, content };
}

export function decodeFrameLine(line: string): DecodedLine {
  const fast = fastTextFrame(line);
  if (fast) return { kind: 'frame', frame: fast };
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
