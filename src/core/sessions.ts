import { LogosError } from './errors.js';
import type { ChatMessage, Frame, TaskResultFrame, ToolCall } from './protocol.js';
import { isObject } from './records.js';

/**
 * Sessions: a conversation that goes on over several runs. The host keeps its
 * history as neutral ChatMessages (the user's messages, and what the worker
 * reported in `message` frames: the model's turns with their tool calls, the tool
 * results, the final answer) and sends it with the next task, between the system
 * prompt and the new message. The history is kept within a byte budget by dropping
 * its oldest turns, never splitting a model turn from the results of its tool calls.
 * Pure: the store (src/store/sessions-store.ts) does the IO.
 */

/** A session's history is kept within this many bytes (JSON), and so is what one task carries of it. */
export const SESSION_HISTORY_BYTES = 256 * 1024;
/** The first message of a history whose oldest turns were dropped. */
export const TRIM_NOTE = '[earlier turns trimmed]';
/** The result given to the model for a tool call whose run ended before the tool did. */
export const UNFINISHED_TOOL_RESULT = '[no result: the task ended before this tool call finished]';
/** A message the worker cut (`truncated`) is marked so the model knows. */
export const CUT_MARK = '\n[…the rest of this message was cut]';
/** What one run may add while it runs before the oldest of it is dropped (bounds the host's memory). */
const COLLECT_CAP_BYTES = 2 * 1024 * 1024;

export interface SessionRecord {
  name: string;
  /** The sandbox the session runs in, fixed by its first run (and so its route). */
  sandbox: string;
  route: string;
  created_at: string;
  updated_at: string;
  messages: ChatMessage[];
  /** Messages dropped from the start so far, to keep the history within SESSION_HISTORY_BYTES. */
  trimmed_messages: number;
  runs: number;
  last_run?: string;
}

export interface SessionStore {
  get(name: string): Promise<SessionRecord | undefined>;
  /**
   * Change one session under its lock: fn gets the current record (undefined: none
   * yet) and returns the record to store (undefined: leave it as it is).
   */
  update(name: string, fn: (current: SessionRecord | undefined) => SessionRecord | undefined): Promise<SessionRecord | undefined>;
  /** false: there was no such session. */
  remove(name: string): Promise<boolean>;
  /** Every session; damaged files are reported (and moved aside), not fatal. */
  list(): Promise<{ sessions: SessionRecord[]; damaged: Array<{ name: string; error: LogosError }> }>;
}

const SESSION_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Session names follow the rules of route names: lowercase letters, digits and '-', at most 63. */
export function validateSessionName(name: string): string {
  if (!SESSION_NAME_RE.test(name)) {
    throw new LogosError('INVALID_NAME', `Invalid session name '${name.replace(/[\u0000-\u001f\u007f]/g, '?')}'.`, {
      hint: 'Use lowercase letters, digits and "-", start and end with a letter or digit, at most 63 characters (e.g. "review-1").',
    });
  }
  return name;
}

/** A fresh name for `logos chat` without --session: chat-YYYYMMDD-HHMMSS (UTC), plus a suffix when taken. */
export function newSessionName(now: Date, attempt = 0): string {
  const iso = now.toISOString();
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
  return attempt === 0 ? `chat-${stamp}` : `chat-${stamp}-${attempt + 1}`;
}

export function newSession(name: string, sandbox: string, route: string, now: string): SessionRecord {
  return { name, sandbox, route, created_at: now, updated_at: now, messages: [], trimmed_messages: 0, runs: 0 };
}

// ---- shape checks (state files and worker frames) ----

const str = (v: unknown, max = Infinity): v is string => typeof v === 'string' && v.length <= max;

function validToolCall(c: unknown): c is ToolCall {
  return isObject(c) && str(c.id, 256) && c.id !== '' && str(c.name, 128) && str(c.arguments);
}

/** A ChatMessage as stored in a session file. */
export function isChatMessage(m: unknown): m is ChatMessage {
  if (!isObject(m) || typeof m.content !== 'string') return false;
  switch (m.role) {
    case 'system':
    case 'user':
      return true;
    case 'assistant':
      return m.tool_calls === undefined || (Array.isArray(m.tool_calls) && m.tool_calls.every(validToolCall));
    case 'tool':
      return str(m.tool_call_id) && str(m.name) && (m.is_error === undefined || typeof m.is_error === 'boolean');
    default:
      return false;
  }
}

export function isSessionRecord(v: unknown, name: string): v is SessionRecord {
  return (
    isObject(v) &&
    v.name === name &&
    str(v.sandbox) &&
    str(v.route) &&
    str(v.created_at) &&
    str(v.updated_at) &&
    Array.isArray(v.messages) &&
    v.messages.every(isChatMessage) &&
    Number.isSafeInteger(v.trimmed_messages) &&
    Number.isSafeInteger(v.runs) &&
    (v.last_run === undefined || str(v.last_run))
  );
}

/**
 * A message the worker reported, checked: only the model's turns and tool results
 * (user and system messages are the host's to write), with sane ids and names.
 */
export function workerMessage(frame: Frame): ChatMessage | undefined {
  const f = frame as { message?: unknown; truncated?: unknown };
  const m = f.message;
  if (!isObject(m)) return undefined;
  const mark = f.truncated === true ? CUT_MARK : '';
  if (m.role === 'assistant') {
    // An assistant turn that only calls tools may come with null content.
    if (m.content !== null && m.content !== undefined && typeof m.content !== 'string') return undefined;
    const out: ChatMessage = { role: 'assistant', content: `${typeof m.content === 'string' ? m.content : ''}${mark}` };
    if (m.tool_calls !== undefined && m.tool_calls !== null) {
      if (!Array.isArray(m.tool_calls) || m.tool_calls.length > 128 || !m.tool_calls.every(validToolCall)) return undefined;
      if (m.tool_calls.length > 0) out.tool_calls = m.tool_calls.map((c: ToolCall) => ({ id: c.id, name: c.name, arguments: c.arguments }));
    }
    return out;
  }
  if (m.role === 'tool') {
    if (!str(m.tool_call_id, 256) || !str(m.name, 128) || typeof m.content !== 'string') return undefined;
    if (m.is_error !== undefined && typeof m.is_error !== 'boolean') return undefined;
    return { role: 'tool', tool_call_id: m.tool_call_id, name: m.name, content: `${m.content}${mark}`, ...(m.is_error ? { is_error: true } : {}) };
  }
  return undefined;
}

// ---- sizes and trimming ----

function messageBytes(m: ChatMessage): number {
  return Buffer.byteLength(JSON.stringify(m));
}

/** Bytes of the messages as a JSON array. */
export function messagesBytes(ms: readonly ChatMessage[]): number {
  return Buffer.byteLength(JSON.stringify(ms));
}

export function isTrimNote(m: ChatMessage | undefined): boolean {
  return m !== undefined && m.role === 'user' && m.content === TRIM_NOTE;
}

/**
 * The history in pieces that are kept or dropped together: a model turn that calls
 * tools goes with the tool results that follow it; every other message is its own piece.
 */
export function historyUnits(ms: readonly ChatMessage[]): ChatMessage[][] {
  const out: ChatMessage[][] = [];
  let i = 0;
  while (i < ms.length) {
    const m = ms[i] as ChatMessage;
    const unit = [m];
    i += 1;
    if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
      while (i < ms.length && (ms[i] as ChatMessage).role === 'tool') {
        unit.push(ms[i] as ChatMessage);
        i += 1;
      }
    }
    out.push(unit);
  }
  return out;
}

/** Drop whole units from the front until the rest (plus `reserve` bytes) fits `budget`. */
function dropOldest(ms: readonly ChatMessage[], budget: number, reserve: number): { kept: ChatMessage[]; dropped: number; fits: boolean } {
  const units = historyUnits(ms);
  // An upper bound of the JSON array's size: brackets, and a comma per message.
  const sizes = units.map((u) => u.reduce((n, m) => n + messageBytes(m) + 1, 0));
  let total = 2 + reserve + sizes.reduce((a, b) => a + b, 0);
  let k = 0;
  while (k < units.length && total > budget) {
    total -= sizes[k] as number;
    k += 1;
  }
  let kept = units.slice(k).flat();
  // A tool result without its call (only in a damaged history) never leads.
  while (kept[0]?.role === 'tool') kept = kept.slice(1);
  return { kept, dropped: ms.length - kept.length, fits: total <= budget };
}

/**
 * The history within `budget` bytes: unchanged when it fits; otherwise its oldest
 * units are dropped and it starts with the TRIM_NOTE (a user message, so the
 * history still starts with the user's turn, as the Anthropic API wants).
 * `dropped` counts the messages left out (not the note).
 */
export function trimHistory(ms: readonly ChatMessage[], budget: number): { messages: ChatMessage[]; dropped: number } {
  if (messagesBytes(ms) <= budget) return { messages: [...ms], dropped: 0 };
  const note: ChatMessage = { role: 'user', content: TRIM_NOTE };
  const body = isTrimNote(ms[0]) ? ms.slice(1) : ms;
  const r = dropOldest(body, budget, messageBytes(note) + 1);
  if (!r.fits) return { messages: [], dropped: body.length };
  return { messages: [note, ...r.kept], dropped: r.dropped };
}

/**
 * Every tool call in the history gets a result right after its turn, as the model
 * APIs require: a run that ended mid-tool (cancelled, failed, deadline) left calls
 * without one, which get UNFINISHED_TOOL_RESULT; results that answer no open call
 * are dropped.
 */
export function closeDanglingToolCalls(ms: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let open: ToolCall[] = [];
  const close = (): void => {
    for (const c of open) out.push({ role: 'tool', tool_call_id: c.id, name: c.name, content: UNFINISHED_TOOL_RESULT, is_error: true });
    open = [];
  };
  for (const m of ms) {
    if (m.role === 'tool') {
      const i = open.findIndex((c) => c.id === m.tool_call_id);
      if (i === -1) continue;
      open.splice(i, 1);
      out.push(m);
      continue;
    }
    close();
    out.push(m);
    if (m.role === 'assistant' && m.tool_calls) open = [...m.tool_calls];
  }
  close();
  return out;
}

/**
 * What one run adds to its session: the `message` frames the worker sent, checked,
 * in order; and, for a worker that reports no messages (or not its final answer),
 * the final response of a successful result as the model's answer.
 */
export class TurnRecorder {
  private messages: ChatMessage[] = [];
  private bytes = 0;
  /** Frames that were not an acceptable message (counted, logged by the caller). */
  rejected = 0;
  /** Messages dropped while the run went on, to bound memory (the history before them goes too). */
  dropped = 0;

  get cut(): boolean {
    return this.dropped > 0;
  }

  add(frame: Frame): boolean {
    const m = workerMessage(frame);
    if (!m) {
      this.rejected += 1;
      return false;
    }
    this.messages.push(m);
    this.bytes += messageBytes(m);
    if (this.bytes > COLLECT_CAP_BYTES) {
      const r = dropOldest(this.messages, SESSION_HISTORY_BYTES, 0);
      this.messages = r.kept;
      this.dropped += r.dropped;
      this.bytes = this.messages.reduce((n, x) => n + messageBytes(x), 0);
    }
    return true;
  }

  finish(result?: TaskResultFrame): ChatMessage[] {
    const ms = [...this.messages];
    const last = ms.at(-1);
    const answered = last?.role === 'assistant' && !(last.tool_calls && last.tool_calls.length > 0);
    if (result?.status === 'ok' && typeof result.final_response === 'string' && result.final_response !== '' && !answered) {
      ms.push({ role: 'assistant', content: `${result.final_response}${result.final_response_truncated === true ? CUT_MARK : ''}` });
    }
    return ms;
  }
}

/**
 * Add a run's replies to its session (whose user message is already in it), close
 * unanswered tool calls and trim to the budget. Returns how many messages were dropped.
 */
export function addReplies(s: SessionRecord, replies: ChatMessage[], opts: { cut: boolean; droppedWhileRunning: number; now: string }): number {
  let dropped = 0;
  let ms: ChatMessage[];
  if (opts.cut) {
    // The start of this run's replies is gone: so is everything before it.
    dropped = s.messages.filter((m, i) => !(i === 0 && isTrimNote(m))).length + opts.droppedWhileRunning;
    ms = [{ role: 'user', content: TRIM_NOTE }, ...replies];
  } else {
    ms = [...s.messages, ...replies];
  }
  const t = trimHistory(closeDanglingToolCalls(ms), SESSION_HISTORY_BYTES);
  dropped += t.dropped;
  s.messages = t.messages;
  s.trimmed_messages += dropped;
  s.updated_at = opts.now;
  return dropped;
}

/** Turns of a session: each starts with a user message (the trim note counts as one). */
export function countTurns(ms: readonly ChatMessage[]): number {
  return ms.filter((m) => m.role === 'user').length;
}
