import type { Command } from 'commander';
import { LogosError } from '../../core/errors.js';
import { parseWholeNumber } from '../../core/names.js';
import { effectiveRunStatus, type RunRecord } from '../../core/runs.js';
import { describeTools } from '../../core/tools.js';
import { pidAlive } from '../../store/json-file.js';
import { colors, printFields, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

function view(r: RunRecord): Omit<RunRecord, 'status'> & { status: string } {
  return { ...r, status: effectiveRunStatus(r, pidAlive) };
}

export function registerRuns(program: Command, env: CommandEnv): void {
  const runs = program.command('runs').description('Past runs: id, sandbox, route, times, status, usage, error');

  runs
    .command('list')
    .description('List recent runs, newest first')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt & { limit: string }) => {
      setJson(env, opts);
      const n = parseWholeNumber(opts.limit, { flag: '--limit', min: 1, max: 100_000 });
      const a = await app(env);
      const list = (await a.runs.list(n)).map(view);
      if (opts.json) {
        printJson(env.io, list);
        return;
      }
      if (list.length === 0) {
        printLine(env.io, 'No runs yet. Start one with `logos run "…"`.');
        return;
      }
      const c = colors(env.io);
      printLine(
        env.io,
        table(
          list.map((r) => [
            r.id,
            r.status === 'ok' ? c.green('ok') : r.status === 'running' ? 'running' : c.red(r.error?.code ?? r.status),
            r.sandbox,
            r.route,
            r.started_at.replace('T', ' ').slice(0, 19),
            r.duration_ms !== undefined ? `${(r.duration_ms / 1000).toFixed(1)}s` : '-',
          ]),
          ['ID', 'STATUS', 'SANDBOX', 'ROUTE', 'STARTED', 'TOOK'],
        ),
      );
    });

  runs
    .command('show')
    .description('Show one run')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const r = await a.runs.get(id);
      if (!r) throw new LogosError('NOT_FOUND', `No run with id '${id}'.`, { hint: 'See `logos runs list`.' });
      const v = view(r);
      if (opts.json) {
        printJson(env.io, v);
        return;
      }
      const rows: Array<[string, string]> = [
        ['Run', v.id],
        ['Status', v.status],
        ['Sandbox', `${v.sandbox} (${v.driver})`],
        ['Route', `${v.route} → ${v.provider}/${v.model}`],
        ['Started', v.started_at],
        ['Ended', v.ended_at ?? '-'],
        ['Duration', v.duration_ms !== undefined ? `${(v.duration_ms / 1000).toFixed(2)}s` : '-'],
        ['Usage', v.usage ? `${v.usage.input_tokens ?? '?'} in / ${v.usage.output_tokens ?? '?'} out` : '-'],
        ['Prompt', v.prompt_preview],
      ];
      if (v.session) rows.push(['Session', v.session]);
      if (v.tools) rows.push(['Tools', `${describeTools(v.tools)}${v.max_steps ? ` (at most ${v.max_steps} steps)` : ''}`]);
      if (v.steps !== undefined) rows.push(['Steps', String(v.steps)]);
      if (v.tools_used) rows.push(['Tools used', Object.entries(v.tools_used).map(([k, n]) => `${k} ×${n}`).join(', ')]);
      if (v.attachments) rows.push(['Attached', v.attachments.join(', ')]);
      if (v.error) rows.push(['Error', `${v.error.code}: ${v.error.message}`]);
      if (v.error?.hint) rows.push(['Hint', v.error.hint]);
      printFields(env.io, rows, 11);
    });
}
