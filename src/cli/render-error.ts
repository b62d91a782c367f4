import { EXIT_CODES, type LogosError } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { stripControls } from '../core/text.js';
import { currentLogFile } from '../log/files.js';
import { colors } from './io.js';
import type { CommandEnv } from './main.js';

/** An error as a person or a script sees it: text on stderr, or JSON on stdout with --json. */
export function renderError(env: CommandEnv, err: LogosError): void {
  if (env.json) {
    env.io.out.write(`${redactText(JSON.stringify({ ok: false, error: err.toJSON() }))}\n`);
    return;
  }
  const c = colors(env.io, 'err');
  // Messages can carry text from a worker or an upstream server: no control sequences.
  env.io.err.write(`${c.red('Error:')} ${stripControls(redactText(err.message))}\n`);
  if (err.hint) env.io.err.write(`${c.dim('Hint:')} ${stripControls(redactText(err.hint))}\n`);
  if (env.logDir && err.exitCode !== EXIT_CODES.USAGE) env.io.err.write(c.dim(`Log: ${currentLogFile(env.logDir)}\n`));
}
