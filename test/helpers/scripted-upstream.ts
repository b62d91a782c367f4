import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the upstream saw it. */
export interface UpstreamRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Resolves once the exchange is over on the upstream's side, answered or cut off. */
  closed: Promise<void>;
}

/** The test decides how each request is answered (or left hanging). */
export type UpstreamHandler = (req: UpstreamRequest, res: ServerResponse) => void | Promise<void>;

export interface ScriptedUpstream {
  /** Base URL with the /v1 path, as a route's endpoint. */
  url: string;
  origin: string;
  requests: UpstreamRequest[];
  /** TCP connections accepted so far. */
  connections: number;
  /** Resolves once n requests (bodies read) have arrived. */
  received(n: number): Promise<void>;
  /** Resolves once no connection to the upstream is open (keep-alive ones included). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that plays a model server's part, scripted per test. */
export async function startScriptedUpstream(handler: UpstreamHandler): Promise<ScriptedUpstream> {
  const requests: UpstreamRequest[] = [];
  const sockets = new Set<Socket>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const drainWaiters: Array<() => void> = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const closed = new Promise<void>((r) => res.once('close', () => r()));
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const rec: UpstreamRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts), closed };
      requests.push(rec);
      for (const w of waiters.filter((x) => requests.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      void Promise.resolve(handler(rec, res)).catch(() => res.destroy());
    });
  });
  // Idle keep-alive connections stay open until the client closes them: tests see who does.
  server.keepAliveTimeout = 0;
  server.on('connection', (s: Socket) => {
    connections += 1;
    sockets.add(s);
    s.once('close', () => {
      sockets.delete(s);
      if (sockets.size === 0) for (const w of drainWaiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/v1`,
    origin,
    requests,
    get connections() {
      return connections;
    },
    received(n) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
    drained() {
      if (sockets.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
