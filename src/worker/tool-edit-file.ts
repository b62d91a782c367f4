/** The `edit_file` tool: one exact, unique occurrence of `old` replaced by `new`. */
import { readFile, writeFile } from 'node:fs/promises';
import type { ToolContext, ToolResult } from './tool-defs.js';
import { fsError, resolvePath } from './tool-fs.js';

/** Non-overlapping occurrences of `needle`, and where the first one is. */
function occurrences(text: string, needle: string): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) {
    if (count === 0) first = i;
    count++;
  }
  return { count, first };
}

export async function editFileTool(args: { path: string; old: string; new: string }, ctx: ToolContext): Promise<ToolResult> {
  if (args.old === '') return { ok: false, text: 'old is empty: give the exact text to replace (write_file creates or replaces a whole file)' };
  if (args.old === args.new) return { ok: false, text: 'old and new are the same: nothing to change' };
  const abs = resolvePath(ctx.cwd, args.path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    return { ok: false, text: fsError(err, args.path) };
  }
  let oldText = args.old;
  let newText = args.new;
  let found = occurrences(text, oldText);
  if (found.count === 0 && text.includes('\r\n') && !oldText.includes('\r')) {
    // read_file shows CRLF lines without their \r: match them as the file has them.
    oldText = oldText.replace(/\n/g, '\r\n');
    newText = newText.replace(/\r?\n/g, '\r\n');
    found = occurrences(text, oldText);
  }
  if (found.count === 0) {
    return { ok: false, text: `old text not found in ${args.path}: it must match exactly, whitespace and indentation included (read the file again to see its current text)` };
  }
  if (found.count > 1) {
    return { ok: false, text: `old text found ${found.count} times in ${args.path}: include more of the surrounding lines so that it matches exactly once` };
  }
  // Slices, not String.replace: `$&` and friends in the new text are literal.
  const updated = text.slice(0, found.first) + newText + text.slice(found.first + oldText.length);
  try {
    await writeFile(abs, updated, 'utf8');
  } catch (err) {
    return { ok: false, text: fsError(err, args.path) };
  }
  const line = text.slice(0, found.first).split('\n').length;
  return { ok: true, text: `replaced 1 occurrence in ${args.path} at line ${line} (now ${Buffer.byteLength(updated)} bytes)` };
}
