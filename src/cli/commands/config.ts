import type { Command } from 'commander';
import { LogosError } from '../../core/errors.js';
import { CONFIG_DEFAULTS, CONFIG_SCHEMA, configFile, loadConfig, openConfigStore } from '../../store/config.js';
import { resolvePaths } from '../../store/paths.js';
import { printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { setJson, type JsonOpt } from '../shared.js';

/** Settings keys, with the nested binaries.* ones spelled out. */
function knownKeys(): string[] {
  return Object.keys(CONFIG_SCHEMA).flatMap((k) => (k === 'binaries' ? Object.keys(CONFIG_DEFAULTS.binaries).map((b) => `binaries.${b}`) : [k]));
}

function checkKey(key: string): string {
  if (!knownKeys().includes(key) && key !== 'binaries') {
    throw new LogosError('INVALID_ARGUMENT', `Unknown setting '${key}'.`, { hint: `Settings: ${knownKeys().join(', ')}.` });
  }
  return key;
}

function valueAt(obj: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' && Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** A value from the command line: JSON when it parses as JSON (numbers, arrays), else the text itself. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function registerConfig(program: Command, env: CommandEnv): void {
  const config = program.command('config').description('Settings (config.json): show, get, set and unset them, checked against their schema');
  config.addHelpText(
    'after',
    `
Examples:
  $ logos config list
  $ logos config set runTimeoutSec 1800
  $ logos config set binaries.bwrap /opt/bubblewrap/bin/bwrap
  $ logos config set gatewayPortRange '[18000,18029]'
  $ logos config unset runTimeoutSec
Settings: ${knownKeys().join(', ')}.`,
  );

  config
    .command('path')
    .description('Print where the settings file is')
    .option('--json', 'print JSON')
    .action((opts: JsonOpt) => {
      setJson(env, opts);
      const file = configFile(resolvePaths());
      if (opts.json) printJson(env.io, { path: file });
      else printLine(env.io, file);
    });

  config
    .command('list')
    .description('Every setting in effect, and whether it is set or the default')
    .option('--json', 'print JSON')
    .action((opts: JsonOpt) => {
      setJson(env, opts);
      const paths = resolvePaths();
      const effective = loadConfig(paths);
      const rows = knownKeys().map((key) => {
        const value = valueAt(effective, key);
        const isDefault = JSON.stringify(value) === JSON.stringify(valueAt(CONFIG_DEFAULTS, key));
        return { name: key, value, source: isDefault ? 'default' : 'set' };
      });
      if (opts.json) {
        printJson(env.io, { file: configFile(paths), settings: rows });
        return;
      }
      printLine(env.io, table(rows.map((r) => [r.name, show(r.value), r.source]), ['SETTING', 'VALUE', 'SOURCE']));
    });

  config
    .command('get')
    .description('Print one setting (the default when it is not set)')
    .argument('<key>', 'e.g. runTimeoutSec or binaries.openshell')
    .option('--json', 'print JSON')
    .action((key: string, opts: JsonOpt) => {
      setJson(env, opts);
      const value = valueAt(loadConfig(resolvePaths()), checkKey(key));
      if (opts.json) printJson(env.io, { name: key, value });
      else printLine(env.io, show(value));
    });

  config
    .command('set')
    .description('Change one setting (checked against its schema before it is written)')
    .argument('<key>', 'e.g. runTimeoutSec or binaries.openshell')
    .argument('<value>', 'the value; JSON for numbers and lists (1800, [18000,18029])')
    .option('--json', 'print JSON')
    .action(async (key: string, text: string, opts: JsonOpt) => {
      setJson(env, opts);
      checkKey(key);
      const paths = resolvePaths();
      loadConfig(paths); // a damaged file is reported, not overwritten
      const store = await openConfigStore(paths);
      const value = parseValue(text);
      try {
        store.set(key, value);
      } catch (err) {
        throw new LogosError('INVALID_ARGUMENT', `Cannot set ${key} to ${show(value)}: ${(err as Error).message.replace(/^Config schema violation: /, '')}.`, {
          hint: `${key}: ${String((valueAt(CONFIG_SCHEMA, key.split('.')[0] as string) as { description?: string } | undefined)?.description ?? 'see `logos config list`')}.`,
        });
      }
      if (opts.json) printJson(env.io, { ok: true, name: key, value });
      else printLine(env.io, `✓ ${key} = ${show(value)}`);
    });

  config
    .command('unset')
    .description('Go back to the default for one setting')
    .argument('<key>')
    .option('--json', 'print JSON')
    .action(async (key: string, opts: JsonOpt) => {
      setJson(env, opts);
      checkKey(key);
      const paths = resolvePaths();
      loadConfig(paths);
      const store = await openConfigStore(paths);
      store.delete(key as never);
      const value = valueAt(loadConfig(paths), key);
      if (opts.json) printJson(env.io, { ok: true, name: key, value });
      else printLine(env.io, `✓ ${key} is back to its default (${show(value)})`);
    });
}
