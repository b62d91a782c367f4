/**
 * Worker protocol v1: the contract between the host and the in-sandbox worker.
 * Documented in docs/worker-protocol.md. This file has no imports on purpose:
 * the worker bundle includes it, and the worker must stay dependency-free.
 */

export const PROTOCOL_VERSION = 1;

/**
 * The worker runs as plain `node worker.mjs`, without V8 flags: any V8 flag (such as
 * a larger young generation) makes Node reject the code cache built into its binary
 * for its own modules, which added ~50 ms to every task's start, and a long reply
 * streams no faster with one (measured on 1M tokens: 524k vs 511k tokens/s).
 */

/** OpenShell's `sandbox exec` buffers stdin up to this many bytes; the host refuses larger tasks. */
export const MAX_TASK_BYTES = 4 * 1024 * 1024;
/** A stdout line longer than this is dropped (logged and counted), never parsed. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * `task_result.final_response` carries at most this many UTF-8 bytes; a longer
 * final response is cut to its beginning and flagged (`final_response_truncated`),
 * so the result line always stays well under MAX_FRAME_BYTES.
 */
export const MAX_INLINE_RESPONSE_BYTES = 256 * 1024;

export type RouteApi = 'openai-chat' | 'anthropic-messages';

export interface TaskRoute {
  provider: string;
  model: string;
  api: RouteApi;
  base_url: string;
}

/** The built-in tools an agent worker can run inside its sandbox. Their names are a contract (frames, docs, `--tools`). */
export const BUILTIN_TOOLS = ['shell', 'read_file', 'write_file', 'edit_file', 'list_files', 'search'] as const;
export type ToolName = (typeof BUILTIN_TOOLS)[number];
/** The default number of model calls in one task's tool loop. */
export const DEFAULT_MAX_STEPS = 50;
/** What one tool call returns to the model at most (head and tail kept, the cut noted). */
export const MAX_TOOL_OUTPUT_BYTES = 64 * 1024;
/** A `message` frame carries at most this much of a message's content (the rest is cut, and flagged). */
export const MAX_MESSAGE_FRAME_CONTENT_BYTES = 256 * 1024;

/** A tool call the model made: `arguments` is the JSON text the model wrote (it may be malformed). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * One message of a conversation, in a provider-neutral form: the host keeps a
 * session's history this way and the worker turns it into the API's own format.
 */
export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; name: string; content: string; is_error?: boolean };

export interface TaskInput {
  v: 1;
  type: 'task';
  task_id: string;
  sandbox: string;
  gateway?: string;
  route: TaskRoute;
  messages: ChatMessage[];
  params?: { max_tokens?: number; temperature?: number };
  deadline_ms?: number;
  /** Built-in tools the worker may run; absent or empty: a plain chat reply, no tools. */
  tools?: ToolName[];
  /** Model calls allowed in the tool loop (default DEFAULT_MAX_STEPS); reaching it ends the task with MAX_STEPS. */
  max_steps?: number;
}

export type WorkerErrorCode =
  | 'AUTH'
  | 'RATE_LIMIT'
  | 'MODEL_NOT_FOUND'
  | 'CONTEXT_OVERFLOW'
  | 'UPSTREAM_5XX'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'
  | 'NO_MODEL'
  | 'INVALID_TASK'
  | 'MAX_STEPS';

export interface FrameError {
  code: string;
  message: string;
  hint?: string;
}

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  model?: string;
}

export interface ReadyFrame {
  v: 1;
  type: 'ready';
  task_id: string;
  worker: { version: string; runtime: string; pid: number };
  ts: string;
}
export interface TokenFrame {
  type: 'token';
  task_id: string;
  content: string;
}
export interface ThinkingFrame {
  type: 'thinking';
  task_id: string;
  content: string;
}
/** A tool call begins. `preview`: its arguments, at most 200 characters. `step`: the model call (1-based) that asked for it. */
export interface ToolStartFrame {
  type: 'tool_start';
  task_id: string;
  call_id: string;
  tool: string;
  preview?: string;
  step?: number;
}
/** Output of a running tool (shell), in pieces, as it comes (optional; the tool's result is what the model sees). */
export interface ToolOutputFrame {
  type: 'tool_output';
  task_id: string;
  call_id: string;
  content: string;
}
/** A tool call ended. `preview`: the start of what the model got back, at most 200 characters. */
export interface ToolEndFrame {
  type: 'tool_end';
  task_id: string;
  call_id: string;
  tool: string;
  ok: boolean;
  duration_ms: number;
  exit_code?: number | null;
  preview?: string;
}
/**
 * A message the worker added to the conversation (the model's turns with their tool
 * calls, and the tool results), so the host can keep a session's history. Content over
 * MAX_MESSAGE_FRAME_CONTENT_BYTES is cut to its beginning and `truncated` is set.
 */
export interface MessageFrame {
  type: 'message';
  task_id: string;
  message: ChatMessage;
  truncated?: boolean;
}
export interface TaskResultFrame {
  type: 'task_result';
  task_id: string;
  status: 'ok' | 'error';
  /** The whole final response, or its first MAX_INLINE_RESPONSE_BYTES at most when truncated. */
  final_response: string;
  /** Set (true) only when final_response is the beginning of a longer final response. */
  final_response_truncated?: boolean;
  /** With final_response_truncated: the UTF-8 size of the whole final response. */
  final_response_bytes?: number;
  usage?: Usage;
  error?: FrameError;
  duration_ms: number;
  /** Model calls made (1 for a plain chat reply). */
  steps?: number;
  /** How many times each tool ran. */
  tools_used?: Record<string, number>;
}

export type KnownFrame = ReadyFrame | TokenFrame | ThinkingFrame | ToolStartFrame | ToolOutputFrame | ToolEndFrame | MessageFrame | TaskResultFrame;
/** Unknown frame types are passed through untouched. */
export interface UnknownFrame {
  type: string;
  [key: string]: unknown;
}
export type Frame = KnownFrame | UnknownFrame;
