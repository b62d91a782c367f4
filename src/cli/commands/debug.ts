import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { liveDaemon } from '../../daemon/files.js';
import { resolvePaths } from '../../store/paths.js';
import { LogosError } from '../../core/errors.js';
import { getSandbox } from '../../core/sandboxes.js';
import { terminalSafe } from '../../core/text.js';
import { redactText } from '../../core/redact.js';
import type { Selection } from '../../log/filter.js';
import type { LogEntry } from '../../log/record.js';
import { printJson, printLine, type Io } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, cancellable, setJson, type JsonOpt } from '../shared.js';

interface TailOpts extends JsonOpt {
  follow?: boolean;
  filter?: string[];
  level?: string;
  since?: string;
  lines?: string;
  raw?: boolean;
  color: string;
  sandbox?: string;
}

/** stdout that may be closed under us (`logos debug tail | head`): EPIPE stops the command quietly, exit 0. */
function guardedOut(io: Io, stop: AbortController) {
  let closed = false;
  let failure: Error | undefined;
  // Stays attached: a write's EPIPE can arrive after the command has returned.
  io.out.on('error', (err: NodeJS.ErrnoException) => {
    closed = true;
    if (err.code !== 'EPIPE') failure ??= err;
    stop.abort();
  });
  return {
    get closed(): boolean {
      return closed;
    },
    get failure(): Error | undefined {
      return failure;
    },
    async write(text: string): Promise<void> {
      if (closed || text === '' || io.out.write(text)) return;
      // A slow reader: wait for it rather than buffering the whole log in memory.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          io.out.off('drain', done);
          stop.signal.removeEventListener('abort', done);
          resolve();
        };
        io.out.once('drain', done);
        stop.signal.addEventListener('abort', done, { once: true });
      });
    },
  };
}

async function tail(env: CommandEnv, opts: TailOpts): Promise<void> {
  const [{ matches, parseFilter, parseLevel, parseLineCount, parseSince }, { formatEntry, parseColorMode }, { parseLine }, { readRecent }, { currentLogFile }] =
    await Promise.all([import('../../log/filter.js'), import('../../log/format.js'), import('../../log/record.js'), import('../../log/reader.js'), import('../../log/files.js')]);
  if (opts.raw && opts.json) {
    throw new LogosError('INVALID_ARGUMENT', '--raw and --json are two different outputs; pick one.', {
      hint: '--raw prints the lines exactly as stored; --json prints one re-serialised record per line.',
    });
  }
  const selection: Selection = {
    filters: (opts.filter ?? []).map(parseFilter),
    minLevel: opts.level === undefined ? undefined : parseLevel(opts.level),
    since: opts.since === undefined ? undefined : parseSince(opts.since),
  };
  // --since alone means everything since then; otherwise the last 50.
  const limit = opts.lines !== undefined ? parseLineCount(opts.lines) : selection.since !== undefined ? Infinity : 50;
  const colorMode = parseColorMode(opts.color);
  const color = !opts.raw && !opts.json && (colorMode === 'always' || (colorMode === 'auto' && env.io.isTTY && !process.env.NO_COLOR));
  const a = await app(env);
  const dir = a.paths.logs;
  // --sandbox: the host's records about it, and the worker log kept inside it, by time.
  const sandbox = opts.sandbox === undefined ? undefined : await getSandbox(a.sandboxCtx(), opts.sandbox);
  if (sandbox) selection.filters.push({ key: 'sandbox', op: '=', value: sandbox.name });

  const render = (e: LogEntry): string | undefined => {
    // The log is masked when written; masking again costs little and covers lines from elsewhere.
    if (opts.json) return e.kind === 'record' ? redactText(JSON.stringify(e.record)) : undefined;
    if (opts.raw) return redactText(e.line);
    return formatEntry(e, { color });
  };
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  env.signal.addEventListener('abort', onAbort, { once: true });
  if (env.signal.aborted) stop.abort();
  const out = guardedOut(env.io, stop);
  const emit = (entries: LogEntry[]): Promise<void> =>
    out.write(
      entries
        .map(render)
        .filter((s): s is string => s !== undefined)
        .map((s) => `${s}\n`)
        .join(''),
    );

  try {
    // When following, the initial read stops at each file's last complete line; the follower takes it from there.
    const read = await readRecent(dir, { limit, selection, completeLines: opts.follow === true });
    let recent = read.entries;
    if (sandbox) {
      const { mergeSandboxLog } = await import('../../log/merge.js');
      const workerLines = await a
        .driver(sandbox.driver)
        .logs(sandbox, Number.isFinite(limit) ? Math.max(limit, 1) : 100_000)
        .catch((err: unknown) => {
          env.io.err.write(`Could not read the worker log inside sandbox '${sandbox.name}': ${err instanceof Error ? terminalSafe(err.message) : String(err)}. Showing the host's records only.\n`);
          return [] as string[];
        });
      recent = mergeSandboxLog(recent, workerLines, sandbox.name, selection, limit);
    }
    await emit(recent);
    if (!opts.follow) {
      if (recent.length === 0 && env.io.isTTY && !opts.json && !opts.raw) env.io.err.write(`No matching log records in ${currentLogFile(dir)}.\n`);
      return;
    }
    const { followLines } = await import('../../log/follow.js');
    for await (const lines of followLines(dir, { signal: stop.signal, start: read.mark })) {
      await emit(lines.map(parseLine).filter((e) => matches(e, selection)));
      if (out.closed) break;
    }
  } finally {
    env.signal.removeEventListener('abort', onAbort);
  }
  if (out.failure) throw out.failure;
}

export function registerDebug(program: Command, env: CommandEnv): void {
  const debug = program.command('debug').description('Diagnostics: where Logos keeps its files and its log');
  debug
    .command('path')
    .description('Print the unified log file written now, and the log, config, state and data directories')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const p = a.paths;
      const { currentLogFile } = await import('../../log/files.js');
      const log = currentLogFile(p.logs);
      if (opts.json) {
        printJson(env.io, { log, logs: p.logs, config: p.config, state: p.state, data: p.data, runtime: p.runtime });
        return;
      }
      printLine(env.io, log);
      if (env.io.isTTY) {
        printLine(env.io, `logs    ${p.logs}`);
        printLine(env.io, `config  ${p.config}`);
        printLine(env.io, `state   ${p.state}`);
        printLine(env.io, `data    ${p.data}`);
      }
    });

  debug
    .command('bundle')
    .description('Write one JSON file to share when asking for help: versions, settings, status, doctor, recent log and runs, secrets masked')
    .option('-o, --output <file>', 'where to write it (default: logos-bundle-<time>.json here; - for stdout)')
    .option('--json', 'print where it went as JSON')
    .addHelpText('after', '\nNothing is probed over the network. Keys from the vault and the environment, tokens and\ncredentials inside URLs are masked wherever they appear.\n\nExamples:\n  $ logos debug bundle\n  $ logos debug bundle -o /tmp/logos.json')
    .action(async (opts: JsonOpt & { output?: string }) => {
      setJson(env, opts);
      const paths = resolvePaths();
      const daemon = liveDaemon(paths.daemonPidFile);
      const a = await app(env);
      const { makeBundle } = await import('../../app/bundle.js');
      const bundle = await makeBundle(a, { daemon: daemon ? { running: true, pid: daemon.pid, host: daemon.host, port: daemon.port } : { running: false } });
      const text = `${JSON.stringify(bundle, null, 2)}\n`;
      if (opts.output === '-') {
        env.io.out.write(text);
        return;
      }
      const file = opts.output ?? `logos-bundle-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
      await writeFile(file, text, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
        throw new LogosError(err.code === 'EEXIST' ? 'ALREADY_EXISTS' : 'PATH_NOT_WRITABLE', `Cannot write ${file}: ${err.code ?? err.message}.`, { hint: 'Pick another file with -o.' });
      });
      if (opts.json) printJson(env.io, { ok: true, file, bytes: Buffer.byteLength(text) });
      else printLine(env.io, `Wrote ${file} (${Buffer.byteLength(text)} bytes, secrets masked). Look it over before you share it.`);
    });

  debug
    .command('tail')
    .description('Show the last records of the unified log (across its numbered files); -f keeps following it')
    .option('-f, --follow', 'keep printing new records as they are written; survives rotation, waits for a missing file (Ctrl-C stops)')
    .option('--filter <k=v>', 'only records whose field k is v (k=v) or is not v (k!=v); repeat to require several', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--level <min>', 'only records at or above this level: trace, debug, info, warn, error, fatal')
    .option('--since <when>', 'only records since a time ago (5s, 30m, 2h, 1d) or an ISO time')
    .option('-n, --lines <n>', 'how many matching records to show first (default: 50, or all with --since)')
    .option('--raw', 'print the log lines exactly as stored')
    .option('--color <when>', 'auto (on a terminal, unless NO_COLOR is set), always or never', 'auto')
    .option('--json', 'print matching records as JSON lines, one per line (lines that are not JSON are left out)')
    .option('--sandbox <name>', "only records about this sandbox, merged by time with the worker log kept inside it (source 'sandbox')")
    .addHelpText(
      'after',
      `
Each line: time, level, source, message, then key=value fields (task_id, sandbox, route,
gateway first). Filters compare values as strings, a missing field counts as empty, and
\`level\` compares by name. Lines that are not JSON are shown as they are, unless a filter
or --level is given.

Examples:
  $ logos debug tail                                   # the last 50 records
  $ logos debug tail -f --level warn                   # follow warnings and errors
  $ logos debug tail --filter sandbox=work --filter level!=debug
  $ logos debug tail --since 30m --json | jq -r .msg
  $ logos debug tail --sandbox work -n 200             # host and worker lines of one sandbox
  $ logos debug tail -n 0 -f --raw >> copy.jsonl       # only new lines, exactly as stored
`,
    )
    .action(async (opts: TailOpts) => {
      setJson(env, opts);
      // Ctrl-C / SIGTERM end a follow cleanly (exit 0) through env.signal.
      await cancellable(env, () => tail(env, opts));
    });
}
