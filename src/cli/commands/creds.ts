import type { Command } from 'commander';
import { LogosError } from '../../core/errors.js';
import { pushKeyToGateways } from '../../app/routes.js';
import { getProvider, providerKeyEnvs } from '../../core/providers.js';
import { maskSecret } from '../../core/redact.js';
import { colors, formatBytes, printJson, printLine, promptSecret, readBounded, table } from '../io.js';

/** The longest key accepted (service-account JSON fits; a whole file piped by mistake does not). */
const MAX_KEY_BYTES = 64 * 1024;
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

export function registerCreds(program: Command, env: CommandEnv): void {
  const creds = program.command('creds').description('Manage provider keys (stored 0600, never shown, never on a command line)');

  creds
    .command('set')
    .description('Store the key for a provider (from stdin, or a hidden prompt on a terminal)')
    .argument('<provider>', 'openai, anthropic, openrouter, lmstudio, …')
    .option('--key-stdin', 'read the key from stdin')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ logos creds set openai                       # hidden prompt
  $ printf %s "$KEY" | logos creds set anthropic --key-stdin
  $ pass show openrouter | logos creds set openrouter --key-stdin

There is no --key option on purpose: keys on a command line end up in ps and shell history.`,
    )
    .action(async (providerId: string, opts: JsonOpt & { keyStdin?: boolean }) => {
      setJson(env, opts);
      const provider = getProvider(providerId);
      let key: string;
      if (opts.keyStdin || !env.io.stdinTTY) {
        if (env.io.stdinTTY && env.io.errTTY) env.io.err.write('Paste the key, then press Ctrl-D:\n');
        key = await readBounded(env.io.stdin, MAX_KEY_BYTES, 'The key on stdin', (what, max) =>
          new LogosError('INVALID_ARGUMENT', `${what} is larger than ${formatBytes(max)}; nothing was stored.`, {
            hint: 'Pipe only the key itself (e.g. `printf %s "$KEY" | logos creds set openai --key-stdin`).',
          }),
        );
      } else {
        key = await promptSecret(env.io, `Key for ${provider.label} (input hidden): `).catch(() => {
          throw new LogosError('CANCELLED', 'Cancelled; nothing was stored.');
        });
      }
      // Strip the trailing newline of `echo`/files and surrounding blanks; keep everything
      // else intact (some credentials are multi-line, e.g. service-account JSON).
      key = key.replace(/^\s+|\s+$/g, '');
      if (key === '') {
        throw new LogosError('INVALID_ARGUMENT', 'The key is empty; nothing was stored.', { hint: 'Pipe the key on stdin: `printf %s "$KEY" | logos creds set openai --key-stdin`.' });
      }
      const a = await app(env);
      await a.vault.set(provider.id, key);
      a.logger.info('credential stored', { provider: provider.id });
      // Gateways keep their own copy of the key: push the new one into every route that uses it.
      const { synced, failed } = await pushKeyToGateways(a, provider.id);
      if (failed.length > 0) env.exitCode = 1;
      if (opts.json) {
        printJson(env.io, { ok: failed.length === 0, provider: provider.id, masked: maskSecret(key), synced_routes: synced, failed_routes: failed });
        return;
      }
      printLine(env.io, `${colors(env.io).green('✓')} Stored the ${provider.label} key (${maskSecret(key)})`);
      if (synced.length) printLine(env.io, `${colors(env.io).green('✓')} Pushed it to route${synced.length > 1 ? 's' : ''} ${synced.join(', ')}`);
      for (const f of failed) {
        env.io.err.write(`${colors(env.io, 'err').red('✗')} Route ${f.route} still has the old key: ${f.error.message}\n  Retry with \`logos route sync ${f.route}\`.\n`);
      }
    });

  creds
    .command('list')
    .description('List stored keys (masked) and keys found in the environment')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const list = await a.vault.list(providerKeyEnvs());
      if (opts.json) {
        printJson(env.io, list);
        return;
      }
      if (list.length === 0) {
        printLine(env.io, 'No keys stored. Add one with `logos creds set <provider>`.');
        return;
      }
      printLine(env.io, table(list.map((c) => [c.provider, c.masked, c.source === 'env' ? `env ${c.envVar}` : 'vault', c.updatedAt ?? '']), ['PROVIDER', 'KEY', 'SOURCE', 'UPDATED']));
    });

  creds
    .command('remove')
    .description('Remove a stored key')
    .argument('<provider>')
    .option('--json', 'print JSON')
    .action(async (providerId: string, opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const removed = await a.vault.remove(providerId);
      if (!removed) {
        throw new LogosError('NOT_FOUND', `No stored key for '${providerId}'.`, { hint: 'See `logos creds list`.' });
      }
      a.logger.info('credential removed', { provider: providerId });
      if (opts.json) printJson(env.io, { ok: true, removed: providerId });
      else printLine(env.io, `${colors(env.io).green('✓')} Removed the key for ${providerId}`);
    });

  creds
    .command('fix-permissions')
    .description('Restrict the credentials directory to 0700 and the file to 0600')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const fixed = await a.vault.fixPermissions();
      if (opts.json) printJson(env.io, { ok: true, fixed });
      else printLine(env.io, fixed.length ? `${colors(env.io).green('✓')} Fixed: ${fixed.join(', ')}` : 'Permissions were already right.');
    });
}
