/**
 * The `list_files` tool: a recursive listing, capped, that says what it left
 * out (the cap, directories it did not enter, directories it could not read).
 */
import { stat } from 'node:fs/promises';
import type { ToolContext, ToolResult } from './tool-defs.js';
import { displayPath, fsError, globMatcher, newWalkReport, resolvePath, walk, type WalkReport } from './tool-fs.js';

export const MAX_LIST_ENTRIES = 1000;

/** The notes every walking tool adds: nothing is skipped silently. */
export function walkNotes(report: WalkReport, base: string | undefined, verb: string): string[] {
  const notes: string[] = [];
  if (report.notEntered.length > 0) {
    const dirs = report.notEntered.slice(0, 10).map((d) => `${displayPath(base, d)}/`);
    const more = report.notEntered.length > 10 ? ` and ${report.notEntered.length - 10} more` : '';
    notes.push(`[not entered: ${dirs.join(', ')}${more}; pass one as path to ${verb} it]`);
  }
  if (report.unreadable.length > 0) {
    notes.push(`[could not read: ${report.unreadable.slice(0, 10).map((d) => displayPath(base, d)).join(', ')}${report.unreadable.length > 10 ? ' …' : ''}]`);
  }
  if (report.stopped) notes.push(`[stopped after ${report.visited} entries: pass a narrower path]`);
  return notes;
}

export async function listFilesTool(args: { path?: string | undefined; pattern?: string | undefined }, ctx: ToolContext): Promise<ToolResult> {
  const base = args.path;
  const root = resolvePath(ctx.cwd, base ?? '.');
  try {
    const st = await stat(root);
    if (!st.isDirectory()) return { ok: true, text: base ?? root };
  } catch (err) {
    return { ok: false, text: fsError(err, base ?? '.') };
  }
  let match: ((rel: string) => boolean) | undefined;
  if (args.pattern !== undefined && args.pattern !== '') {
    try {
      match = globMatcher(args.pattern);
    } catch (err) {
      return { ok: false, text: `invalid pattern ${JSON.stringify(args.pattern)}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  const report = newWalkReport();
  const lines: string[] = [];
  let matched = 0;
  for await (const e of walk(root, report)) {
    if (match && !match(e.rel)) continue;
    matched++;
    if (lines.length < MAX_LIST_ENTRIES) lines.push(`${displayPath(base, e.rel)}${e.dir ? '/' : ''}`);
  }
  const notes: string[] = [];
  if (matched > lines.length) notes.push(`[${matched - lines.length} more entries not shown (at most ${MAX_LIST_ENTRIES}): narrow the path or the pattern]`);
  notes.push(...walkNotes(report, base, 'list'));
  if (lines.length === 0) lines.push(match ? `(nothing matches ${args.pattern})` : '(empty directory)');
  return { ok: true, text: [...lines, ...notes].join('\n') };
}
