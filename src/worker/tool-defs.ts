/**
 * What the model is told about each built-in tool: a description and the
 * JSON-schema parameters sent in the request (OpenAI `tools[].function`,
 * Anthropic `tools[]`). The names are a contract (core/protocol.ts BUILTIN_TOOLS).
 */
import { MAX_TOOL_OUTPUT_BYTES, type ToolName } from '../core/protocol.js';

export interface ParamSpec {
  type: 'string' | 'integer';
  description: string;
}

export interface ToolSpec {
  name: ToolName;
  description: string;
  parameters: { type: 'object'; properties: Record<string, ParamSpec>; required: string[] };
}

export const DEFAULT_SHELL_TIMEOUT_S = 120;
export const READ_DEFAULT_LINES = 2000;
/** read_file refuses a larger file unless offset or limit say which part to read. */
export const READ_WHOLE_FILE_MAX_BYTES = 256 * 1024;

const KIB = Math.round(MAX_TOOL_OUTPUT_BYTES / 1024);

const SPECS: Record<ToolName, ToolSpec> = {
  shell: {
    name: 'shell',
    description:
      `Run a command with /bin/sh -c in the working directory (the sandbox). Returns stdout and stderr together and the exit code; ` +
      `long output keeps its first and last ${KIB / 2} KiB. Default timeout ${DEFAULT_SHELL_TIMEOUT_S} s. ` +
      'No input is available (stdin is empty), and processes left in the background are stopped when the command ends.',
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The shell command line.' },
        timeout_s: { type: 'integer', description: `Seconds before the command is killed (default ${DEFAULT_SHELL_TIMEOUT_S}).` },
      },
      required: ['command'],
    },
  },
  read_file: {
    name: 'read_file',
    description:
      `Read a text file; each line is shown with its line number. Reads up to ${READ_DEFAULT_LINES} lines by default; ` +
      `files over ${READ_WHOLE_FILE_MAX_BYTES / 1024} KiB must be read in parts with offset and limit. Binary files are refused.`,
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'File path, relative to the working directory or absolute.' },
        offset: { type: 'integer', description: 'First line to read (1-based).' },
        limit: { type: 'integer', description: `Number of lines to read (default ${READ_DEFAULT_LINES}).` },
      },
      required: ['path'],
    },
  },
  write_file: {
    name: 'write_file',
    description: 'Create or overwrite a file with the given content; parent directories are created.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'File path, relative to the working directory or absolute.' },
        content: { type: 'string', description: 'The whole new content of the file.' },
      },
      required: ['path', 'content'],
    },
  },
  edit_file: {
    name: 'edit_file',
    description:
      'Replace one exact occurrence of `old` with `new` in a file. `old` must match the file exactly (whitespace included) and only once: include enough surrounding lines to make it unique.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'File path, relative to the working directory or absolute.' },
        old: { type: 'string', description: 'The exact text to replace.' },
        new: { type: 'string', description: 'The text to put in its place.' },
      },
      required: ['path', 'old', 'new'],
    },
  },
  list_files: {
    name: 'list_files',
    description:
      'List files and directories recursively (directories end with /). pattern is a glob on the path, e.g. **/*.py or src/**/*.ts; a pattern without / matches names at any depth. .git and node_modules are listed but not entered unless path points into them.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Directory to list (default: the working directory).' },
        pattern: { type: 'string', description: 'Glob the paths must match.' },
      },
      required: [],
    },
  },
  search: {
    name: 'search',
    description:
      'Search file contents with a regular expression (JavaScript syntax; start it with (?i) to ignore case). Prints path:line: text for each matching line; binary and very large files are skipped (and counted).',
    parameters: {
      type: 'object',
      properties: {
        pattern: { type: 'string', description: 'The regular expression.' },
        path: { type: 'string', description: 'File or directory to search (default: the working directory).' },
      },
      required: ['pattern'],
    },
  },
};

export function toolSpec(name: ToolName): ToolSpec {
  return SPECS[name];
}

export function toolSpecs(names: readonly ToolName[]): ToolSpec[] {
  return names.map((n) => SPECS[n]);
}

/** What a tool gets from the loop. */
export interface ToolContext {
  /** Where relative paths start (the sandbox: the worker's cwd). */
  cwd: string;
  /** Aborted at the task deadline: a running command is killed. */
  signal?: AbortSignal | undefined;
  /** Output of a running command, in pieces as it comes (tool_output frames). */
  onOutput?: ((text: string) => void) | undefined;
}

/** What the model gets back: `ok: false` marks a failure (Anthropic `is_error`). */
export interface ToolResult {
  ok: boolean;
  text: string;
  /** shell only: the command's exit code (null when it was killed). */
  exitCode?: number | null;
}
