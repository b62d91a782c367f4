/**
 * The `search` tool: a regular expression over file contents, line by line,
 * `path:line: text`, capped. Binary and very large files are skipped and counted.
 */
import { readFile, stat } from 'node:fs/promises';
import { MAX_TOOL_OUTPUT_BYTES } from '../core/protocol.js';
import type { ToolContext, ToolResult } from './tool-defs.js';
import { displayPath, fsError, looksBinary, newWalkReport, resolvePath, walk, type WalkEntry } from './tool-fs.js';
import { walkNotes } from './tool-list-files.js';

export const MAX_MATCHES = 200;
/** Larger files are skipped (and counted): read them in parts with read_file. */
export const MAX_SEARCH_FILE_BYTES = 4 * 1024 * 1024;
const MAX_MATCH_LINE_CHARS = 300;
const BUDGET = MAX_TOOL_OUTPUT_BYTES - 1024;

/** `(?i)` at the start asks for a case-insensitive search (as in grep -P, ripgrep). */
export function compilePattern(pattern: string): RegExp {
  let source = pattern;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  try {
    return new RegExp(source, flags);
  } catch (err) {
    // \p{…} and friends need the unicode flag; anything still invalid is reported.
    try {
      return new RegExp(source, `${flags}u`);
    } catch {
      throw err;
    }
  }
}

export async function searchTool(args: { pattern: string; path?: string | undefined }, ctx: ToolContext): Promise<ToolResult> {
  let re: RegExp;
  try {
    re = compilePattern(args.pattern);
  } catch (err) {
    return { ok: false, text: `invalid regular expression ${JSON.stringify(args.pattern)}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const base = args.path;
  const root = resolvePath(ctx.cwd, base ?? '.');
  let single: boolean;
  try {
    single = !(await stat(root)).isDirectory();
  } catch (err) {
    return { ok: false, text: fsError(err, base ?? '.') };
  }
  const report = newWalkReport();
  const files: AsyncIterable<WalkEntry> | WalkEntry[] = single ? [{ rel: '', abs: root, dir: false }] : walk(root, report);
  const out: string[] = [];
  let bytes = 0;
  let matches = 0;
  let matchedFiles = 0;
  let searched = 0;
  let binary = 0;
  let large = 0;
  let unreadable = 0;
  let capped = false;
  for await (const f of files) {
    if (f.dir) continue;
    const shown = single ? (base ?? root) : displayPath(base, f.rel);
    let buf: Buffer;
    try {
      if ((await stat(f.abs)).size > MAX_SEARCH_FILE_BYTES) {
        large++;
        continue;
      }
      buf = await readFile(f.abs);
    } catch {
      unreadable++;
      continue;
    }
    if (looksBinary(buf)) {
      binary++;
      continue;
    }
    searched++;
    const lines = buf.toString('utf8').split('\n');
    let inFile = 0;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      if (!re.test(line)) continue;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length > MAX_MATCH_LINE_CHARS) line = `${line.slice(0, MAX_MATCH_LINE_CHARS)}…`;
      const entry = `${shown}:${i + 1}: ${line}`;
      const b = Buffer.byteLength(entry) + 1;
      if (matches >= MAX_MATCHES || bytes + b > BUDGET) {
        capped = true;
        break;
      }
      out.push(entry);
      bytes += b;
      matches++;
      inFile++;
    }
    if (inFile > 0) matchedFiles++;
    if (capped) break;
  }
  const notes: string[] = [];
  if (capped) notes.push(`[stopped at ${matches} matching lines: narrow the pattern or the path]`);
  const skipped: string[] = [];
  if (binary > 0) skipped.push(`${binary} binary file${binary === 1 ? '' : 's'}`);
  if (large > 0) skipped.push(`${large} file${large === 1 ? '' : 's'} over ${MAX_SEARCH_FILE_BYTES / (1024 * 1024)} MiB (read them in parts with read_file)`);
  if (unreadable > 0) skipped.push(`${unreadable} unreadable file${unreadable === 1 ? '' : 's'}`);
  if (skipped.length > 0) notes.push(`[skipped: ${skipped.join(', ')}]`);
  notes.push(...walkNotes(report, base, 'search'));
  const summary = matches === 0 ? `no matches for ${JSON.stringify(args.pattern)} (${searched} file${searched === 1 ? '' : 's'} searched)` : `[${matches} matching line${matches === 1 ? '' : 's'} in ${matchedFiles} file${matchedFiles === 1 ? '' : 's'}]`;
  return { ok: true, text: [...out, summary, ...notes].join('\n') };
}
