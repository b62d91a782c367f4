import type { Command } from 'commander';
import { LogosError } from '../../core/errors.js';
import { countTurns, messagesBytes, validateSessionName } from '../../core/sessions.js';
import { colors, formatBytes, printFields, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { historyLines } from '../renderer.js';
import { app, setJson, type JsonOpt } from '../shared.js';

function notFound(name: string): LogosError {
  return new LogosError('NOT_FOUND', `No session named '${name}'.`, {
    hint: 'See `logos sessions list`; a session starts with `logos run --session NAME "…"` or `logos chat`.',
  });
}

export function registerSessions(program: Command, env: CommandEnv): void {
  const cmd = program.command('sessions').description('Conversations kept by Logos (`run --session`, `chat`): list, show, delete');

  cmd
    .command('list')
    .description('List sessions, most recently used first')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const { sessions, damaged } = await a.sessions.list();
      sessions.sort((x, y) => y.updated_at.localeCompare(x.updated_at));
      for (const d of damaged) env.io.err.write(colors(env.io, 'err').yellow(`! session ${d.name}: ${d.error.message}${d.error.hint ? ` ${d.error.hint}` : ''}\n`));
      if (opts.json) {
        printJson(
          env.io,
          sessions.map((s) => ({ ...s, messages: s.messages.length, turns: countTurns(s.messages), bytes: messagesBytes(s.messages) })),
        );
        return;
      }
      if (sessions.length === 0) {
        printLine(env.io, 'No sessions yet. Start one with `logos chat` or `logos run --session NAME "…"`.');
        return;
      }
      printLine(
        env.io,
        table(
          sessions.map((s) => [s.name, s.sandbox, String(countTurns(s.messages)), String(s.runs), formatBytes(messagesBytes(s.messages)), s.updated_at.replace('T', ' ').slice(0, 19)]),
          ['NAME', 'SANDBOX', 'TURNS', 'RUNS', 'SIZE', 'UPDATED'],
        ),
      );
    });

  cmd
    .command('show')
    .description('Show a session: its sandbox, and its turns with one line per tool call')
    .argument('<name>')
    .option('--json', 'print JSON (the whole history)')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      validateSessionName(name);
      const a = await app(env);
      const s = await a.sessions.get(name);
      if (!s) throw notFound(name);
      if (opts.json) {
        printJson(env.io, s);
        return;
      }
      printFields(env.io, [
        ['Session', s.name],
        ['Sandbox', `${s.sandbox} (route ${s.route})`],
        ['Turns', `${countTurns(s.messages)} (${s.messages.length} messages, ${formatBytes(messagesBytes(s.messages))}${s.trimmed_messages > 0 ? `; ${s.trimmed_messages} older messages trimmed` : ''})`],
        ['Runs', `${s.runs}${s.last_run ? ` (last: ${s.last_run})` : ''}`],
        ['Created', s.created_at],
        ['Updated', s.updated_at],
      ]);
      printLine(env.io);
      for (const l of historyLines(s.messages, env.io.out.columns || 100, colors(env.io))) printLine(env.io, l);
    });

  cmd
    .command('delete')
    .description('Delete a session (its history; runs and sandbox stay)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      validateSessionName(name);
      const a = await app(env);
      if (!(await a.sessions.remove(name))) throw notFound(name);
      if (opts.json) printJson(env.io, { ok: true, deleted: name });
      else printLine(env.io, `${colors(env.io).green('✓')} Deleted session ${name}`);
    });
}
