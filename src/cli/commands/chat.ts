import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { EXIT_CODES, LogosError, toLogosError } from '../../core/errors.js';
import { openSession } from '../../core/run-task.js';
import { countTurns, newSessionName, validateSessionName } from '../../core/sessions.js';
import type { App } from '../../app/context.js';
import { colors, type Io } from '../io.js';
import type { CommandEnv } from '../main.js';
import { renderError } from '../render-error.js';
import { app, cancellable, setJson, type JsonOpt } from '../shared.js';
import { addTurnOptions, executeRun, parseTurnOptions, type TurnOpts } from './run.js';

/**
 * `logos chat`: a conversation on a terminal. Each line is one run in a session
 * (the same path as `logos run --session`); Ctrl-C cancels the turn that is
 * running, not the chat.
 */

export function registerChat(program: Command, env: CommandEnv): void {
  const cmd = program.command('chat').description('Talk with the agent on a terminal: each line you type is one run in a session');
  addTurnOptions(cmd)
    .option('--json', 'not available: chat is interactive (use `logos run --session NAME --json`)')
    .addHelpText(
      'after',
      `
Examples:
  $ logos chat                                  # a new session (its name is printed)
  $ logos chat --session review                 # start or continue the session "review"
  $ logos chat --sandbox work --persona coder --tools read_file,list_files,search

In the chat: /new starts a fresh session, /help lists the commands, /exit (or Ctrl-D)
leaves. Ctrl-C cancels the turn that is running; at the prompt, press it twice to leave.
Needs a terminal; in scripts use \`logos run --session NAME "…"\` (one turn per call).`,
    )
    .action(async (opts: TurnOpts & JsonOpt) => {
      setJson(env, opts);
      await chatCommand(env, opts);
    });
}

type PromptResult = { kind: 'line'; text: string } | { kind: 'eof' } | { kind: 'interrupt'; partial: boolean };

/**
 * One line from the terminal. The line editor (raw mode) lives only while the
 * prompt is shown, so during a turn the terminal is in its normal mode and Ctrl-C
 * is a real SIGINT (see the interrupt hook below).
 */
function promptLine(io: Io, history: string[], prompt: string): Promise<PromptResult> {
  return new Promise((resolve) => {
    const output = io.term ?? io.out;
    const rl = createInterface({ input: io.stdin, output, terminal: true, history: [...history], historySize: 500, removeHistoryDuplicates: true });
    let done = false;
    const finish = (r: PromptResult): void => {
      if (done) return;
      done = true;
      const h = (rl as unknown as { history?: string[] }).history;
      if (Array.isArray(h)) history.splice(0, history.length, ...h);
      rl.close();
      resolve(r);
    };
    rl.on('line', (text) => finish({ kind: 'line', text }));
    rl.on('SIGINT', () => {
      const partial = rl.line.length > 0;
      output.write('\n');
      finish({ kind: 'interrupt', partial });
    });
    rl.on('close', () => finish({ kind: 'eof' }));
    rl.setPrompt(prompt);
    rl.prompt();
  });
}

/** A session name not in use (and not `current`, which may not have been saved yet). */
async function freshName(a: App, current?: string): Promise<string> {
  const now = new Date();
  for (let i = 0; i < 100; i += 1) {
    const name = newSessionName(now, i);
    if (name !== current && !(await a.sessions.get(name))) return name;
  }
  throw new LogosError('ALREADY_EXISTS', 'Could not find a free session name.', { hint: 'Name one: `logos chat --session NAME`.' });
}

const HELP = `Commands:
  /new    start a fresh session (same sandbox and options)
  /help   this list
  /exit   leave (also Ctrl-D, or Ctrl-C twice at the prompt)
Anything else is sent to the agent. Ctrl-C cancels a turn while it runs.`;

export async function chatCommand(env: CommandEnv, opts: TurnOpts & JsonOpt): Promise<void> {
  const io = env.io;
  if (!io.stdinTTY || !io.isTTY) {
    throw new LogosError('NO_TTY', `logos chat needs a terminal, and ${!io.stdinTTY ? 'stdin' : 'stdout'} is not one.`, {
      hint: 'In scripts use `logos run --session NAME "…"`: each call is one turn of the same conversation.',
    });
  }
  if (opts.json) {
    throw new LogosError('INVALID_ARGUMENT', 'logos chat is interactive and has no JSON output.', {
      hint: 'For scripts: `logos run --session NAME --json "…"`, one turn per call.',
    });
  }
  const base = parseTurnOptions(opts);
  if (base.session !== undefined) validateSessionName(base.session);
  const a = await app(env);
  const ce = colors(io, 'err');
  const info = (text: string): void => {
    io.err.write(ce.dim(`${text}\n`));
  };

  let session = base.session ?? (await freshName(a));
  const announce = async (): Promise<void> => {
    const existing = await openSession(a.sessions, session, base.sandbox);
    if (existing) info(`Session ${session} · ${countTurns(existing.messages)} turns so far · sandbox ${existing.sandbox}`);
    else info(`Session ${session} (new) · continue it later with \`logos chat --session ${session}\``);
  };
  await announce();
  info('Type a message; /help for commands, /exit or Ctrl-D to leave. Ctrl-C cancels a turn.');

  let turn: AbortController | undefined;
  env.interrupt = (sig) => {
    if (sig !== 'SIGINT' || !turn) return false;
    if (!turn.signal.aborted) turn.abort(new LogosError('CANCELLED', 'Cancelled with Ctrl-C.'));
    return true;
  };
  const history: string[] = [];
  const prompt = `${colors(io, 'out').bold('you ›')} `;
  let armed = false;
  try {
    for (;;) {
      const input = await promptLine(io, history, prompt);
      if (input.kind === 'eof') break;
      if (input.kind === 'interrupt') {
        if (input.partial) {
          armed = false;
          continue;
        }
        if (armed) break;
        armed = true;
        info('(Ctrl-C again to leave, or /exit)');
        continue;
      }
      armed = false;
      const line = input.text.trim();
      if (line === '') continue;
      if (line === '/exit' || line === '/quit') break;
      if (line === '/help') {
        info(HELP);
        continue;
      }
      if (line === '/new') {
        session = await freshName(a, session);
        info(`Session ${session} (new)`);
        continue;
      }
      turn = new AbortController();
      const signal = AbortSignal.any([env.signal, turn.signal]);
      try {
        const r = await cancellable(env, () => executeRun(env, a, line, { ...base, session }, signal));
        if (r.outcome.error) showError(env, r.outcome.error);
      } catch (err) {
        showError(env, toLogosError(err));
      } finally {
        turn = undefined;
      }
      // SIGTERM (not Ctrl-C) ends the chat.
      if (env.signal.aborted) {
        env.exitCode = EXIT_CODES.CANCELLED;
        return;
      }
    }
  } finally {
    env.interrupt = undefined;
  }
  info(`Bye. Continue with \`logos chat --session ${session}\`.`);
}

function showError(env: CommandEnv, err: LogosError): void {
  if (err.code === 'CANCELLED') {
    env.io.err.write(colors(env.io, 'err').dim('(turn cancelled)\n'));
    return;
  }
  renderError(env, err);
}
