/**
 * The `read_file` tool: a text file with line numbers, read as a stream so a
 * part of a huge file costs only what is read. Whole files over
 * READ_WHOLE_FILE_MAX_BYTES and binary files are refused with a way forward.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { MAX_TOOL_OUTPUT_BYTES } from '../core/protocol.js';
import { READ_DEFAULT_LINES, READ_WHOLE_FILE_MAX_BYTES, type ToolContext, type ToolResult } from './tool-defs.js';
import { fsError, looksBinary, resolvePath } from './tool-fs.js';

/** A longer line is shown cut, with its length. */
export const MAX_LINE_CHARS = 2000;
/** Room left in the result for the closing note. */
const BUDGET = MAX_TOOL_OUTPUT_BYTES - 512;

function showLine(n: number, line: string): string {
  let text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.length > MAX_LINE_CHARS) text = `${text.slice(0, MAX_LINE_CHARS)}… [line cut: ${text.length} characters]`;
  return `${String(n).padStart(6)}\t${text}\n`;
}

export async function readFileTool(args: { path: string; offset?: number | undefined; limit?: number | undefined }, ctx: ToolContext): Promise<ToolResult> {
  const abs = resolvePath(ctx.cwd, args.path);
  let size: number;
  try {
    const st = await stat(abs);
    if (st.isDirectory()) return { ok: false, text: `${args.path} is a directory: use list_files to see what it holds` };
    size = st.size;
  } catch (err) {
    return { ok: false, text: fsError(err, args.path) };
  }
  const partial = args.offset !== undefined || args.limit !== undefined;
  if (!partial && size > READ_WHOLE_FILE_MAX_BYTES) {
    return {
      ok: false,
      text: `${args.path} is ${size} bytes, over the ${READ_WHOLE_FILE_MAX_BYTES / 1024} KiB read at once: read it in parts with offset and limit (in lines), or find what you need with search`,
    };
  }
  const first = Math.max(1, Math.trunc(args.offset ?? 1));
  const count = args.limit !== undefined && args.limit > 0 ? Math.trunc(args.limit) : READ_DEFAULT_LINES;

  const stream = createReadStream(abs);
  const decoder = new StringDecoder('utf8');
  let out = '';
  let bytes = 0;
  let lineNo = 0;
  let last = 0;
  /** Lines exist after the last one shown. */
  let more = false;
  let full = false;
  let carry = '';
  let checked = false;
  const take = (line: string): boolean => {
    lineNo++;
    if (lineNo < first) return true;
    if (last - first + 1 >= count || full) {
      more = true;
      return !partial; // a whole read counts on to give the total
    }
    const shown = showLine(lineNo, line);
    const b = Buffer.byteLength(shown);
    if (bytes + b > BUDGET) {
      full = more = true;
      return !partial;
    }
    out += shown;
    bytes += b;
    last = lineNo;
    return true;
  };
  try {
    reading: for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!checked) {
        checked = true;
        if (looksBinary(chunk)) return { ok: false, text: `${args.path} looks binary (it has NUL bytes): not shown; inspect it with shell (e.g. file, xxd | head)` };
      }
      const lines = (carry + decoder.write(chunk)).split('\n');
      carry = lines.pop() ?? '';
      // One endless line must not fill memory: only its beginning can be shown.
      if (carry.length > 4 * MAX_LINE_CHARS) carry = carry.slice(0, 4 * MAX_LINE_CHARS);
      for (const line of lines) if (!take(line)) break reading;
    }
    if (!more || !partial) {
      carry += decoder.end();
      if (carry !== '') take(carry);
    }
  } catch (err) {
    return { ok: false, text: fsError(err, args.path) };
  } finally {
    stream.destroy();
  }
  if (lineNo === 0) return { ok: true, text: `(${args.path} is empty)` };
  if (last === 0) return { ok: false, text: `${args.path} has ${lineNo} lines: offset ${first} is past the end` };
  if (!more) return { ok: true, text: out };
  const total = partial ? '' : ` of ${lineNo}`;
  return { ok: true, text: `${out}[lines ${first}–${last}${total} shown; the file goes on: read on with offset=${last + 1}]` };
}
