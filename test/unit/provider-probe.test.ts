/** The HTTP probes and LM Studio ensure-loaded, in process, against the fake model servers. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureLmStudioModelLoaded } from '../../src/adapters/providers/lmstudio.js';
import { probeProvider } from '../../src/adapters/providers/probe.js';
import { nullLogger, type LogFields, type Logger } from '../../src/core/context.js';
import { LogosError } from '../../src/core/errors.js';
import { startFakeAnthropic, startFakeOpenAI, type FakeModelServer, type FakeServerOptions } from '../fakes/model-servers.js';
import { closedPort } from '../helpers/net.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function openai(opts: FakeServerOptions = {}): Promise<FakeModelServer> {
  const s = await startFakeOpenAI(opts);
  closers.push(() => s.close());
  return s;
}


/** Accepts connections and never answers. */
async function silentServer(): Promise<number> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  return (srv.address() as net.AddressInfo).port;
}

function recordingLogger(): Logger & { records: Array<{ level: string; msg: string; fields?: LogFields }> } {
  const records: Array<{ level: string; msg: string; fields?: LogFields }> = [];
  const make = (): Logger => ({
    debug: (msg, fields) => records.push({ level: 'debug', msg, ...(fields ? { fields } : {}) }),
    info: (msg, fields) => records.push({ level: 'info', msg, ...(fields ? { fields } : {}) }),
    warn: (msg, fields) => records.push({ level: 'warn', msg, ...(fields ? { fields } : {}) }),
    error: (msg, fields) => records.push({ level: 'error', msg, ...(fields ? { fields } : {}) }),
    child: () => make(),
  });
  return Object.assign(make(), { records });
}

describe('probeProvider', () => {
  it('LM Studio: native list with keys and loaded instances, latency and time', async () => {
    const s = await openai({ models: ['qwen/qwen3.5-9b', 'other'], loadedModels: ['qwen/qwen3.5-9b'] });
    const r = await probeProvider({ provider: 'lmstudio', endpoint: s.url });
    expect(r).toMatchObject({ reason: 'OK', http_status: 200, models: ['qwen/qwen3.5-9b', 'other'], loaded: ['qwen/qwen3.5-9b'] });
    expect(r.latency_ms).toEqual(expect.any(Number));
    expect(Number.isFinite(Date.parse(r.checked_at))).toBe(true);
    expect(s.requests.map((q) => [q.method, q.path])).toEqual([['GET', '/api/v1/models']]);
  });

  it('sends the key as each API expects, and never puts it in a message', async () => {
    const key = 'sk-probe-CANARY-0123456789abcdef';
    const s = await openai({ requireKey: key });
    expect((await probeProvider({ provider: 'openai', endpoint: s.url }, { apiKey: key })).reason).toBe('OK');
    expect(s.requests.at(-1)?.headers.authorization).toBe(`Bearer ${key}`);
    const wrong = await probeProvider({ provider: 'openai', endpoint: s.url }, { apiKey: `${key}-old` });
    expect(wrong.reason).toBe('HTTP_401');
    expect(wrong.message).toContain('HTTP 401');
    expect(JSON.stringify(wrong)).not.toContain(key);

    const a = await startFakeAnthropic({ requireKey: key });
    closers.push(() => a.close());
    expect((await probeProvider({ provider: 'anthropic', endpoint: a.url }, { apiKey: key })).reason).toBe('OK');
    expect(a.requests.at(-1)?.headers).toMatchObject({ 'x-api-key': key, 'anthropic-version': '2023-06-01' });
    expect(a.requests.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('Ollama: GET /api/tags', async () => {
    const s = await openai({ nativeApi: 'ollama', models: ['llama3.2:latest'] });
    expect(await probeProvider({ provider: 'ollama', endpoint: s.url })).toMatchObject({ reason: 'OK', models: ['llama3.2:latest'] });
    expect(s.requests.at(-1)?.path).toBe('/api/tags');
  });

  it('LM Studio without the native API (0.3.x: 200 "Unexpected endpoint") is reached through /v1/models, and says so', async () => {
    const s = await openai({ nativeApi: 'none', models: ['qwen3'] });
    const r = await probeProvider({ provider: 'lmstudio', endpoint: s.url });
    expect(r).toMatchObject({ reason: 'OK', api: 'openai-models', models: ['qwen3'], message: expect.stringContaining('no native API') });
    expect(s.requests.map((q) => q.path)).toEqual(['/api/v1/models', '/v1/models']);
    const native = await openai({ models: ['qwen3'] });
    expect(await probeProvider({ provider: 'lmstudio', endpoint: native.url })).toMatchObject({ reason: 'OK', api: 'lmstudio-native' });
  });

  it('INVALID_RESPONSE when even /v1/models says "Unexpected endpoint" (a stale key), and for non-JSON', async () => {
    const stale = await import('node:http').then(
      (http) =>
        new Promise<number>((resolve) => {
          const srv = http.createServer((q, res) => {
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ error: `Unexpected endpoint or method. (GET ${q.url})` }));
          });
          srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
          closers.push(() => new Promise<void>((r) => srv.close(() => r())));
        }),
    );
    const r = await probeProvider({ provider: 'lmstudio', endpoint: `http://127.0.0.1:${stale}/v1` });
    expect(r).toMatchObject({ reason: 'INVALID_RESPONSE', http_status: 200, message: expect.stringContaining('Unexpected endpoint or method. (GET /api/v1/models)') });
    const o = await openai({ nativeApi: 'ollama' });
    // an Ollama server asked for LM Studio's list: 404 with a text body
    expect(await probeProvider({ provider: 'lmstudio', endpoint: o.url })).toMatchObject({ reason: 'HTTP_404' });
    // a 200 that is not JSON
    const html = await import('node:http').then(
      (http) =>
        new Promise<number>((resolve) => {
          const srv = http.createServer((_q, res) => res.end('<html>hello</html>'));
          srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
          closers.push(() => new Promise<void>((r) => srv.close(() => r())));
        }),
    );
    expect(await probeProvider({ provider: 'custom', endpoint: `http://127.0.0.1:${html}/v1` })).toMatchObject({ reason: 'INVALID_RESPONSE', message: expect.stringContaining('not JSON') });
  });

  it('CONN_REFUSED for a closed port, TIMEOUT for a server that never answers', async () => {
    const port = await closedPort();
    const r = await probeProvider({ provider: 'lmstudio', endpoint: `http://127.0.0.1:${port}/v1` });
    expect(r).toMatchObject({ reason: 'CONN_REFUSED', message: expect.stringContaining(`127.0.0.1:${port}`) });
    const silent = await silentServer();
    expect(await probeProvider({ provider: 'llamacpp', endpoint: `http://127.0.0.1:${silent}/v1` }, { timeoutMs: 200 })).toMatchObject({ reason: 'TIMEOUT' });
  });
});

describe('ensureLmStudioModelLoaded', () => {
  it('loads a model that is not loaded, then leaves a loaded one alone', async () => {
    const s = await openai({ models: ['qwen/qwen3.5-9b', 'other'], loadedModels: [] });
    const log = recordingLogger();
    expect(await ensureLmStudioModelLoaded({ endpoint: s.url, model: 'qwen/qwen3.5-9b' }, { logger: log, apiKey: 'lm-key-123456' })).toBe('loaded');
    expect(s.requests.map((q) => [q.method, q.path, q.body])).toEqual([
      ['GET', '/api/v1/models', undefined],
      ['POST', '/api/v1/models/load', { model: 'qwen/qwen3.5-9b' }],
    ]);
    expect(s.requests.every((q) => q.headers.authorization === 'Bearer lm-key-123456')).toBe(true);
    expect(log.records.map((r) => r.msg)).toEqual(['loading LM Studio model', 'LM Studio model loaded']);
    expect(await ensureLmStudioModelLoaded({ endpoint: s.url, model: 'qwen/qwen3.5-9b' }, { logger: nullLogger })).toBe('already-loaded');
    expect(s.requests.filter((q) => q.path === '/api/v1/models/load')).toHaveLength(1);
  });

  it('MODEL_NOT_FOUND with the available keys and `lms get` when the key is unknown', async () => {
    const s = await openai({ models: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], loadedModels: [] });
    const err = await ensureLmStudioModelLoaded({ endpoint: s.url, model: 'nope/x' }, { logger: nullLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogosError);
    expect((err as LogosError).code).toBe('MODEL_NOT_FOUND');
    expect((err as LogosError).hint).toContain('a, b, c, d, e, … (7 in all)');
    expect((err as LogosError).hint).toContain('`lms get nope/x`');
    expect(s.requests.some((q) => q.method === 'POST')).toBe(false);
  });

  it('does nothing when LM Studio cannot be asked (the run reports it)', async () => {
    const port = await closedPort();
    expect(await ensureLmStudioModelLoaded({ endpoint: `http://127.0.0.1:${port}/v1`, model: 'm' }, { logger: nullLogger })).toBe('skipped');
    const old = await openai({ nativeApi: 'none' });
    expect(await ensureLmStudioModelLoaded({ endpoint: old.url, model: 'fake-model' }, { logger: nullLogger })).toBe('skipped');
    const locked = await openai({ requireKey: 'lm-right-key' });
    expect(await ensureLmStudioModelLoaded({ endpoint: locked.url, model: 'fake-model' }, { logger: nullLogger, apiKey: 'lm-wrong-key' })).toBe('skipped');
  });
});
