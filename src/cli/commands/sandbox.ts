import type { Command } from 'commander';
import { parseWholeNumber } from '../../core/names.js';
import { deleteSandbox, getSandbox } from '../../core/sandboxes.js';
import { createSandboxUseCase, parseDriver, sandboxesWithStatus } from '../../app/sandboxes.js';
import { stripControls } from '../../core/text.js';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { getFile, MAX_GET_BYTES, putFile } from '../../core/files.js';
import { baseName } from '../../core/sandbox-paths.js';
import { describeTools, parseToolList, sandboxTools } from '../../core/tools.js';
import { colors, formatBytes, printFields, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

export function registerSandbox(program: Command, env: CommandEnv): void {
  const sb = program.command('sandbox').description('Manage sandboxes (each bound to one model route)');

  sb.command('create')
    .description('Create a sandbox')
    .argument('<name>', 'lowercase letters, digits and "-" (OpenShell: at most 19 characters, no "."; local: "." and up to 63 too)')
    .option('--driver <driver>', 'local (bubblewrap) or openshell (default: openshell for routes on a gateway, else local)')
    .option('-r, --route <route>', 'model route, by name or provider/model (default: the default route); fixed for the sandbox\'s life')
    .option('--tools <list>', 'the tools tasks here get by default, comma-separated (shell, read_file, write_file, edit_file, list_files, search, or all; default: all)')
    .option('--no-tools', 'tasks here get no tools by default (plain chat)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ logos sandbox create work\n  $ logos sandbox create review --driver local --route qwen-qwen3-5-9b\n  $ logos sandbox create readonly --tools read_file,list_files,search\n  $ logos sandbox create chat --no-tools\n\n`logos run --tools …|--no-tools` overrides the default for one task.',
    )
    .action(async (name: string, opts: JsonOpt & { driver?: string; route?: string; tools?: string | boolean }) => {
      setJson(env, opts);
      const tools = opts.tools === false ? [] : typeof opts.tools === 'string' ? parseToolList(opts.tools) : undefined;
      parseDriver(opts.driver); // checked before anything is read
      const a = await app(env);
      const rec = await createSandboxUseCase(a, { name, ...(opts.route ? { route: opts.route } : {}), ...(opts.driver ? { driver: opts.driver } : {}), ...(tools ? { tools } : {}) });
      if (opts.json) printJson(env.io, { ok: true, sandbox: rec });
      else {
        printLine(env.io, `${colors(env.io).green('✓')} Sandbox ${rec.name} (${rec.driver}, route ${rec.route})${rec.dir ? ` at ${rec.dir}` : ''}`);
        printLine(env.io, `  tools: ${describeTools(sandboxTools(rec.tools))}`);
      }
    });

  sb.command('list')
    .description('List sandboxes with their measured state')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const withStatus = await sandboxesWithStatus(a);
      const list = withStatus;
      if (opts.json) {
        printJson(env.io, withStatus);
        return;
      }
      if (list.length === 0) {
        printLine(env.io, 'No sandboxes yet. Create one with `logos sandbox create <name>` (or just `logos run`).');
        return;
      }
      printLine(env.io, table(withStatus.map((s) => [s.name, s.driver, s.route, s.status.phase, s.created_at]), ['NAME', 'DRIVER', 'ROUTE', 'PHASE', 'CREATED']));
    });

  sb.command('show')
    .description('Show one sandbox')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const s = await getSandbox(a.sandboxCtx(), name);
      const status = await a.driver(s.driver).status(s);
      if (opts.json) {
        printJson(env.io, { ...s, tools: sandboxTools(s.tools), status });
        return;
      }
      const rows: Array<[string, string]> = [
        ['Name', s.name],
        ['Driver', s.driver],
        ['Route', s.route],
        ['Phase', status.phase + (status.detail ? ` (${status.detail})` : '')],
        ['Created', s.created_at],
        ['Tools', describeTools(sandboxTools(s.tools))],
      ];
      if (s.dir) rows.push(['Directory', s.dir]);
      if (s.gateway) rows.push(['Gateway', `${s.gateway} (workspace ${s.workspace ?? '-'})`]);
      printFields(env.io, rows);
    });

  sb.command('delete')
    .description('Delete a sandbox and its files')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const rec = await deleteSandbox(a.sandboxCtx(), name);
      if (opts.json) printJson(env.io, { ok: true, deleted: rec.name });
      else printLine(env.io, `${colors(env.io).green('✓')} Deleted sandbox ${rec.name}`);
    });

  sb.command('put')
    .description('Copy a file into a sandbox (below /sandbox)')
    .argument('<name>', 'the sandbox')
    .argument('<local>', 'the file on this machine')
    .argument('[dest]', 'where in the sandbox: a path below /sandbox; ending in "/" means into that directory (default: /sandbox/<file name>)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ logos sandbox put work data.csv                    # → /sandbox/data.csv
  $ logos sandbox put work data.csv inputs/            # → /sandbox/inputs/data.csv
  $ logos sandbox put work data.csv /sandbox/in/d.csv  # → exactly that path

Paths are relative to /sandbox or absolute below it; ".." and other absolute paths are
refused. Missing directories are created; a regular file there is replaced; a link or any
other kind of file the sandbox put in the way is refused (nothing is written through it).`,
    )
    .action(async (name: string, local: string, dest: string | undefined, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const t = await putFile(a.sandboxCtx(), { sandbox: name, local, ...(dest !== undefined ? { dest } : {}) });
      if (opts.json) printJson(env.io, { ok: true, ...t });
      else printLine(env.io, `${colors(env.io).green('✓')} ${t.local} → ${t.sandbox}:${t.path} (${formatBytes(t.bytes)})`);
    });

  sb.command('get')
    .description('Copy a file out of a sandbox (from below /sandbox)')
    .argument('<name>', 'the sandbox')
    .argument('<path>', 'the file in the sandbox, relative to /sandbox or absolute below it')
    .argument('[local]', 'where to write it: a file, or a directory (default: ./<file name>)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ logos sandbox get work report.md                  # → ./report.md
  $ logos sandbox get work /sandbox/out/plot.png ~/Downloads/

Only a regular file is copied, never through a link the sandbox made, and at most
${MAX_GET_BYTES / 1048576} MiB. The local file is replaced only once the whole file arrived.`,
    )
    .action(async (name: string, path: string, local: string | undefined, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const target = await localTarget(local, baseName(path));
      const t = await getFile(a.sandboxCtx(), { sandbox: name, path, local: target });
      if (opts.json) printJson(env.io, { ok: true, ...t });
      else printLine(env.io, `${colors(env.io).green('✓')} ${t.sandbox}:${t.path} → ${t.local} (${formatBytes(t.bytes)})`);
    });

  sb.command('logs')
    .description('Show the worker log kept inside a sandbox')
    .argument('<name>')
    .option('-n, --lines <n>', 'how many lines', '50')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt & { lines: string }) => {
      setJson(env, opts);
      const n = parseWholeNumber(opts.lines, { flag: '--lines', min: 1, max: 100_000 });
      const a = await app(env);
      const s = await getSandbox(a.sandboxCtx(), name);
      const lines = await a.driver(s.driver).logs(s, n);
      if (opts.json) {
        printJson(
          env.io,
          lines.map((l) => {
            try {
              return JSON.parse(l) as unknown;
            } catch {
              return { raw: l };
            }
          }),
        );
        return;
      }
      if (lines.length === 0) printLine(env.io, `No worker log in sandbox ${name} yet.`);
      // The worker wrote these lines: show them, but never let them drive the terminal.
      for (const l of lines) printLine(env.io, stripControls(l));
    });
}

/** The host file `sandbox get` writes: LOCAL, or LOCAL/<name> when LOCAL is a directory (or ends in "/"), or ./<name>. */
async function localTarget(local: string | undefined, name: string): Promise<string> {
  if (local === undefined) return name;
  if (local.endsWith('/')) return join(local, name);
  const st = await stat(local).catch(() => undefined);
  return st?.isDirectory() ? join(local, name) : local;
}
