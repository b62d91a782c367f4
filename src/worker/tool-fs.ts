/**
 * What the file tools share: paths relative to the sandbox, error texts a model
 * can act on, the binary test, a bounded directory walk and glob patterns.
 */
import { opendir } from 'node:fs/promises';
import { isAbsolute, join, posix, resolve } from 'node:path';

/** Relative paths start at the sandbox (the worker's cwd); absolute ones are taken as they are. */
export function resolvePath(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** A file system error as one sentence naming the path. */
export function fsError(err: unknown, path: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return `no such file or directory: ${path}`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${path}`;
    case 'EISDIR':
      return `${path} is a directory`;
    case 'ENOTDIR':
      return `a part of ${path} is not a directory`;
    case 'EROFS':
      return `${path} is on a read-only file system`;
    case 'ENOSPC':
      return `no space left on the device for ${path}`;
    default:
      return `${path}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Git's test: a NUL byte in the first 8 KiB means binary. */
export function looksBinary(head: Uint8Array): boolean {
  return head.subarray(0, 8192).includes(0);
}

/** Directories listed but not entered unless asked for by path: they are huge and rarely wanted. */
export const NOT_ENTERED = new Set(['.git', 'node_modules']);
/** Entries a walk looks at before it stops (and says so). */
export const MAX_WALK_ENTRIES = 100_000;

export interface WalkEntry {
  /** Path relative to the walk's root, with / separators. */
  rel: string;
  abs: string;
  dir: boolean;
}

export interface WalkReport {
  /** Directories listed but not entered (NOT_ENTERED). */
  notEntered: string[];
  /** Directories that could not be read. */
  unreadable: string[];
  /** The walk stopped at MAX_WALK_ENTRIES. */
  stopped: boolean;
  visited: number;
}

export function newWalkReport(): WalkReport {
  return { notEntered: [], unreadable: [], stopped: false, visited: 0 };
}

/** Depth first, names sorted, each directory followed by its contents; symlinks are not followed. */
export function walk(root: string, report: WalkReport, max = MAX_WALK_ENTRIES): AsyncGenerator<WalkEntry> {
  return walkDir(root, '', report, max);
}

async function* walkDir(abs: string, rel: string, report: WalkReport, max: number): AsyncGenerator<WalkEntry> {
  const names: Array<{ name: string; dir: boolean }> = [];
  try {
    for await (const d of await opendir(abs)) names.push({ name: d.name, dir: d.isDirectory() });
  } catch {
    report.unreadable.push(rel || '.');
    return;
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const n of names) {
    if (report.visited >= max) {
      report.stopped = true;
      return;
    }
    report.visited++;
    const childRel = rel ? `${rel}/${n.name}` : n.name;
    const childAbs = join(abs, n.name);
    yield { rel: childRel, abs: childAbs, dir: n.dir };
    if (!n.dir) continue;
    if (NOT_ENTERED.has(n.name)) report.notEntered.push(childRel);
    else yield* walkDir(childAbs, childRel, report, max);
  }
}

/** How a path is shown: under the path the model gave (so it can be passed back as is). */
export function displayPath(base: string | undefined, rel: string): string {
  if (!base || base === '.' || base === './') return rel;
  return posix.join(base.replace(/\\/g, '/'), rel);
}

/**
 * A glob as a RegExp over a relative path: `**` any number of directories, `*` and `?`
 * within one name, `[…]` classes, `{a,b}` alternatives.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      depth++;
      re += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      re += ')';
    } else if (c === ',' && depth > 0) re += '|';
    else re += c.replace(/[.+^$()|\\/]/g, '\\$&');
  }
  while (depth-- > 0) re += ')';
  return new RegExp(`^${re}$`);
}

/** A pattern without a slash matches names at any depth (`*.py`), as models expect. */
export function globMatcher(pattern: string): (rel: string) => boolean {
  const re = globToRegExp(pattern.replace(/^\.\//, ''));
  if (pattern.includes('/')) return (rel) => re.test(rel);
  return (rel) => re.test(rel.slice(rel.lastIndexOf('/') + 1));
}
