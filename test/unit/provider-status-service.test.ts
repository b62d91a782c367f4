/** The status cache in process: TTL with a fake clock, credential changes, a busy lock, a damaged cache file. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getProviderStatuses, type StatusApp } from '../../src/app/provider-status.js';
import { nullLogger } from '../../src/core/context.js';
import type { ProbeOutcome, ProbeTarget } from '../../src/core/provider-status.js';
import { PROVIDERS } from '../../src/core/providers.js';
import { emptyRoutes, type RoutesFile } from '../../src/core/routes.js';
import { JsonFile, withLock } from '../../src/store/json-file.js';
import { resolvePaths } from '../../src/store/paths.js';
import { Vault } from '../../src/store/vault.js';

let dir: string;
let app: StatusApp;
let now: Date;
const clock = { now: () => new Date(now) };
const probes: Array<{ target: ProbeTarget; apiKey: string | undefined }> = [];
const probe = async (target: ProbeTarget, opts: { apiKey?: string | undefined }): Promise<ProbeOutcome> => {
  probes.push({ target, apiKey: opts.apiKey });
  return { reason: 'OK', latency_ms: 3, checked_at: clock.now().toISOString(), models: ['m'] };
};

beforeEach(async () => {
  // No developer keys from the environment.
  for (const p of PROVIDERS) if (p.keyEnv) vi.stubEnv(p.keyEnv, '');
  dir = mkdtempSync(join(tmpdir(), 'logos-status-'));
  const paths = resolvePaths({ LOGOS_HOME: dir });
  const routes = new JsonFile<RoutesFile>(join(paths.state, 'routes.json'), { empty: emptyRoutes });
  app = { paths, logger: nullLogger, routes, vault: new Vault(paths), env: {} };
  await routes.update((f) => {
    f.routes.lm = { name: 'lm', provider: 'lmstudio', model: 'm', api: 'openai-chat', endpoint: 'http://127.0.0.1:1/v1', timeout_sec: 600, created_at: '2026-01-01T00:00:00.000Z', status: 'ready' };
    f.routes.gpt = { name: 'gpt', provider: 'openai', model: 'm', api: 'openai-chat', endpoint: 'http://127.0.0.1:2/v1', timeout_sec: 600, created_at: '2026-01-01T00:00:00.000Z', status: 'ready' };
  });
  now = new Date('2026-01-01T00:00:00.000Z');
  probes.length = 0;
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('getProviderStatuses', () => {
  it('probes once per TTL; a changed key makes the entry stale', async () => {
    const first = await getProviderStatuses(app, { clock, probe });
    expect(first.map((s) => [s.provider, s.reason, s.cached])).toEqual([
      ['lmstudio', 'OK', false],
      ['openai', 'NO_CONFIG', false],
    ]);
    expect(probes.map((p) => p.target.provider)).toEqual(['lmstudio']);

    now = new Date('2026-01-01T00:00:30.000Z');
    expect((await getProviderStatuses(app, { clock, probe })).map((s) => s.cached)).toEqual([true, false]);
    expect(probes).toHaveLength(1);

    now = new Date('2026-01-01T00:00:31.000Z');
    expect((await getProviderStatuses(app, { clock, probe }))[0]?.cached).toBe(false);
    expect(probes).toHaveLength(2);

    await app.vault.set('lmstudio', 'lm-new-key-0123456789');
    await app.vault.set('openai', 'sk-openai-0123456789abcdef');
    const withKeys = await getProviderStatuses(app, { clock, probe });
    expect(withKeys.map((s) => [s.provider, s.reason, s.cached])).toEqual([
      ['lmstudio', 'OK', false],
      ['openai', 'OK', false],
    ]);
    expect(probes.slice(2).map((p) => [p.target.provider, p.apiKey])).toEqual([
      ['lmstudio', 'lm-new-key-0123456789'],
      ['openai', 'sk-openai-0123456789abcdef'],
    ]);
  });

  it('--refresh probes even when fresh', async () => {
    await getProviderStatuses(app, { clock, probe });
    await getProviderStatuses(app, { clock, probe, refresh: true });
    expect(probes).toHaveLength(2);
  });

  it('reports STALE_REFRESH with the last known result when another process holds the lock too long', async () => {
    await getProviderStatuses(app, { clock, probe });
    // Another holder keeps the cache's lock while we want to refresh.
    let release!: () => void;
    const holding = withLock(join(app.paths.state, 'provider-status.json'), () => new Promise<void>((r) => (release = r)));
    const r = await getProviderStatuses(app, { clock, probe, refresh: true, lockTimeoutMs: 100 });
    release();
    await holding;
    expect(r[0]).toMatchObject({ provider: 'lmstudio', reason: 'STALE_REFRESH', state: 'error', message: expect.stringContaining('Last known: OK'), hint: expect.stringContaining('--refresh') });
    expect(probes).toHaveLength(1);
  });

  it('a damaged cache file is moved aside and replaced, not fatal', async () => {
    mkdirSync(app.paths.state, { recursive: true });
    writeFileSync(join(app.paths.state, 'provider-status.json'), '{"version":1,"entries":');
    const r = await getProviderStatuses(app, { clock, probe });
    expect(r[0]).toMatchObject({ reason: 'OK', cached: false });
    expect(readdirSync(app.paths.state).some((f) => f.startsWith('provider-status.json.corrupt-'))).toBe(true);
    expect((await getProviderStatuses(app, { clock, probe }))[0]?.cached).toBe(true);
  });
});
