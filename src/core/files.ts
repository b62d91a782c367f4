import { getSource, inSandbox, putTarget } from './sandbox-paths.js';
import { getSandbox, type SandboxContext } from './sandboxes.js';

/**
 * `logos sandbox put|get`: one file into or out of a sandbox's /sandbox
 * directory. Paths are checked here (see sandbox-paths.ts); the driver copies,
 * never following a link the sandbox planted.
 */

/** `sandbox get` copies at most this much; a larger file is refused, not cut. */
export const MAX_GET_BYTES = 100 * 1024 * 1024;

export interface FileTransfer {
  sandbox: string;
  /** The path inside the sandbox (/sandbox/…). */
  path: string;
  /** The host path. */
  local: string;
  bytes: number;
}

type FilesContext = Pick<SandboxContext, 'sandboxes' | 'driver' | 'logger'>;

export async function putFile(ctx: FilesContext, input: { sandbox: string; local: string; dest?: string }): Promise<FileTransfer> {
  const rec = await getSandbox(ctx, input.sandbox);
  const rel = putTarget(input.dest, input.local);
  const { bytes } = await ctx.driver(rec.driver).putFile(rec, input.local, rel);
  ctx.logger.info('file put into sandbox', { sandbox: rec.name, path: inSandbox(rel), bytes });
  return { sandbox: rec.name, path: inSandbox(rel), local: input.local, bytes };
}

/** `local` is the exact host file to write (the CLI resolves directories and defaults). */
export async function getFile(ctx: FilesContext, input: { sandbox: string; path: string; local: string }, maxBytes = MAX_GET_BYTES): Promise<FileTransfer> {
  const rec = await getSandbox(ctx, input.sandbox);
  const rel = getSource(input.path);
  const { bytes } = await ctx.driver(rec.driver).getFile(rec, rel, input.local, maxBytes);
  ctx.logger.info('file copied out of sandbox', { sandbox: rec.name, path: inSandbox(rel), bytes });
  return { sandbox: rec.name, path: inSandbox(rel), local: input.local, bytes };
}
