import { constants } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LogosError } from '../core/errors.js';

/**
 * Host-side ends of `sandbox put/get`: the user's own files, read and written
 * as the user named them (links on the host side are the user's and are followed
 * for reading); a file written here appears only once complete (temp + rename).
 */

const CHUNK = 1024 * 1024;

/** Open a host file to copy into a sandbox: a regular file, opened without blocking (a FIFO cannot hang us). */
export async function openHostFile(path: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new LogosError('INVALID_ARGUMENT', `Cannot read ${path}: ${code}.`, { hint: 'Check the path of the file to copy.', details: { path, errno: code } });
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new LogosError('INVALID_ARGUMENT', `${path} is not a regular file.`, {
      hint: st.isDirectory() ? 'Copy one file at a time (for a directory: `tar czf dir.tgz dir` first).' : 'Give a regular file.',
    });
  }
  return { fh, size: st.size };
}

/** Copy from one handle to another; stops with an error once more than maxBytes came. */
export async function copyHandle(from: FileHandle, to: FileHandle, maxBytes = Infinity, tooLarge?: () => LogosError): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  let total = 0;
  for (;;) {
    const { bytesRead } = await from.read(buf, 0, CHUNK, null);
    if (bytesRead === 0) return total;
    total += bytesRead;
    if (total > maxBytes) throw tooLarge ? tooLarge() : new LogosError('INVALID_ARGUMENT', `The file is larger than ${maxBytes} bytes.`);
    let off = 0;
    while (off < bytesRead) off += (await to.write(buf, off, bytesRead - off)).bytesWritten;
  }
}

/**
 * Write the host file `localFile` through `fill` into a temp file beside it, then
 * rename it into place: an interrupted copy never leaves half a file under the
 * name asked for. The directory must exist; a directory at `localFile` is refused.
 */
export async function writeHostFile(localFile: string, fill: (fh: FileHandle) => Promise<number>): Promise<number> {
  const dir = dirname(localFile);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('ENOTDIR');
  } catch {
    throw new LogosError('INVALID_ARGUMENT', `The directory ${dir} does not exist.`, { hint: 'Create it first, or give another local path.' });
  }
  const existing = await stat(localFile).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new LogosError('INVALID_ARGUMENT', `${localFile} is a directory.`, { hint: 'Name a file, or end the path with "/" to copy into the directory.' });
  }
  const tmp = join(dir, `.${basename(localFile)}.logos-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  let bytes: number;
  try {
    bytes = await fill(fh);
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  try {
    await rename(tmp, localFile);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  return bytes;
}
