/**
 * `logos providers status` and LM Studio ensure-loaded through the real binary,
 * against fake model servers on 127.0.0.1 (nothing leaves the machine).
 */
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeModelServer, type FakeServerOptions } from '../fakes/model-servers.js';
import { makeHome, type Home } from '../helpers/logos.js';
import { closedPort } from '../helpers/net.js';

interface Status {
  provider: string;
  endpoint: string;
  state: string;
  reason: string;
  hint: string;
  message?: string;
  latency_ms: number | null;
  checked_at: string;
  cached: boolean;
  models?: string[];
  loaded?: string[];
  routes: string[];
}

let home: Home;
const servers: FakeModelServer[] = [];
beforeEach(() => {
  home = makeHome();
});
afterEach(async () => {
  home.cleanup();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(opts: FakeServerOptions = {}): Promise<FakeModelServer> {
  const s = await startFakeOpenAI(opts);
  servers.push(s);
  return s;
}


async function logos(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = await home.run(args, opts);
  return r;
}

async function addRoute(spec: string, endpoint: string, extra: string[] = []): Promise<void> {
  const r = await logos(['route', 'add', spec, '--endpoint', endpoint, ...extra]);
  expect(r.code, r.stderr).toBe(0);
}

async function status(args: string[] = [], env?: NodeJS.ProcessEnv): Promise<Status[]> {
  const r = await logos(['providers', 'status', '--json', ...args], env ? { env } : {});
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { items: Status[] }).items;
}

const listRequests = (s: FakeModelServer): number => s.requests.filter((q) => q.method === 'GET').length;

describe('logos providers status', () => {
  it('reports OK with models, loaded keys, latency and time; cached within the TTL; --refresh probes again', async () => {
    const s = await fake({ models: ['qwen/qwen3.5-9b', 'other'], loadedModels: ['qwen/qwen3.5-9b'] });
    await addRoute('lmstudio/qwen/qwen3.5-9b', s.url, ['--name', 'qwen']);
    await addRoute('lmstudio/other', s.url);
    await addRoute('custom/other', s.url, ['--name', 'compat']);

    const first = await status();
    expect(first).toEqual([
      {
        provider: 'lmstudio',
        endpoint: s.url,
        state: 'ok',
        reason: 'OK',
        hint: expect.stringContaining('logos run --route other'),
        latency_ms: expect.any(Number),
        checked_at: expect.any(String),
        cached: false,
        models: ['qwen/qwen3.5-9b', 'other'],
        loaded: ['qwen/qwen3.5-9b'],
        api: 'lmstudio-native',
        routes: ['other', 'qwen'],
      },
      expect.objectContaining({ provider: 'custom', endpoint: s.url, state: 'ok', reason: 'OK', cached: false, models: ['qwen/qwen3.5-9b', 'other'], routes: ['compat'] }),
    ]);
    expect(Number.isFinite(Date.parse(first[0]?.checked_at ?? ''))).toBe(true);
    expect(s.requests.map((q) => q.path).sort()).toEqual(['/api/v1/models', '/v1/models']);

    // Within the TTL: served from the cache, the server is not asked again.
    const second = await status();
    expect(second.map((x) => [x.provider, x.reason, x.cached, x.checked_at])).toEqual(first.map((x) => [x.provider, x.reason, true, x.checked_at]));
    expect(listRequests(s)).toBe(2);

    // --refresh probes again.
    const third = await status(['--refresh']);
    expect(third.map((x) => x.cached)).toEqual([false, false]);
    expect(listRequests(s)).toBe(4);

    // Human output: the table, no hints when all is well.
    const human = await logos(['providers', 'status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^PROVIDER\s+ENDPOINT\s+STATE\s+REASON\s+LATENCY\s+CHECKED/);
    expect(human.stdout).toMatch(/lmstudio\s+http:\/\/127\.0\.0\.1:\d+\/v1\s+ok\s+OK\s+\d+ms\s+.*\(cached\)/);
    expect(human.stdout).not.toContain('Hint:');
    expect(listRequests(s)).toBe(4);
  });

  it('classifies what is wrong, with a hint per provider, and exits 0', async () => {
    const key = 'sk-right-CANARY-0123456789abcd';
    const refused = await closedPort();
    const locked = await fake({ requireKey: key });
    const stale = await fake({ nativeApi: 'none' });
    const cloud = await fake();
    await addRoute('lmstudio/down', `http://127.0.0.1:${refused}/v1`);
    await addRoute('custom/m', locked.url, ['--name', 'locked']);
    await addRoute('lmstudio/fake-model', stale.url, ['--name', 'stale']);
    await addRoute('openai/gpt-4o-mini', cloud.url);
    // a wrong key for the custom server
    expect((await logos(['creds', 'set', 'custom', '--key-stdin'], { input: 'sk-wrong-0123456789abcdef' })).code).toBe(0);

    const all = await status();
    const by = (route: string): Status | undefined => all.find((x) => x.routes.includes(route));
    expect(by('down')).toMatchObject({
      provider: 'lmstudio',
      state: 'error',
      reason: 'CONN_REFUSED',
      hint: expect.stringContaining('`lms server start`'),
      message: expect.stringContaining(`127.0.0.1:${refused}`),
    });
    expect(by('locked')).toMatchObject({ provider: 'custom', state: 'error', reason: 'HTTP_401', hint: expect.stringContaining('logos creds set custom') });
    // LM Studio 0.3.x has no native API: reachable through /v1/models, and the status says so.
    expect(by('stale')).toMatchObject({ provider: 'lmstudio', state: 'ok', reason: 'OK', api: 'openai-models', message: expect.stringContaining('before 0.4') });
    expect(by('gpt-4o-mini')).toMatchObject({ provider: 'openai', state: 'unconfigured', reason: 'NO_CONFIG', latency_ms: null, cached: false, hint: expect.stringContaining('logos creds set openai') });
    // No key: nothing was sent to the "cloud" server.
    expect(cloud.requests).toEqual([]);

    // With the right key the same server is OK; the cached 401 (made with the old key) is not reused.
    expect((await logos(['creds', 'set', 'custom', '--key-stdin'], { input: key })).code).toBe(0);
    expect((await status()).find((x) => x.routes.includes('locked'))).toMatchObject({ reason: 'OK', cached: false });
    expect(locked.requests.at(-1)?.headers.authorization).toBe(`Bearer ${key}`);

    // Human output: the table plus one hint line per provider that is not OK.
    const human = await logos(['providers', 'status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/lmstudio\s+http:\/\/127\.0\.0\.1:\d+\/v1\s+error\s+CONN_REFUSED/);
    expect(human.stdout).toMatch(/openai\s+http:\/\/127\.0\.0\.1:\d+\/v1\s+unconfigured\s+NO_CONFIG\s+-/);
    expect(human.stdout.match(/Hint:/g)).toHaveLength(2);
    // which API answered, and what that means for LM Studio 0.3.x
    expect(human.stdout).toMatch(/^PROVIDER\s+ENDPOINT\s+STATE\s+REASON\s+LATENCY\s+CHECKED\s+API$/m);
    expect(human.stdout).toMatch(/lmstudio\s+http:\/\/127\.0\.0\.1:\d+\/v1\s+ok\s+OK\s+\d+ms\s+.*OpenAI \/models$/m);
    expect(human.stdout).toMatch(/! lmstudio http:\/\/127\.0\.0\.1:\d+\/v1: LM Studio has no native API here .* cannot load its models on demand/);
    expect(human.stdout).toContain("Start LM Studio's server (Developer tab, or `lms server start`)");

    // The key never shows up in output, log or the cache file.
    const cacheFile = readFileSync(join(home.env.LOGOS_HOME as string, 'state', 'provider-status.json'), 'utf8');
    for (const text of [human.stdout, human.stderr, JSON.stringify(all), home.logText(), cacheFile]) expect(text).not.toContain(key);
  });

  it('an environment key makes a provider configured; a vault readable by others is PERMISSION_NOT_600 per provider', async () => {
    const s = await fake();
    await addRoute('lmstudio/fake-model', s.url);
    expect((await logos(['creds', 'set', 'lmstudio', '--key-stdin'], { input: 'lm-key-0123456789' })).code).toBe(0);
    chmodSync(join(home.env.LOGOS_HOME as string, 'config', 'credentials', 'credentials.json'), 0o644);
    const r = await status([], { ANTHROPIC_API_KEY: 'sk-ant-envkey-0123456789abcdef' });
    expect(r.map((x) => [x.provider, x.endpoint, x.reason, x.state])).toEqual([
      ['lmstudio', s.url, 'PERMISSION_NOT_600', 'error'],
      ['anthropic', 'https://api.anthropic.com/v1', 'PERMISSION_NOT_600', 'error'],
    ]);
    expect(r[0]?.hint).toContain('logos creds fix-permissions');
    expect(s.requests).toEqual([]);
    expect((await logos(['creds', 'fix-permissions'])).code).toBe(0);
    expect((await status()).map((x) => [x.provider, x.reason])).toEqual([['lmstudio', 'OK']]);
  });

  it('two concurrent callers share one probe', async () => {
    const s = await fake({ listDelayMs: 400 });
    await addRoute('lmstudio/fake-model', s.url);
    const a = home.start(['providers', 'status', '--json']);
    const b = home.start(['providers', 'status', '--json']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(s.requests.filter((q) => q.path === '/api/v1/models')).toHaveLength(1);
    const results = [(JSON.parse(ra.stdout) as { items: Status[] }).items, (JSON.parse(rb.stdout) as { items: Status[] }).items];
    expect(results.map((x) => x[0]?.cached).sort()).toEqual([false, true]);
    expect(results[0]?.[0]?.checked_at).toBe(results[1]?.[0]?.checked_at);
  });

  it('says how to add a route when nothing is configured (exit 0)', async () => {
    const r = await logos(['providers', 'status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No providers configured');
    expect(r.stdout).toContain('logos route add');
    expect(await status()).toEqual([]);
    const help = await logos(['providers', 'status', '--help']);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--refresh');
  });
});

describe('LM Studio ensure-loaded before a run', () => {
  it('loads a model that is not loaded before the chat request, and does not reload it', async () => {
    const s = await fake({ models: ['fake-model', 'other'], loadedModels: [] });
    await addRoute('lmstudio/fake-model', s.url, ['--default']);
    const r = await logos(['run', 'hello lm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Echo: hello lm\n');
    const seq = s.requests.map((q) => `${q.method} ${q.path}`);
    expect(seq).toEqual(['GET /api/v1/models', 'POST /api/v1/models/load', 'POST /v1/chat/completions']);
    expect(s.requests[1]?.body).toEqual({ model: 'fake-model' });
    expect(home.log().some((l) => l.msg === 'LM Studio model loaded' && l.model === 'fake-model')).toBe(true);

    s.requests.length = 0;
    const again = await logos(['run', 'hello again']);
    expect(again.code, again.stderr).toBe(0);
    expect(s.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /api/v1/models', 'POST /v1/chat/completions']);
  });

  it('fails the run with MODEL_NOT_FOUND and a hint when LM Studio does not have the model', async () => {
    const s = await fake({ models: ['qwen/qwen3.5-9b', 'other'] });
    await addRoute('lmstudio/nope/missing-model', s.url, ['--default', '--name', 'missing']);
    const r = await logos(['run', '--json', 'hi']);
    expect(r.code).toBe(1);
    const err = (JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ok: boolean; error: { code: string; hint: string } }).error;
    expect(err.code).toBe('MODEL_NOT_FOUND');
    expect(err.hint).toContain('qwen/qwen3.5-9b, other');
    expect(err.hint).toContain('`lms get nope/missing-model`');
    expect(s.requests.some((q) => q.path.endsWith('/chat/completions'))).toBe(false);
    const human = await logos(['run', 'hi']);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain("has no model 'nope/missing-model'");
    expect(human.stderr).toContain('Hint:');
    const runs = (JSON.parse((await logos(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ status: string; error: { code: string } }>;
    expect(runs[0]).toMatchObject({ status: 'error', error: { code: 'MODEL_NOT_FOUND' } });
  });
});
