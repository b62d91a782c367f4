import { prestart } from '../adapters/local/prestart.js';
import { envValue, resolvePaths } from '../store/paths.js';

/**
 * What bin/logos.js runs for `logos run` before the CLI bundle loads (bundled on its own
 * into dist/bundle/prestart.cjs, kept small): the sandbox the last such run started, started
 * again now (adapters/local/prestart.ts). `LOGOS_PRESTART=0` turns it off. Never throws.
 */
export function prestartRun(args: string[], env: NodeJS.ProcessEnv = process.env): void {
  try {
    if (envValue('LOGOS_PRESTART', env) === '0') return;
    prestart(args, resolvePaths(env));
  } catch {
    // the CLI starts its sandbox as usual
  }
}
