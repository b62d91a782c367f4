import { LogosError } from './errors.js';

/**
 * Paths inside a sandbox, as `sandbox put/get` and `run --attach` take them. Every
 * sandbox has one persistent, writable directory, /sandbox; paths are relative to
 * it or absolute below it. Anything that would leave it (`..`, another absolute
 * path) is refused, never mapped. Pure: the drivers do the IO.
 */

export const SANDBOX_ROOT = '/sandbox';
/** Where `logos run --attach` puts files, relative to /sandbox. */
export const ATTACHMENTS_DIR = 'attachments';
/** Logos' own files in the sandbox (worker log, OpenShell worker bundle): never written by put. */
export const RESERVED_DIR = '.logos';

function invalid(p: string, why: string, hint = 'Give a path inside /sandbox, e.g. `notes/todo.md` or `/sandbox/notes/todo.md`.'): LogosError {
  return new LogosError('INVALID_ARGUMENT', `The sandbox path '${p.replace(/[\u0000-\u001f\u007f]/g, '?')}' ${why}.`, { hint, details: { path: p } });
}

/**
 * The path below /sandbox that `p` names, as `a/b` ('' for /sandbox itself).
 * Relative paths are relative to /sandbox.
 */
export function sandboxRelative(p: string): string {
  if (/[\u0000-\u001f\u007f]/.test(p)) throw invalid(p, 'contains control characters');
  let rest = p;
  if (p.startsWith('/')) {
    if (p !== SANDBOX_ROOT && !p.startsWith(`${SANDBOX_ROOT}/`)) throw invalid(p, 'is outside /sandbox, the only directory Logos reads and writes in a sandbox');
    rest = p.slice(SANDBOX_ROOT.length);
  }
  const parts = rest.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw invalid(p, 'leaves /sandbox (".." is not allowed)');
  return parts.join('/');
}

/** `/sandbox/<rel>` */
export function inSandbox(rel: string): string {
  return rel === '' ? SANDBOX_ROOT : `${SANDBOX_ROOT}/${rel}`;
}

/** The last component of a host path (no IO). */
export function baseName(p: string): string {
  return p.replace(/\/+$/, '').split('/').pop() ?? '';
}

/**
 * Where `sandbox put LOCAL [DEST]` writes: DEST itself, or `DEST/<name of LOCAL>` when
 * DEST is /sandbox, ends with '/', or is left out. Logos' own directory is refused.
 */
export function putTarget(dest: string | undefined, localPath: string): string {
  const name = baseName(localPath);
  if (name === '' || name === '.' || name === '..') throw invalid(localPath, 'does not name a file');
  const rel = dest === undefined ? '' : sandboxRelative(dest);
  const target = dest === undefined || rel === '' || dest.endsWith('/') ? (rel === '' ? name : `${rel}/${name}`) : rel;
  if (target.split('/')[0] === RESERVED_DIR) {
    throw invalid(inSandbox(target), `is inside ${inSandbox(RESERVED_DIR)}, which holds Logos' own files`, 'Pick another destination.');
  }
  return target;
}

/** A file to read from the sandbox (not /sandbox itself). */
export function getSource(p: string): string {
  const rel = sandboxRelative(p);
  if (rel === '') throw invalid(p, 'is the sandbox directory itself; `sandbox get` copies one file', 'Name a file, e.g. `logos sandbox get NAME report.md`.');
  return rel;
}

/** The sandbox paths of files attached to a task (`run --attach`); two files with one name are refused. */
export function attachmentTargets(localPaths: readonly string[]): string[] {
  const seen = new Set<string>();
  return localPaths.map((p) => {
    const rel = putTarget(`${ATTACHMENTS_DIR}/`, p);
    if (seen.has(rel)) {
      throw new LogosError('INVALID_ARGUMENT', `Two attachments are named '${baseName(p)}'.`, {
        hint: `Attachments land in ${inSandbox(ATTACHMENTS_DIR)}/ under their own names; rename one of them.`,
      });
    }
    seen.add(rel);
    return rel;
  });
}

/** The line appended to the user's message so the model knows where its attachments are. */
export function attachmentNote(rels: readonly string[]): string {
  return `[Attached file${rels.length > 1 ? 's' : ''}, in the sandbox: ${rels.map(inSandbox).join(', ')}]`;
}
