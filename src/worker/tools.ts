/**
 * From a model's tool call to a result: the arguments are checked against the
 * tool's parameters (with the coercions local models need, e.g. "30" for an
 * integer) and the tool runs. Every problem becomes an error result for the
 * model to correct, never a failure of the task.
 */
import { BUILTIN_TOOLS, type ToolName } from '../core/protocol.js';
import type { ModelToolCall } from './tool-calls.js';
import { toolSpec, type ToolContext, type ToolResult } from './tool-defs.js';
import { editFileTool } from './tool-edit-file.js';
import { listFilesTool } from './tool-list-files.js';
import { capToolText } from './tool-output.js';
import { readFileTool } from './tool-read-file.js';
import { searchTool } from './tool-search.js';
import { shellTool } from './tool-shell.js';
import { writeFileTool } from './tool-write-file.js';

export type Checked = { ok: true; tool: ToolName; args: Record<string, unknown> } | { ok: false; error: string };

function isToolName(name: string): name is ToolName {
  return (BUILTIN_TOOLS as readonly string[]).includes(name);
}

function parseArguments(text: string): { value?: unknown; error?: string } {
  if (text.trim() === '') return { value: {} };
  try {
    let value: unknown = JSON.parse(text);
    // Some models encode the arguments twice: a JSON string holding the JSON object.
    if (typeof value === 'string' && value.trim().startsWith('{')) value = JSON.parse(value);
    return { value };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** Check a call against the offered tools and the tool's parameters. */
export function checkToolCall(call: ModelToolCall, offered: readonly ToolName[], truncatedByLimit = false): Checked {
  const list = offered.join(', ');
  if (call.error !== undefined) return { ok: false, error: call.error };
  if (!call.name) return { ok: false, error: `the tool call has no name; the tools are: ${list}` };
  if (!isToolName(call.name)) return { ok: false, error: `unknown tool ${JSON.stringify(call.name)}; the tools are: ${list}` };
  if (!offered.includes(call.name)) return { ok: false, error: `the tool ${call.name} is not available in this task; the tools are: ${list}` };
  const parsed = parseArguments(call.arguments);
  if (parsed.error !== undefined) {
    const why = truncatedByLimit ? ' (the reply was cut by the output token limit: write less in one call)' : '';
    return { ok: false, error: `the arguments are not valid JSON${why}: ${parsed.error}` };
  }
  const raw = parsed.value;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'the arguments must be a JSON object' };
  const given = raw as Record<string, unknown>;
  const spec = toolSpec(call.name);
  const args: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(spec.parameters.properties)) {
    const v = given[key];
    if (v === undefined || v === null) {
      if (spec.parameters.required.includes(key)) return { ok: false, error: `missing required argument "${key}" (${call.name} takes ${Object.keys(spec.parameters.properties).join(', ')})` };
      continue;
    }
    if (p.type === 'string') {
      if (typeof v === 'string') args[key] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') args[key] = String(v);
      else return { ok: false, error: `argument "${key}" must be a string` };
    } else {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : NaN;
      if (!Number.isFinite(n)) return { ok: false, error: `argument "${key}" must be an integer` };
      args[key] = Math.trunc(n);
    }
  }
  return { ok: true, tool: call.name, args };
}

/** Run a checked call. The result text is capped to MAX_TOOL_OUTPUT_BYTES. */
export async function runTool(tool: ToolName, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
  let result: ToolResult;
  try {
    result = await dispatch(tool, args, ctx);
  } catch (err) {
    result = { ok: false, text: `${tool} failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { ...result, text: capToolText(result.text) };
}

const str = (v: unknown): string => v as string;
const opt = <T>(v: unknown): T | undefined => v as T | undefined;

function dispatch(tool: ToolName, a: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
  switch (tool) {
    case 'shell':
      return shellTool({ command: str(a.command), timeout_s: opt<number>(a.timeout_s) }, ctx);
    case 'read_file':
      return readFileTool({ path: str(a.path), offset: opt<number>(a.offset), limit: opt<number>(a.limit) }, ctx);
    case 'write_file':
      return writeFileTool({ path: str(a.path), content: str(a.content) }, ctx);
    case 'edit_file':
      return editFileTool({ path: str(a.path), old: str(a.old), new: str(a.new) }, ctx);
    case 'list_files':
      return listFilesTool({ path: opt<string>(a.path), pattern: opt<string>(a.pattern) }, ctx);
    case 'search':
      return searchTool({ pattern: str(a.pattern), path: opt<string>(a.path) }, ctx);
  }
}
