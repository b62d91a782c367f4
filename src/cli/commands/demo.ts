import type { Command } from 'commander';
import { startDemoModelServer } from '../../adapters/demo/demo-model-server.js';
import { prepareDemo } from '../../app/sandboxes.js';
import { colors } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app } from '../shared.js';

export function registerDemo(program: Command, env: CommandEnv): void {
  program
    .command('demo')
    .description('Run one task end to end against a built-in DEMO model (no model server needed)')
    .argument('[message...]', 'what to send', ['Hello from the Logos demo'])
    .option('--json', 'print the frames as JSON lines')
    .option('--no-thinking', "hide the demo model's reasoning")
    .addHelpText(
      'after',
      `
Starts a demo OpenAI-compatible server on 127.0.0.1 (canned replies, not a model),
points the route "demo" at it, creates the local sandbox "demo" (bubblewrap) and runs
the task through the real path: sandbox, host-side proxy, worker, frames.
To use a real model instead:
  $ logos route add lmstudio/<model> --default     # LM Studio on :1234
  $ logos route add ollama/<model> --default       # Ollama on :11434
  $ logos run "…"`,
    )
    .action(async (words: string[], opts: { json?: boolean; thinking: boolean }) => {
      if (opts.json) env.json = true;
      const a = await app(env);
      const server = await startDemoModelServer();
      try {
        if (!opts.json && env.io.errTTY) {
          env.io.err.write(colors(env.io, 'err').yellow(`DEMO: a canned model server is answering at ${server.url} (not a real model)\n`));
        }
        await prepareDemo(a, server.url);
        const { runCommand } = await import('./run.js');
        await runCommand(env, words, { sandbox: 'demo', thinking: opts.thinking, ...(opts.json ? { json: true } : {}) });
      } finally {
        await server.close();
      }
    });
}
