import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { LogosError } from '../../core/errors.js';

/**
 * Host-side reads of paths a sandbox controls. The worker can plant symlinks
 * (to the key vault, to /dev/zero), FIFOs (a read that never returns) and
 * huge files in its directory, and can swap a checked path for a link between
 * the check and the open. So every read here:
 * - walks the path one component at a time from a directory descriptor
 *   (openat-style, through /proc/self/fd), never following a symlink
 *   (O_NOFOLLOW) and never leaving the sandbox directory ('..' is refused);
 * - opens without blocking (O_NONBLOCK: a FIFO cannot hang the host) and
 *   accepts regular files only;
 * - reads at most a fixed number of bytes.
 */

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

function refuse(rel: string, why: string): LogosError {
  return new LogosError('SANDBOX_UNAVAILABLE', `Refusing to read '${rel}' from the sandbox: ${why}.`, {
    hint: 'Logos reads only regular files inside the sandbox directory; the sandbox may have replaced this path.',
    details: { path: rel, reason: why },
  });
}

function components(rel: string): string[] {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) throw refuse(rel, 'the path leaves the sandbox directory');
  return parts;
}

/**
 * Open `rel` below `root` for reading as described above. Returns the file
 * descriptor and its size, or undefined when the file does not exist.
 */
export function openInside(root: string, rel: string): { fd: number; size: number } | undefined {
  const parts = components(rel);
  let dirFd: number;
  try {
    dirFd = openSync(root, O_RDONLY | O_DIRECTORY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    for (const part of parts.slice(0, -1)) {
      const next = openSync(`/proc/self/fd/${dirFd}/${part}`, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      closeSync(dirFd);
      dirFd = next;
    }
    const fd = openSync(`/proc/self/fd/${dirFd}/${parts.at(-1) as string}`, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      throw refuse(rel, 'it is not a regular file');
    }
    return { fd, size: st.size };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw refuse(rel, 'it is (or passes through) a symbolic link or something other than a directory');
    throw err;
  } finally {
    closeSync(dirFd);
  }
}

/**
 * The last `maxBytes` of a sandbox file (the whole file when smaller), as text.
 * `cut` tells whether earlier bytes were left out.
 */
export function readTailInside(root: string, rel: string, maxBytes: number): { text: string; cut: boolean } | undefined {
  const opened = openInside(root, rel);
  if (!opened) return undefined;
  const { fd, size } = opened;
  try {
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = readSync(fd, buf, got, len - got, size - len + got);
      if (n === 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString('utf8'), cut: size > len };
  } finally {
    closeSync(fd);
  }
}
