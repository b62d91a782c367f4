import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/context.js';
import { LogosError, type ReasonCode } from '../core/errors.js';
import { redactValue } from '../core/redact.js';

/**
 * The daemon's HTTP layer: routing, bearer-token auth (constant-time), body limits
 * (413), per-connection rate limits (429), JSON errors with the CLI's reason codes,
 * no CORS, and WebSocket upgrades refused from a foreign Origin. Handlers take
 * plain input and return plain data; this file owns the wire.
 */

export interface RequestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (POST/PUT/PATCH), or undefined. */
  body: unknown;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  req: IncomingMessage;
  res: ServerResponse;
}

/** A handler returns data (sent as JSON), or `undefined` when it wrote the response itself (SSE). */
export type Handler = (ctx: RequestContext) => Promise<HandlerResult | undefined> | HandlerResult | undefined;
export interface HandlerResult {
  status?: number;
  body?: unknown;
  /** The body already as JSON text, masked (a hot path serves it from a cache). */
  raw?: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  /** `/v1/runs/:id/events`: segments starting with `:` are parameters. */
  path: string;
  handler: Handler;
  /** Reachable without the token (only /health), unless the daemon listens off loopback. */
  public?: boolean;
}

export interface HttpOptions {
  host: string;
  port: number;
  token: string;
  routes: Route[];
  logger: Logger;
  /** Largest request body accepted (bytes). */
  maxBodyBytes?: number;
  /** Requests per second per connection, with a burst of twice that. */
  rateLimit?: number;
  maxConnections?: number;
  /** WebSocket upgrades (after auth and the Origin check). */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void;
}

const STATUS_BY_CODE: Partial<Record<ReasonCode | 'UNAUTHORIZED' | 'RATE_LIMITED' | 'PAYLOAD_TOO_LARGE', number>> = {
  USAGE: 400,
  INVALID_ARGUMENT: 400,
  INVALID_NAME: 400,
  TASK_TOO_LARGE: 413,
  NOT_FOUND: 404,
  NO_DEFAULT_ROUTE: 404,
  NO_CREDENTIAL: 404,
  ALREADY_EXISTS: 409,
  IN_USE: 409,
  PORT_IN_USE: 409,
  STATE_LOCKED: 503,
  SANDBOX_UNAVAILABLE: 503,
  GATEWAY_UNREACHABLE: 503,
  CANCELLED: 409,
  TASK_TIMEOUT: 504,
};

export function statusFor(code: string): number {
  return Object.hasOwn(STATUS_BY_CODE, code) ? (STATUS_BY_CODE[code as ReasonCode] ?? 500) : 500;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = `${JSON.stringify(redactValue(body))}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function sendError(res: ServerResponse, err: LogosError | { code: string; message: string; hint?: string }, status?: number): void {
  const e = err instanceof LogosError ? err.toJSON() : err;
  sendJson(res, status ?? statusFor(e.code), { ok: false, error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } });
}

/**
 * Constant-time comparison of a presented token with the daemon's. Only the length
 * can be learnt from timing, and every token has the same length (43 characters).
 */
export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\./.test(host);
}

/** An Origin is ours when it names the loopback host the daemon listens on; none at all is a non-browser client. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && isLoopback(u.hostname.replace(/^\[|\]$/g, '')) && Number(u.port || (u.protocol === 'https:' ? 443 : 80)) === port;
  } catch {
    return false;
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

function compile(routes: Route[]): Array<Route & { parts: string[] }> {
  return routes.map((r) => ({ ...r, parts: r.path.split('/').filter(Boolean) }));
}

function match(parts: string[], path: string[]): Record<string, string> | undefined {
  if (parts.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const seg = path[i] as string;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(seg);
      } catch {
        return undefined;
      }
    } else if (p !== seg) return undefined;
  }
  return params;
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw new LogosError('TASK_TOO_LARGE', `The request body is over ${max} bytes.`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new LogosError('TASK_TOO_LARGE', `The request body is over ${max} bytes.`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

export interface HttpServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(opts: HttpOptions): Promise<HttpServer> {
  const routes = compile(opts.routes);
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const rate = opts.rateLimit ?? 500;
  const loopback = isLoopback(opts.host);
  const log = opts.logger.child({ source: 'daemon' });
  const buckets = new WeakMap<Socket, Bucket>();
  let port = opts.port;

  const allowRequest = (socket: Socket): boolean => {
    const now = Date.now();
    const b = buckets.get(socket) ?? { tokens: rate * 2, at: now };
    b.tokens = Math.min(rate * 2, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    buckets.set(socket, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://daemon.local');
    const method = req.method ?? 'GET';
    if (!allowRequest(req.socket)) {
      res.setHeader('retry-after', '1');
      sendError(res, { code: 'RATE_LIMITED', message: `More than ${rate} requests per second on this connection.`, hint: 'Slow down, or spread the requests over time.' }, 429);
      return;
    }
    // No CORS: a browser page may not call the daemon, so no preflight is ever answered.
    if (method === 'OPTIONS') {
      sendError(res, { code: 'USAGE', message: 'Cross-origin requests are not served.' }, 405);
      return;
    }
    const path = url.pathname.split('/').filter(Boolean);
    const candidates = routes.filter((r) => match(r.parts, path) !== undefined);
    if (candidates.length === 0) {
      sendError(res, { code: 'NOT_FOUND', message: `Nothing at ${url.pathname}.`, hint: 'See the API in the README (`/v1/...`).' }, 404);
      return;
    }
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      res.setHeader('allow', candidates.map((r) => r.method).join(', '));
      sendError(res, { code: 'USAGE', message: `${method} is not allowed on ${url.pathname}.` }, 405);
      return;
    }
    if (!(route.public && loopback) && !tokenMatches(bearer(req), opts.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="logos"');
      sendError(res, { code: 'UNAUTHORIZED', message: 'A valid bearer token is required.', hint: 'Send `Authorization: Bearer <token>`; the token is in the file `logos daemon status` names.' }, 401);
      return;
    }
    // The signal is made only for handlers that ask for it (it costs on the busiest path).
    let controller: AbortController | undefined;
    const signalOf = (): AbortSignal => {
      if (!controller) {
        const c = new AbortController();
        controller = c;
        res.on('close', () => {
          if (!res.writableFinished) c.abort();
        });
      }
      return controller.signal;
    };
    let body: unknown;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const raw = await readBody(req, maxBody);
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8')) as unknown;
        } catch {
          throw new LogosError('INVALID_ARGUMENT', 'The request body is not JSON.', { hint: 'Send `content-type: application/json` with a JSON object.' });
        }
      }
    }
    const result = await route.handler({
      method,
      path: url.pathname,
      params: match(route.parts, path) ?? {},
      query: url.searchParams,
      headers: req.headers,
      body,
      get signal() {
        return signalOf();
      },
      req,
      res,
    });
    if (result === undefined) return;
    if (result.raw !== undefined) {
      res.writeHead(result.status ?? 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(result.raw), 'cache-control': 'no-store' });
      res.end(result.raw);
    } else sendJson(res, result.status ?? 200, result.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof LogosError ? err : new LogosError('INTERNAL', err instanceof Error ? err.message : String(err));
      if (e.code === 'INTERNAL') log.error('request failed', { path: req.url, error: e.message });
      if (e.code === 'TASK_TOO_LARGE' && !res.headersSent) {
        // Answer, then close: the rest of an oversized body is never read.
        res.setHeader('connection', 'close');
        res.on('finish', () => req.socket.destroySoon());
        sendError(res, e, 413);
        return;
      }
      sendError(res, e);
    });
  });
  server.maxConnections = opts.maxConnections ?? 256;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://daemon.local');
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    if (!originAllowed(origin, port)) return refuse(403, 'Forbidden');
    if (!tokenMatches(bearer(req), opts.token)) return refuse(401, 'Unauthorized');
    if (!opts.onUpgrade) return refuse(404, 'Not Found');
    opts.onUpgrade(req, socket, head, url);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
