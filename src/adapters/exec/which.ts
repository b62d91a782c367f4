import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Resolve a program name on PATH (or check an absolute/relative path). Returns undefined when missing. */
export function findExecutable(name: string, pathEnv: string | undefined = process.env.PATH): string | undefined {
  const candidates = name.includes('/') ? [name] : (pathEnv ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return isAbsolute(c) ? c : join(process.cwd(), c);
    } catch {
      // keep looking
    }
  }
  return undefined;
}
