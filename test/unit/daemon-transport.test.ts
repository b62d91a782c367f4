import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nullLogger } from '../../src/core/context.js';
import { EventBus } from '../../src/core/events.js';
import { LogosError } from '../../src/core/errors.js';
import { originAllowed, startHttpServer, tokenMatches, type HttpServer, type Route } from '../../src/daemon/http.js';
import { serveSse, wsEvents, type WsEvents } from '../../src/daemon/streams.js';

/** The daemon's wire, with real HTTP, SSE and WebSocket clients on a random loopback port. */

const TOKEN = 'test-token-0123456789abcdef';
let server: HttpServer | undefined;
let events: WsEvents | undefined;
afterEach(async () => {
  events?.close();
  await server?.close();
  server = undefined;
  events = undefined;
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, method: string, path: string, opts: { token?: string | null; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function start(routes: Route[], extra: Partial<Parameters<typeof startHttpServer>[0]> = {}): Promise<number> {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, token: TOKEN, routes, logger: nullLogger, ...extra });
  return server.port;
}

const routes: Route[] = [
  { method: 'GET', path: '/v1/health', public: true, handler: () => ({ body: { ok: true } }) },
  { method: 'GET', path: '/v1/things/:name', handler: (c) => ({ body: { name: c.params.name, q: c.query.get('q') } }) },
  { method: 'POST', path: '/v1/things', handler: (c) => ({ status: 201, body: { got: c.body } }) },
  {
    method: 'GET',
    path: '/v1/missing',
    handler: () => {
      throw new LogosError('NOT_FOUND', 'No such thing.', { hint: 'Try another.' });
    },
  },
];

describe('daemon HTTP', () => {
  it('serves /health without a token on loopback, everything else only with it', async () => {
    const port = await start(routes);
    expect((await call(port, 'GET', '/v1/health', { token: null })).status).toBe(200);
    const anon = await call(port, 'GET', '/v1/things/a', { token: null });
    expect(anon.status).toBe(401);
    expect(JSON.parse(anon.body)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', hint: expect.any(String) } });
    expect((await call(port, 'GET', '/v1/things/a', { token: 'wrong' })).status).toBe(401);
    expect((await call(port, 'GET', '/v1/things/a', { token: `${TOKEN}x` })).status).toBe(401);
    const ok = await call(port, 'GET', '/v1/things/a%20b?q=1');
    expect(JSON.parse(ok.body)).toEqual({ name: 'a b', q: '1' });
  });

  it('errors carry the CLI reason codes and a status; unknown paths 404, wrong methods 405', async () => {
    const port = await start(routes);
    const miss = await call(port, 'GET', '/v1/missing');
    expect(miss.status).toBe(404);
    expect(JSON.parse(miss.body)).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'No such thing.', hint: 'Try another.' } });
    expect((await call(port, 'GET', '/v1/nope')).status).toBe(404);
    const wrong = await call(port, 'DELETE', '/v1/things');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
  });

  it('no CORS: preflights are refused and no Access-Control header is ever sent', async () => {
    const port = await start(routes);
    const pre = await call(port, 'OPTIONS', '/v1/things', { token: null, headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(405);
    const ok = await call(port, 'GET', '/v1/things/x', { headers: { origin: 'http://evil.example' } });
    expect(Object.keys(ok.headers).filter((h) => h.startsWith('access-control'))).toEqual([]);
  });

  it('refuses bodies over the limit with 413, and bodies that are not JSON with 400', async () => {
    const port = await start(routes, { maxBodyBytes: 1000 });
    expect((await call(port, 'POST', '/v1/things', { body: JSON.stringify({ a: 'x'.repeat(2000) }) })).status).toBe(413);
    expect((await call(port, 'POST', '/v1/things', { body: 'not json' })).status).toBe(400);
    const ok = await call(port, 'POST', '/v1/things', { body: '{"a":1}' });
    expect(ok.status).toBe(201);
    expect(JSON.parse(ok.body)).toEqual({ got: { a: 1 } });
  });

  it('limits requests per connection with 429 and Retry-After', async () => {
    const port = await start(routes, { rateLimit: 5 });
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path: '/v1/things/a', agent, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        }),
      );
    }
    agent.destroy();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10);
    expect(statuses).toContain(429);
  });

  it('compares tokens in constant time and checks Origins', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(originAllowed(undefined, 7777)).toBe(true);
    expect(originAllowed('http://127.0.0.1:7777', 7777)).toBe(true);
    expect(originAllowed('http://localhost:7777', 7777)).toBe(true);
    expect(originAllowed('http://localhost:7778', 7777)).toBe(false);
    expect(originAllowed('http://evil.example', 7777)).toBe(false);
    expect(originAllowed('null', 7777)).toBe(false);
  });
});

function connect(port: number, query = '', headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<{ ws: WebSocket; messages: Array<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events${query}`, { headers });
    const messages: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => messages.push(...(JSON.parse(String(d)) as Array<Record<string, unknown>>)));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('daemon events over WebSocket', () => {
  async function startWs(bus: EventBus, queueLimit = 1000): Promise<number> {
    events = wsEvents(bus, { queueLimit });
    const ws = events;
    return start(routes, { onUpgrade: (req, socket, head, url) => ws.handleUpgrade(req, socket, head, url) });
  }

  it('refuses upgrades without the token or from a foreign Origin', async () => {
    const port = await startWs(new EventBus());
    await expect(connect(port, '', {})).rejects.toThrow('status 401');
    await expect(connect(port, '', { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' })).rejects.toThrow('status 403');
    const { ws } = await connect(port, '', { authorization: `Bearer ${TOKEN}`, origin: `http://127.0.0.1:${port}` });
    ws.close();
  });

  it('filters by type and replays from since', async () => {
    const bus = new EventBus();
    const port = await startWs(bus);
    for (let i = 0; i < 5; i++) bus.publish(i % 2 ? 'sandbox.phase_changed' : 'run.frame', { kind: 'run', id: 't' }, { i });
    const { ws, messages } = await connect(port, '?types=run.*&since=2');
    bus.publish('run.completed', { kind: 'run', id: 't' }, {});
    await until(() => messages.some((m) => m.type === 'run.completed'), 'the live event');
    expect(messages[0]).toMatchObject({ type: 'hello', last_seq: 5 });
    expect(messages.slice(1).map((m) => [m.seq, m.type])).toEqual([
      [3, 'run.frame'],
      [5, 'run.frame'],
      [6, 'run.completed'],
    ]);
    ws.close();
  });

  it('a client that stops reading loses its oldest events (and is told), the others get every one, memory stays bounded', async () => {
    const bus = new EventBus();
    const port = await startWs(bus, 200);
    const fast = await connect(port);
    const slow = await connect(port);
    // The slow client stops reading its socket.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const payload = { text: 'x'.repeat(2000) };
    for (let i = 0; i < 5000; i++) {
      bus.publish('log.record', { kind: 'log', id: 'x' }, { i, ...payload });
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    await until(() => fast.messages.filter((m) => m.type === 'log.record').length === 5000, 'the fast client to get everything');
    expect(bus.subscribers).toBe(2);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => slow.messages.some((m) => m.type === 'events.dropped'), 'the slow client to be told');
    const dropped = slow.messages.filter((m) => m.type === 'events.dropped').reduce((n, m) => n + (m.count as number), 0);
    const got = slow.messages.filter((m) => m.type === 'log.record').length;
    expect(dropped).toBeGreaterThan(0);
    await until(() => slow.messages.filter((m) => m.type === 'log.record').length + dropped >= 5000 - 200, 'the slow client to drain');
    fast.ws.close();
    slow.ws.close();
    expect(got).toBeLessThan(5000);
  });
});

describe('server-sent events', () => {
  it('streams events with ids and ends when told', async () => {
    const bus = new EventBus();
    bus.publish('run.frame', { kind: 'run', id: 't' }, { n: 1 });
    const port = await start([
      {
        method: 'GET',
        path: '/v1/stream',
        handler: (c) => {
          serveSse(c.res, (onReady) => bus.subscribe({ since: 0, onReady }), { endWhen: (ev) => ev.type === 'run.completed' });
          return undefined;
        },
      },
    ]);
    setTimeout(() => bus.publish('run.completed', { kind: 'run', id: 't' }, { n: 2 }), 50);
    const r = await call(port, 'GET', '/v1/stream');
    expect(r.headers['content-type']).toContain('text/event-stream');
    const blocks = r.body.split('\n\n').filter((b) => b.startsWith('id:'));
    expect(blocks.map((b) => b.split('\n').slice(0, 2))).toEqual([
      ['id: 1', 'event: run.frame'],
      ['id: 2', 'event: run.completed'],
    ]);
  });
});
