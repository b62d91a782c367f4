import { LogosError } from './errors.js';
import { BUILTIN_TOOLS, DEFAULT_MAX_STEPS, type ToolName } from './protocol.js';

/** Which built-in tools a task may use, and how many model calls its tool loop may make. */

/** The most model calls one task may make (`--max-steps`). */
export const MAX_STEPS_LIMIT = 1000;
export { DEFAULT_MAX_STEPS };

export function isToolName(v: unknown): v is ToolName {
  return typeof v === 'string' && (BUILTIN_TOOLS as readonly string[]).includes(v);
}

/**
 * `--tools shell,read_file`: comma-separated built-in tool names (or `all`), each
 * checked, duplicates dropped, in the order of BUILTIN_TOOLS.
 */
export function parseToolList(text: string, flag = '--tools'): ToolName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) {
    throw new LogosError('INVALID_ARGUMENT', `${flag} needs at least one tool name.`, {
      hint: `Give a list such as \`${flag} shell,read_file\` (built-in tools: ${BUILTIN_TOOLS.join(', ')}), or use --no-tools for a plain chat reply.`,
    });
  }
  if (names.includes('all')) return [...BUILTIN_TOOLS];
  const unknown = names.filter((n) => !isToolName(n));
  if (unknown.length > 0) {
    throw new LogosError('INVALID_ARGUMENT', `Unknown tool${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')} in ${flag}.`, {
      hint: `Built-in tools: ${BUILTIN_TOOLS.join(', ')} (or \`all\`); --no-tools turns them off.`,
      details: { unknown, known: [...BUILTIN_TOOLS] },
    });
  }
  return BUILTIN_TOOLS.filter((t) => names.includes(t));
}

/**
 * The tools a sandbox record allows: a record without the field (made before
 * tools existed) allows all of them; names this version does not know are ignored.
 */
export function sandboxTools(stored: readonly unknown[] | undefined): ToolName[] {
  if (stored === undefined) return [...BUILTIN_TOOLS];
  return BUILTIN_TOOLS.filter((t) => stored.includes(t));
}

export function describeTools(tools: readonly string[]): string {
  return tools.length === 0 ? 'none (plain chat)' : tools.join(', ');
}
