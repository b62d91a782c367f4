/**
 * Worker protocol v1: the contract between the host and the in-sandbox worker.
 * Documented in docs/worker-protocol.md. This file has no imports on purpose:
 * the worker bundle includes it, and the worker must stay dependency-free.
 */

export const PROTOCOL_VERSION = 1;

/**
 * Node options for the worker process. A long reply allocates many short-lived
 * strings; a larger young generation makes the worker about 1.4× faster at it
 * (fewer scavenges) for no more peak memory.
 */
export const WORKER_NODE_OPTIONS = ['--max-semi-space-size=32'] as const;

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

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

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
  | 'INVALID_TASK';

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
export interface ToolStartFrame {
  type: 'tool_start';
  task_id: string;
  call_id: string;
  tool: string;
  preview?: string;
}
export interface ToolEndFrame {
  type: 'tool_end';
  task_id: string;
  call_id: string;
  tool: string;
  ok: boolean;
  duration_ms: number;
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
}

export type KnownFrame = ReadyFrame | TokenFrame | ThinkingFrame | ToolStartFrame | ToolEndFrame | TaskResultFrame;
/** Unknown frame types are passed through untouched. */
export interface UnknownFrame {
  type: string;
  [key: string]: unknown;
}
export type Frame = KnownFrame | UnknownFrame;
