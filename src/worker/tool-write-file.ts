/** The `write_file` tool: the whole content of a file, parent directories created. */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ToolContext, ToolResult } from './tool-defs.js';
import { fsError, resolvePath } from './tool-fs.js';

export async function writeFileTool(args: { path: string; content: string }, ctx: ToolContext): Promise<ToolResult> {
  const abs = resolvePath(ctx.cwd, args.path);
  let before: number | undefined;
  try {
    before = (await stat(abs)).size;
  } catch {
    before = undefined;
  }
  try {
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, args.content, 'utf8');
  } catch (err) {
    return { ok: false, text: fsError(err, args.path) };
  }
  const bytes = Buffer.byteLength(args.content);
  return { ok: true, text: `wrote ${bytes} bytes to ${args.path}${before === undefined ? ' (new file)' : ` (replacing ${before} bytes)`}` };
}
