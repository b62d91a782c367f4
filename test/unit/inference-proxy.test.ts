/** The local driver's inference proxy, for real: a Unix socket in front of a scripted upstream on 127.0.0.1. */
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startInferenceProxy, type InferenceProxy, type ProxyOptions } from '../../src/adapters/local/inference-proxy.js';
import { SCRUB_MASK } from '../../src/adapters/local/scrub-stream.js';
import type { LogFields, Logger } from '../../src/core/context.js';
import { closedPort } from '../helpers/net.js';
import { startScriptedUpstream, type ScriptedUpstream, type UpstreamHandler } from '../helpers/scripted-upstream.js';

const KEY = 'sk-test-0123456789abcdefXYZ';
const MODEL = 'pinned/model';
const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const CHAT = JSON.stringify({ model: 'sandbox-choice', messages: [{ role: 'user', content: 'hi' }], stream: true });

interface Reply {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface CallOptions {
  method?: string;
  path?: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
  /** Sees everything received so far, after each chunk. */
  onData?: (soFar: Buffer) => void;
}

/** One request over the proxy's socket, on a fresh connection. */
function call(socketPath: string, o: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, agent: false, method: o.method ?? 'POST', path: o.path ?? '/v1/chat/completions', headers: { 'content-type': 'application/json', ...o.headers } },
      (res) => {
        let soFar = Buffer.alloc(0);
        res.on('data', (c: Buffer) => {
          soFar = Buffer.concat([soFar, c]);
          o.onData?.(soFar);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: soFar }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body ?? (o.method === 'GET' ? undefined : CHAT));
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

type LogRecord = { level: string; msg: string; fields?: LogFields };
function recordingLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const make = (): Logger => ({
    debug: (msg, fields) => records.push({ level: 'debug', msg, ...(fields ? { fields } : {}) }),
    info: (msg, fields) => records.push({ level: 'info', msg, ...(fields ? { fields } : {}) }),
    warn: (msg, fields) => records.push({ level: 'warn', msg, ...(fields ? { fields } : {}) }),
    error: (msg, fields) => records.push({ level: 'error', msg, ...(fields ? { fields } : {}) }),
    child: () => make(),
  });
  return Object.assign(make(), { records });
}

const json = (res: import('node:http').ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const ok: UpstreamHandler = (_req, res) => json(res, 200, { ok: true });
/** Never answers: the request stays in flight until someone cuts it. */
const stall: UpstreamHandler = () => {};

let dir: string;
const closers: Array<() => Promise<void>> = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lp-'));
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

interface Setup {
  up: ScriptedUpstream;
  proxy: InferenceProxy;
  log: ReturnType<typeof recordingLogger>;
}

async function setup(handler: UpstreamHandler, opts: Partial<ProxyOptions> = {}, upstreamSuffix = ''): Promise<Setup> {
  const up = await startScriptedUpstream(handler);
  closers.push(() => up.close());
  const log = recordingLogger();
  const proxy = await startInferenceProxy({
    socketPath: join(dir, 'p.sock'),
    upstream: `${up.url}${upstreamSuffix}`,
    api: 'openai-chat',
    model: MODEL,
    apiKey: KEY,
    logger: log,
    ...opts,
  });
  closers.push(() => proxy.close());
  return { up, proxy, log };
}

const errorOf = (r: Reply): { type: string; message: string } => (JSON.parse(r.body.toString('utf8')) as { error: { type: string; message: string } }).error;

describe('inference proxy: what reaches the upstream', () => {
  it('OpenAI: pins the model, adds the key as Bearer, drops the sandbox credentials', async () => {
    const { up, proxy } = await setup(ok);
    const r = await call(proxy.socketPath, {
      headers: { authorization: 'Bearer sandbox-token', 'x-api-key': 'sandbox-key', cookie: 'a=b', 'x-other': '1', 'accept-encoding': 'gzip' },
    });
    expect(r.status).toBe(200);
    expect(up.requests).toHaveLength(1);
    const seen = up.requests[0]!;
    expect([seen.method, seen.url]).toEqual(['POST', '/v1/chat/completions']);
    expect(seen.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen.headers['x-api-key']).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['x-other']).toBeUndefined();
    expect(seen.headers['accept-encoding']).toBe('identity');
    expect(JSON.parse(seen.body.toString())).toEqual({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true });
  });

  it('Anthropic: pins the model, adds x-api-key and a default anthropic-version, no Authorization', async () => {
    const { up, proxy } = await setup(ok, { api: 'anthropic-messages' });
    const r = await call(proxy.socketPath, { path: '/v1/messages', headers: { authorization: 'Bearer sandbox-token', 'x-api-key': 'sandbox-key' } });
    expect(r.status).toBe(200);
    const seen = up.requests[0]!;
    expect(seen.url).toBe('/v1/messages');
    expect(seen.headers['x-api-key']).toBe(KEY);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect((JSON.parse(seen.body.toString()) as { model: string }).model).toBe(MODEL);
  });

  it.each([
    ['an array', '[{"model":"sandbox-choice"}]', 'request body must be a JSON object'],
    ['a string', '"hello"', 'request body must be a JSON object'],
    ['a number', '42', 'request body must be a JSON object'],
    ['null', 'null', 'request body must be a JSON object'],
    ['not JSON', '{"model":', 'request body is not JSON'],
  ])('refuses %s as the body with 400 and forwards nothing', async (_name, body, message) => {
    const { up, proxy } = await setup(ok);
    const r = await call(proxy.socketPath, { body });
    expect(r.status).toBe(400);
    expect(errorOf(r)).toEqual({ type: 'invalid_request', message });
    expect(up.requests).toHaveLength(0);
  });

  it.each([
    ['', '/v1/chat/completions'],
    ['?api-version=2024-10-01', '/v1/chat/completions?api-version=2024-10-01'],
  ])('drops the sandbox query string; base URL query %j is kept', async (baseQuery, want) => {
    const { up, proxy } = await setup(ok, {}, baseQuery);
    const r = await call(proxy.socketPath, { path: '/v1/chat/completions?key=steal&api-version=evil' });
    expect(r.status).toBe(200);
    expect(up.requests.map((q) => q.url)).toEqual([want]);
  });

  it('answers paths off the allowlist with 404 and large bodies with 413, without contacting the upstream', async () => {
    const { up, proxy } = await setup(ok, { maxBodyBytes: 64 });
    const r404 = await call(proxy.socketPath, { path: '/v1/files' });
    expect(r404.status).toBe(404);
    expect(errorOf(r404).type).toBe('not_found');
    const r413 = await call(proxy.socketPath, { body: JSON.stringify({ messages: 'x'.repeat(200) }) });
    expect(r413.status).toBe(413);
    expect(errorOf(r413).type).toBe('request_too_large');
    expect(up.requests).toHaveLength(0);
    expect(up.connections).toBe(0);
  });

  it('answers 502 network_error naming the upstream origin when it is unreachable', async () => {
    const port = await closedPort();
    const log = recordingLogger();
    const proxy = await startInferenceProxy({ socketPath: join(dir, 'p.sock'), upstream: `http://127.0.0.1:${port}/v1`, api: 'openai-chat', model: MODEL, apiKey: KEY, logger: log });
    closers.push(() => proxy.close());
    const r = await call(proxy.socketPath);
    expect(r.status).toBe(502);
    expect(errorOf(r).type).toBe('network_error');
    expect(errorOf(r).message).toContain(`http://127.0.0.1:${port}`);
  });

  it('speaks TLS to an https upstream (node:https loads only for one): a plain HTTP server there gets no request', async () => {
    let requests = 0;
    const plain = createServer((_req, res) => {
      requests += 1;
      res.end('{}');
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => plain.close(() => r())));
    const port = (plain.address() as AddressInfo).port;
    const proxy = await startInferenceProxy({ socketPath: join(dir, 'p.sock'), upstream: `https://127.0.0.1:${port}/v1`, api: 'openai-chat', model: MODEL, apiKey: KEY, logger: recordingLogger() });
    closers.push(() => proxy.close());
    const r = await call(proxy.socketPath);
    expect(r.status).toBe(502);
    expect(errorOf(r).message).toContain(`https://127.0.0.1:${port}`);
    expect(requests).toBe(0);
  });
});

describe('inference proxy: the key never comes back', () => {
  it('masks the key echoed in an upstream error body', async () => {
    const { proxy } = await setup((_req, res) => json(res, 401, { error: { message: `Incorrect API key provided: ${KEY}. Check it.`, type: 'invalid_request_error' } }));
    const r = await call(proxy.socketPath);
    expect(r.status).toBe(401);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body.includes(KEY)).toBe(false);
    expect(JSON.parse(r.body.toString())).toEqual({ error: { message: `Incorrect API key provided: ${SCRUB_MASK}. Check it.`, type: 'invalid_request_error' } });
  });

  it('masks the key in an SSE body split at every byte offset across two chunks; the rest arrives byte for byte', async () => {
    const pre = b('data: {"choices":[{"delta":{"content":"héllo 🙂 ');
    const post = b(' wörld"}}]}\n\ndata: [DONE]\n\n');
    const whole = Buffer.concat([pre, b(KEY), post]);
    const want = Buffer.concat([pre, b(SCRUB_MASK), post]);
    let split = 0;
    let gate = deferred();
    const { proxy } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(whole.subarray(0, pre.length + split));
      // The second chunk goes out only once the client holds what the first may release.
      await gate.promise;
      res.end(whole.subarray(pre.length + split));
    });
    for (split = 0; split <= KEY.length; split++) {
      gate = deferred();
      // Only a proper key prefix is held back; a whole key is masked at once.
      const first = split === KEY.length ? Buffer.concat([pre, b(SCRUB_MASK)]) : pre;
      let atGate: Buffer | undefined;
      const r = await call(proxy.socketPath, {
        onData: (soFar) => {
          if (!atGate && soFar.length >= first.length) {
            atGate = soFar;
            gate.resolve();
          }
        },
      });
      expect(r.status).toBe(200);
      expect(atGate).toEqual(first);
      expect(r.body).toEqual(want);
    }
  });

  it('releases a held key prefix intact when the next chunk does not complete the key, and at the end of the body', async () => {
    const pre = b('data: "ünïcode ');
    const held = b(KEY.slice(0, 9));
    let gate = deferred();
    let endsThere = false;
    const { proxy } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(Buffer.concat([pre, held]));
      await gate.promise;
      res.end(endsThere ? undefined : b('-not-the-key"\n\n'));
    });
    for (endsThere of [false, true]) {
      gate = deferred();
      let atGate: Buffer | undefined;
      const r = await call(proxy.socketPath, {
        onData: (soFar) => {
          if (!atGate && soFar.length >= pre.length) {
            atGate = soFar;
            gate.resolve();
          }
        },
      });
      expect(atGate).toEqual(pre);
      expect(r.body).toEqual(endsThere ? Buffer.concat([pre, held]) : Buffer.concat([pre, held, b('-not-the-key"\n\n')]));
    }
  });

  it('drops a response header whose value holds the key; other allowlisted headers pass; the reason phrase is not passed', async () => {
    const { proxy } = await setup((_req, res) => {
      res.writeHead(429, `Slow down ${KEY}`, {
        'content-type': 'application/json',
        'x-request-id': `req_${KEY}`,
        'request-id': 'rid-1',
        'retry-after': '3',
        'x-echo-key': KEY,
      });
      res.end('{}');
    });
    const r = await call(proxy.socketPath);
    expect(r.status).toBe(429);
    expect(r.statusMessage).not.toContain(KEY);
    expect(r.headers['x-request-id']).toBeUndefined();
    expect(r.headers['x-echo-key']).toBeUndefined();
    expect(r.headers['request-id']).toBe('rid-1');
    expect(r.headers['retry-after']).toBe('3');
    expect(JSON.stringify(r.headers)).not.toContain(KEY);
  });

  it('refuses a gzip-encoded answer with 502 proxy_error instead of passing an unscrubbable body', async () => {
    const { up, proxy } = await setup((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(b(JSON.stringify({ error: { message: `bad key ${KEY}` } }))));
    });
    const r = await call(proxy.socketPath);
    expect(r.status).toBe(502);
    expect(errorOf(r).type).toBe('proxy_error');
    expect(r.body.includes(KEY)).toBe(false);
    expect(up.requests[0]!.headers['accept-encoding']).toBe('identity');
  });
});

describe('inference proxy: caps', () => {
  it('answers requests beyond maxConcurrent with 429 at once; the upstream sees at most maxConcurrent', async () => {
    const { up, proxy, log } = await setup(stall, { maxConcurrent: 2 });
    const refused: Reply[] = [];
    const threeRefused = deferred();
    const calls = Array.from({ length: 5 }, () =>
      call(proxy.socketPath).then(
        (r) => {
          refused.push(r);
          if (refused.length === 3) threeRefused.resolve();
        },
        () => {},
      ),
    );
    await Promise.all([up.received(2), threeRefused.promise]);
    expect(refused.map((r) => [r.status, errorOf(r).type])).toEqual(Array.from({ length: 3 }, () => [429, 'rate_limited']));
    expect(up.requests).toHaveLength(2);
    expect(up.connections).toBe(2);
    expect(log.records.filter((x) => x.level === 'warn')).toHaveLength(1);
    await proxy.close();
    await Promise.all(calls);
    expect(refused).toHaveLength(3);
    const summary = log.records.filter((x) => x.level === 'warn').at(-1);
    expect(summary?.fields).toMatchObject({ refused_requests: 3 });
  });

  it('frees the slot when a request finishes', async () => {
    const { up, proxy } = await setup(ok, { maxConcurrent: 1 });
    for (let i = 0; i < 3; i++) expect((await call(proxy.socketPath)).status).toBe(200);
    expect(up.requests).toHaveLength(3);
  });

  it('drops sandbox connections beyond maxConnections', async () => {
    const { up, proxy, log } = await setup(ok, { maxConnections: 2 });
    const held: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = connect(proxy.socketPath);
      held.push(s);
      await new Promise<void>((r) => s.once('connect', () => r()));
    }
    try {
      await expect(call(proxy.socketPath)).rejects.toThrow();
      expect(up.requests).toHaveLength(0);
      expect(log.records.filter((x) => x.level === 'warn').map((x) => x.fields)).toEqual([{ max_connections: 2 }]);
    } finally {
      for (const s of held) s.destroy();
    }
  });
});

describe('inference proxy: close()', () => {
  it('destroys an in-flight upstream request and the sandbox connection', async () => {
    const { up, proxy } = await setup(stall);
    // Settled at once: the rejection arrives while close() is awaited.
    const pending = call(proxy.socketPath).then(
      () => 'answered',
      (e: Error) => e,
    );
    await up.received(1);
    await proxy.close();
    await up.requests[0]!.closed;
    expect(await pending).toBeInstanceOf(Error);
    expect(existsSync(proxy.socketPath)).toBe(false);
  });

  it('closes idle keep-alive connections to the upstream too', async () => {
    const { up, proxy } = await setup(ok);
    expect((await call(proxy.socketPath)).status).toBe(200);
    expect(up.connections).toBe(1);
    await proxy.close();
    await up.drained();
  });

  it('forwards nothing after close(): a new client gets an error', async () => {
    const { up, proxy } = await setup(ok);
    await proxy.close();
    await expect(call(proxy.socketPath)).rejects.toThrow();
    expect(up.requests).toHaveLength(0);
    expect(up.connections).toBe(0);
  });

  it('never forwards a request whose body was still arriving when close() ran', async () => {
    const { up, proxy } = await setup(ok);
    const failed = new Promise<Error>((resolve) => {
      const req = request({ socketPath: proxy.socketPath, agent: false, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } });
      req.on('response', () => resolve(new Error('unexpected response')));
      req.on('error', (e) => resolve(e));
      req.write(CHAT.slice(0, 10));
      // The rest follows once the proxy has been closed.
      void waitFor(() => proxy.requests >= 1)
        .then(() => proxy.close())
        .then(() => req.end(CHAT.slice(10)));
    });
    const err = await failed;
    expect(err.message).not.toBe('unexpected response');
    expect(up.requests).toHaveLength(0);
    expect(up.connections).toBe(0);
  });
});

/** Yields to the event loop until cond holds (no clock involved). */
async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise<void>((r) => setImmediate(r));
}
