import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
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
 * Writes (`sandbox put`, `run --attach`) walk the same way, create missing
 * directories in the directory they were found in, write a temp file in the final
 * directory and rename it within that directory: nothing is written through a link,
 * and a non-regular file in the way is refused, never replaced.
 */

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY, O_WRONLY, O_CREAT, O_EXCL } = constants;

function refuse(rel: string, why: string, verb: 'read' | 'write' = 'read'): LogosError {
  return new LogosError('SANDBOX_UNAVAILABLE', `Refusing to ${verb} '${rel}' ${verb === 'read' ? 'from' : 'in'} the sandbox: ${why}.`, {
    hint: `Logos ${verb === 'read' ? 'reads' : 'writes'} only regular files inside the sandbox directory, never through a link; the sandbox may have replaced this path.`,
    details: { path: rel, reason: why },
  });
}

const THROUGH_LINK = 'it is (or passes through) a symbolic link or something other than a directory';

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
    if (code === 'ELOOP' || code === 'ENOTDIR') throw refuse(rel, THROUGH_LINK);
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

const at = (dirFd: number, name: string): string => `/proc/self/fd/${dirFd}/${name}`;

/**
 * The directory `parts` names below the directory open as `dirFd`, created where
 * missing, never through a link. Closes dirFd; returns the new descriptor.
 */
function walkDirs(dirFd: number, parts: string[], rel: string): number {
  let fd = dirFd;
  try {
    for (const part of parts) {
      let next: number;
      try {
        next = openSync(at(fd, part), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // mkdir never follows a link in its last component; a race that puts one there fails the open below.
        try {
          mkdirSync(at(fd, part), 0o755);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        next = openSync(at(fd, part), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      }
      closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (err) {
    closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw refuse(rel, THROUGH_LINK, 'write');
    throw err;
  }
}

/**
 * Write `rel` below `root` with what `fill` writes into a new file: directories on
 * the way are created, the data goes to a temp file in the final directory (created
 * with O_EXCL|O_NOFOLLOW) and is renamed over `rel` within that directory. A
 * directory at `rel` is an INVALID_ARGUMENT; a link, FIFO or device is refused.
 */
export async function writeInside(root: string, rel: string, fill: (fh: FileHandle) => Promise<number>): Promise<number> {
  const parts = components(rel);
  const name = parts.at(-1) as string;
  const dirFd = walkDirs(openSync(root, O_RDONLY | O_DIRECTORY), parts.slice(0, -1), rel);
  try {
    let existing;
    try {
      existing = lstatSync(at(dirFd, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (existing?.isDirectory()) {
      throw new LogosError('INVALID_ARGUMENT', `'${rel}' is a directory in the sandbox.`, {
        hint: 'End the destination with "/" to put the file inside that directory.',
        details: { path: rel },
      });
    }
    if (existing && !existing.isFile()) throw refuse(rel, 'a symbolic link or other non-regular file is in the way', 'write');
    const tmp = `.${name.slice(0, 100)}.logos-put-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    const fh = await open(at(dirFd, tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    let bytes: number;
    try {
      bytes = await fill(fh);
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(at(dirFd, tmp)).catch(() => {});
      throw err;
    }
    try {
      // Within one directory: replaces the name (a link planted meanwhile included), never writes through it.
      await rename(at(dirFd, tmp), at(dirFd, name));
    } catch (err) {
      await unlink(at(dirFd, tmp)).catch(() => {});
      if ((err as NodeJS.ErrnoException).code === 'EISDIR' || (err as NodeJS.ErrnoException).code === 'ENOTEMPTY') {
        throw refuse(rel, 'a directory appeared in the way', 'write');
      }
      throw err;
    }
    return bytes;
  } finally {
    closeSync(dirFd);
  }
}

/**
 * Open `rel` below `root` to copy it out: a regular file, reached without
 * following links. Missing: NOT_FOUND; a directory: INVALID_ARGUMENT; other
 * non-regular files and links: refused.
 */
export function openFileInside(root: string, rel: string, sandbox: string): { fd: number; size: number } {
  const parts = components(rel);
  const dirFd = openSync(root, O_RDONLY | O_DIRECTORY);
  let fd: number | undefined;
  try {
    let dir = dirFd;
    try {
      for (const part of parts.slice(0, -1)) {
        const next = openSync(at(dir, part), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (dir !== dirFd) closeSync(dir);
        dir = next;
      }
      fd = openSync(at(dir, parts.at(-1) as string), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } finally {
      if (dir !== dirFd) closeSync(dir);
    }
    const st = fstatSync(fd);
    if (st.isDirectory()) {
      throw new LogosError('INVALID_ARGUMENT', `'/sandbox/${rel}' is a directory; \`sandbox get\` copies one file.`, {
        hint: `Pack it in the sandbox first, e.g. \`logos run --sandbox ${sandbox} "tar czf out.tgz ${rel}"\`, then get out.tgz.`,
      });
    }
    if (!st.isFile()) throw refuse(rel, 'it is not a regular file');
    const out = { fd, size: st.size };
    fd = undefined;
    return out;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new LogosError('NOT_FOUND', `No file '/sandbox/${rel}' in sandbox '${sandbox}'.`, { hint: `Check the path; files a task wrote are below /sandbox.` });
    }
    if (code === 'ELOOP' || code === 'ENOTDIR') throw refuse(rel, THROUGH_LINK);
    throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
    closeSync(dirFd);
  }
}
