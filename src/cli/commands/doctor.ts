import type { Command } from 'commander';
import { fixTokenMode, liveDaemon, tokenMode } from '../../daemon/files.js';
import { resolvePaths } from '../../store/paths.js';
import { colors, printJson, printLine } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';
import { stripControls } from '../../core/text.js';

export function registerDoctor(program: Command, env: CommandEnv): void {
  program
    .command('doctor')
    .description('Check Node, bubblewrap, openshell, docker, directories, key and token modes, the daemon, gateways and providers')
    .option('--fix', 'repair what can be repaired safely (file modes)')
    .option('--network', 'probe the providers now (default: their cached results)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nEach check is OK, WARN or FAIL, with a reason code and the command that fixes it.\nExit code 1 when a check fails (WARN does not).\n\nExamples:\n  $ logos doctor\n  $ logos doctor --fix\n  $ logos doctor --json | jq \'.checks[] | select(.status != "OK")\'')
    .action(async (opts: JsonOpt & { fix?: boolean; network?: boolean }) => {
      setJson(env, opts);
      const paths = resolvePaths();
      const daemon = liveDaemon(paths.daemonPidFile);
      const a = await app(env);
      const { runDoctor } = await import('../../app/doctor.js');
      const mode = tokenMode(paths.daemonTokenFile);
      const report = await runDoctor(a, {
        ...(opts.fix ? { fix: true } : {}),
        ...(opts.network ? { network: true } : {}),
        daemon: { running: !!daemon, tokenFile: paths.daemonTokenFile, ...(mode !== undefined ? { tokenMode: mode } : {}), fixTokenMode: () => fixTokenMode(paths.daemonTokenFile) },
      });
      if (!report.ok) env.exitCode = 1;
      if (opts.json) {
        printJson(env.io, report);
        return;
      }
      const c = colors(env.io);
      const mark = { OK: c.green('OK  '), WARN: c.yellow('WARN'), FAIL: c.red('FAIL') } as const;
      for (const ch of report.checks) {
        printLine(env.io, `${mark[ch.status]} ${ch.check.padEnd(22)} ${stripControls(ch.message)}${ch.status !== 'OK' ? c.dim(` [${ch.code}]`) : ''}`);
        if (ch.status !== 'OK' && ch.fix) printLine(env.io, `     ${c.dim('fix:')} ${stripControls(ch.fix)}`);
      }
    });
}
