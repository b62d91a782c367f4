import type { App } from '../app/context.js';
import type { CommandEnv } from './main.js';

/** Build the app once per process (lazily: --help never touches the disk). */
let cached: App | undefined;

export async function app(env: CommandEnv): Promise<App> {
  if (!cached) {
    const { createApp } = await import('../app/context.js');
    cached = createApp(process.env);
  }
  env.logDir = cached.paths.logs;
  return cached;
}

/** Options every command takes. */
export interface JsonOpt {
  json?: boolean;
}

export function setJson(env: CommandEnv, opts: JsonOpt): void {
  if (opts.json) env.json = true;
}

/**
 * Run work that stops cleanly on Ctrl-C / SIGTERM through env.signal (a task:
 * its worker is stopped and the run recorded as cancelled). Outside such work
 * the first signal ends the command at once (see main.ts).
 */
export async function cancellable<T>(env: CommandEnv, fn: () => Promise<T>): Promise<T> {
  env.cancellable += 1;
  try {
    return await fn();
  } finally {
    env.cancellable -= 1;
  }
}
