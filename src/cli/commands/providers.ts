import type { Command } from 'commander';
import { LogosError } from '../../core/errors.js';
import type { ProviderStatus } from '../../core/provider-status.js';
import { colors, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

export function registerProviders(program: Command, env: CommandEnv): void {
  const providers = program.command('providers').description('Check the model providers your routes use');

  providers
    .command('status')
    .description('Probe each configured provider (cached for 30 s) and say what to do about the ones that are down')
    .option('--refresh', 'probe now instead of using cached results')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ logos providers status
  $ logos providers status --refresh
  $ logos providers status --json | jq -r '.[] | select(.state != "ok") | .hint'

A provider is configured when a route uses it, or when it has a key (\`logos creds list\`).
Reasons: OK, NO_CONFIG, CONN_REFUSED, TIMEOUT, HTTP_401, HTTP_403, HTTP_404, HTTP_429,
HTTP_5XX, INVALID_RESPONSE, PERMISSION_NOT_600, STALE_REFRESH. The exit code is 0 even when
a provider is down: this is a report.`,
    )
    .action(async (opts: JsonOpt & { refresh?: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      const { getProviderStatuses } = await import('../../app/provider-status.js');
      const statuses = await getProviderStatuses(a, { ...(opts.refresh ? { refresh: true } : {}) });
      if (opts.json) {
        printJson(env.io, statuses);
        return;
      }
      if (statuses.length === 0) {
        printLine(env.io, 'No providers configured. Add a route with `logos route add <provider>/<model>` (e.g. `logos route add lmstudio/qwen/qwen3.5-9b`), or store a key with `logos creds set <provider>`.');
        return;
      }
      printHuman(env, statuses, new Date());
    });

  providers.action(() => {
    throw new LogosError('USAGE', 'Missing subcommand.', { hint: 'Try `logos providers status` or `logos providers --help`.' });
  });
}

function age(checkedAt: string, now: Date): string {
  const s = Math.round((now.getTime() - Date.parse(checkedAt)) / 1000);
  if (!Number.isFinite(s)) return '-';
  if (s < 1) return 'just now';
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return checkedAt;
}

/** Which API answered a probe, as a person reads it. */
const API_TEXT: Record<NonNullable<ProviderStatus['api']>, string> = {
  'lmstudio-native': 'LM Studio native',
  'openai-models': 'OpenAI /models',
  'ollama-tags': 'Ollama /api/tags',
  'anthropic-models': 'Anthropic /models',
};

function printHuman(env: CommandEnv, statuses: ProviderStatus[], now: Date): void {
  const c = colors(env.io);
  const stateText = (s: ProviderStatus): string => (s.state === 'ok' ? c.green(s.state) : s.state === 'error' ? c.red(s.state) : c.yellow(s.state));
  const rows = statuses.map((s) => [
    s.provider,
    s.endpoint,
    stateText(s),
    s.reason,
    s.latency_ms === null ? '-' : `${s.latency_ms}ms`,
    `${age(s.checked_at, now)}${s.cached ? ' (cached)' : ''}`,
    s.api ? API_TEXT[s.api] : '-',
  ]);
  printLine(env.io, table(rows, ['PROVIDER', 'ENDPOINT', 'STATE', 'REASON', 'LATENCY', 'CHECKED', 'API']));
  // LM Studio before 0.4: reachable, but listed through the OpenAI-compatible API (and models are not loaded on demand).
  for (const s of statuses.filter((x) => x.state === 'ok' && x.provider === 'lmstudio' && x.api === 'openai-models')) {
    printLine(env.io, `${c.yellow('!')} ${s.provider} ${s.endpoint}: ${s.message ?? 'listed through /v1/models'} Logos cannot load its models on demand there.`);
  }
  const bad = statuses.filter((s) => s.state !== 'ok');
  if (bad.length > 0) printLine(env.io);
  for (const s of bad) {
    const mark = s.state === 'unconfigured' ? c.yellow('!') : c.red('✗');
    printLine(env.io, `${mark} ${c.bold(`${s.provider} ${s.endpoint}`)}: ${s.message ?? s.reason}`);
    printLine(env.io, `  ${c.dim('Hint:')} ${s.hint}`);
  }
}
