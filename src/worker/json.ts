/** Small JSON helpers shared by the stream readers. */
import { HINTS, WorkerFailure, type ClassifyContext } from './classify.js';
import { excerpt } from './redact.js';

export type Json = Record<string, unknown>;

export function asObject(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Parse one SSE record's data; a record that is not JSON is an INVALID_RESPONSE. */
export function parseEventData(data: string, what: string, ctx: ClassifyContext): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new WorkerFailure('INVALID_RESPONSE', `malformed stream ${what} (not JSON): ${excerpt(data, 120)}`, HINTS.INVALID_RESPONSE_BAD_STREAM(ctx));
  }
}
