import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files Logos ships beside its code (package.json, the worker bundle, policies).
 * Found from the package root, the nearest directory above this module with
 * Logos' package.json, so they resolve the same whether the code runs as
 * separate modules (dist/…) or as one bundle.
 */

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'logos') return (root = dir);
      } catch {
        // not ours: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('Logos could not find its own package.json above its code');
    dir = up;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The worker bundle built by `npm run build`. */
export function bundledWorkerFile(): string {
  return join(packageRoot(), 'dist', 'worker', 'logos-worker.mjs');
}

/** A file under policies/. */
export function policyFile(name: string): string {
  return join(packageRoot(), 'policies', name);
}

/** templates/personas/: one Markdown file per persona (`<name>.md`). */
export function personasDir(): string {
  return join(packageRoot(), 'templates', 'personas');
}

/** A file under templates/ (the sandbox Dockerfile, provider profiles). */
export function templateFile(name: string): string {
  return join(packageRoot(), 'templates', name);
}
