import type { Command } from 'commander';
import { printJson, printLine } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

export function registerDebug(program: Command, env: CommandEnv): void {
  const debug = program.command('debug').description('Diagnostics: where Logos keeps its files and its log');
  debug
    .command('path')
    .description('Print the unified log file and the config, state and data directories')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const p = a.paths;
      if (opts.json) {
        printJson(env.io, { log: p.logFile, config: p.config, state: p.state, data: p.data, runtime: p.runtime });
        return;
      }
      printLine(env.io, p.logFile);
      if (env.io.isTTY) {
        printLine(env.io, `config  ${p.config}`);
        printLine(env.io, `state   ${p.state}`);
        printLine(env.io, `data    ${p.data}`);
      }
    });
}
