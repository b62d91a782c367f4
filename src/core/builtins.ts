import { createRequire } from 'node:module';

/**
 * A Node built-in module loaded the first time it is used, not when the module that needs it
 * loads: node:crypto, node:https and node:http cost a few milliseconds each at start-up, and
 * most commands never use them. (An `import()` would make the callers async, and the CLI
 * bundle, compiled by vm.Script, cannot import().) Loading a built-in is not IO.
 */
const requireBuiltin = createRequire(import.meta.url);

export function lazyBuiltin<T>(name: `node:${string}`): () => T {
  let mod: T | undefined;
  return () => (mod ??= requireBuiltin(name) as T);
}
