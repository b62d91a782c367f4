import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import { unlink } from 'node:fs/promises';
import { lazyBuiltin } from '../../core/builtins.js';
import type { Logger } from '../../core/context.js';
import type { RouteApi } from '../../core/protocol.js';
import { createByteScrubber } from './scrub-stream.js';

/**
 * The host-side inference proxy of the local driver, the same model as
 * OpenShell's inference.local: the sandbox talks to a Unix socket, the proxy
 * forwards to the route's upstream and adds the credential there, and pins the
 * route's model. No key ever enters the sandbox.
 *
 * The worker on the other side is treated as hostile: it gets a bounded number
 * of connections and upstream requests, nothing it sends beyond an allowlist
 * reaches the upstream, and the key is scrubbed from whatever the upstream
 * answers (an upstream may echo it in an error). close() cuts everything off.
 */

export interface ProxyOptions {
  socketPath: string;
  /** The route's base URL, e.g. http://127.0.0.1:1234/v1 or https://api.anthropic.com/v1. */
  upstream: string;
  api: RouteApi;
  model: string;
  apiKey?: string;
  logger: Logger;
  /** Max request body the sandbox may send (bytes). */
  maxBodyBytes?: number;
  /** Max requests in flight to the upstream at once; more are answered 429 without contacting it. Default 8. */
  maxConcurrent?: number;
  /** Max sandbox-side connections to the socket; more are dropped on accept. Default 64. */
  maxConnections?: number;
}

export interface InferenceProxy {
  socketPath: string;
  requests: number;
  close(): Promise<void>;
}

const ALLOWED: Array<{ method: string; path: string }> = [
  { method: 'POST', path: '/chat/completions' },
  { method: 'POST', path: '/completions' },
  { method: 'POST', path: '/responses' },
  { method: 'POST', path: '/embeddings' },
  { method: 'POST', path: '/messages' },
  { method: 'GET', path: '/models' },
];

/** Request headers passed upstream; everything else (including the sandbox's Authorization) is dropped. */
const PASS_HEADERS = ['content-type', 'accept', 'anthropic-version', 'anthropic-beta', 'openai-organization', 'x-model-id'];

/** Response headers passed back to the sandbox (and only when they do not contain the key). */
const RETURN_HEADERS = ['content-type', 'cache-control', 'retry-after', 'x-request-id', 'request-id'];

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { type, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

type BodyRead = { body: Buffer } | { error: 'too-large' | 'aborted' };

async function readBody(req: IncomingMessage, max: number): Promise<BodyRead> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > max) return { error: 'too-large' };
      parts.push(b);
    }
  } catch {
    return { error: 'aborted' };
  }
  // A connection cut mid-body can end the iteration quietly: never forward a partial body.
  if (!req.complete) return { error: 'aborted' };
  return { body: Buffer.concat(parts) };
}

/**
 * Node's HTTP server and client each handle their first request ~10 ms slower than the
 * next ones (their parsing and writing paths compile on first use), and the worker's first
 * request is the task's model call, which the proxy serves and makes upstream. So the proxy
 * first asks itself for a page it does not serve (a 404 that never reaches the model
 * server) while the sandbox is still starting. Never fails, never waits long.
 */
function warmUp(socketPath: string, http: typeof import('node:http')): Promise<void> {
  return new Promise<void>((resolve) => {
    const req = http.request({ socketPath, path: '/v1/logos-warm-up', method: 'POST', agent: false, timeout: 1000, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve());
    req.end('{}');
  });
}

/**
 * node:http loads when a proxy starts, once the task's sandbox is already starting (not with
 * every command), and node:https (and TLS) only for an https upstream.
 */
const nodeHttp = lazyBuiltin<typeof import('node:http')>('node:http');
const nodeHttps = lazyBuiltin<typeof import('node:https')>('node:https');

function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function startInferenceProxy(opts: ProxyOptions): Promise<InferenceProxy> {
  const base = new URL(opts.upstream.replace(/\/+$/, ''));
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxConcurrent = opts.maxConcurrent ?? 8;
  const maxConnections = opts.maxConnections ?? 64;
  const log = opts.logger.child({ source: 'proxy' });
  const key = opts.apiKey || undefined;
  // A very short "key" (a local server's placeholder such as "x") is no secret, and masking
  // it would mangle ordinary text in replies.
  const secret = key && key.length >= 8 ? key : undefined;
  const state = { requests: 0, inFlight: 0, closed: false, refusedRequests: 0, droppedConnections: 0 };
  const upstreams = new Set<ClientRequest>();
  // An agent of our own: close() can destroy its idle keep-alive sockets too, and it never opens more than the cap.
  const agentOpts = { keepAlive: true, maxSockets: Math.max(1, maxConcurrent) };
  const http = nodeHttp();
  const https = base.protocol === 'https:' ? nodeHttps() : undefined;
  const agent = https ? new https.Agent(agentOpts) : new http.Agent(agentOpts);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    state.requests += 1;
    if (state.closed) {
      res.destroy();
      return;
    }
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://inference.local');
    // The sandbox speaks the usual /v1/... paths; map them onto the upstream's base path.
    const suffix = url.pathname.replace(/^\/v1(?=\/)/, '');
    const allowed = ALLOWED.find((a) => a.method === req.method && a.path === suffix);
    if (!allowed) {
      sendError(res, 404, 'not_found', `inference.local does not serve ${req.method} ${url.pathname}`);
      return;
    }
    // The slot is taken before the body is read, so a refused request is never buffered.
    if (state.inFlight >= maxConcurrent) {
      state.refusedRequests += 1;
      // Once per proxy: a hostile worker must not be able to flood the log.
      if (state.refusedRequests === 1) log.warn('too many concurrent requests; answering 429', { max_concurrent: maxConcurrent });
      sendError(res, 429, 'rate_limited', `inference.local allows ${maxConcurrent} requests at once; retry when one has finished.`);
      return;
    }
    state.inFlight += 1;
    const exchange: { upstream?: ClientRequest; done: boolean } = { done: false };
    // The response closes however the exchange ends (answered, refused, client gone, close()): free the slot there.
    res.once('close', () => {
      state.inFlight -= 1;
      if (exchange.upstream && !exchange.done) exchange.upstream.destroy();
    });

    let body: Buffer | undefined;
    if (req.method === 'POST') {
      const read = await readBody(req, maxBody);
      if ('error' in read) {
        if (read.error === 'too-large') sendError(res, 413, 'request_too_large', `request body over ${maxBody} bytes`);
        else res.destroy();
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(read.body.toString('utf8'));
      } catch {
        sendError(res, 400, 'invalid_request', 'request body is not JSON');
        return;
      }
      // An array (or a bare value) would silently skip the model pin below.
      if (!isJsonObject(json)) {
        sendError(res, 400, 'invalid_request', 'request body must be a JSON object');
        return;
      }
      // Like OpenShell's router: the route decides the model, not the request.
      json.model = opts.model;
      body = Buffer.from(JSON.stringify(json));
    }
    // close() may have run while the body was read.
    if (state.closed || res.destroyed) {
      res.destroy();
      return;
    }
    const headers: Record<string, string | number> = {};
    for (const h of PASS_HEADERS) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    // A compressed answer could not be scrubbed of the key on the fly.
    headers['accept-encoding'] = 'identity';
    if (opts.api === 'anthropic-messages') {
      if (!headers['anthropic-version']) headers['anthropic-version'] = '2023-06-01';
      if (key) headers['x-api-key'] = key;
    } else if (key) {
      headers.authorization = `Bearer ${key}`;
    }
    if (body) headers['content-length'] = body.length;
    // Exactly base URL + mapped path: the sandbox's query string is not forwarded, the base URL's own query is kept.
    const target = new URL(base.toString());
    target.pathname = `${base.pathname.replace(/\/+$/, '')}${suffix}`;
    const doRequest = https ? https.request : http.request;
    const outbound = doRequest(target, { method: req.method, headers, agent });
    exchange.upstream = outbound;
    upstreams.add(outbound);
    outbound.on('close', () => upstreams.delete(outbound));
    outbound.on('response', (up) => {
      const encoding = (up.headers['content-encoding'] ?? '').trim().toLowerCase() || 'identity';
      if (encoding !== 'identity') {
        exchange.done = true;
        up.destroy();
        log.warn('upstream answered with an encoded body', { upstream_host: target.host, status: up.statusCode, content_encoding: encoding });
        sendError(res, 502, 'proxy_error', `The model server at ${target.origin} answered with content-encoding ${encoding}; inference.local only passes on identity bodies.`);
        return;
      }
      const outHeaders: Record<string, string> = {};
      for (const h of RETURN_HEADERS) {
        const v = up.headers[h];
        if (typeof v === 'string' && !(secret && v.includes(secret))) outHeaders[h] = v;
      }
      res.writeHead(up.statusCode ?? 502, outHeaders);
      res.flushHeaders();
      const scrubber = secret ? createByteScrubber(secret) : undefined;
      let paused = false;
      up.on('data', (chunk: Buffer) => {
        const out = scrubber ? scrubber.push(chunk) : chunk;
        // Backpressure: a worker that does not read must not make the host buffer the whole answer.
        if (out.length > 0 && !res.write(out) && !paused) {
          paused = true;
          up.pause();
          res.once('drain', () => {
            paused = false;
            up.resume();
          });
        }
      });
      up.on('end', () => {
        exchange.done = true;
        const tail = scrubber?.end();
        res.end(tail && tail.length > 0 ? tail : undefined);
        log.debug('proxied', { method: req.method, path: suffix, status: up.statusCode, duration_ms: Date.now() - started, upstream_host: target.host });
      });
      up.on('error', () => res.destroy());
      // Cut mid-body: the sandbox must see a broken response, not a clean (short) one.
      up.on('close', () => {
        if (!up.complete) res.destroy();
      });
    });
    outbound.on('error', (err: NodeJS.ErrnoException) => {
      if (state.closed || res.writableEnded || res.destroyed) return;
      log.warn('upstream unreachable', { upstream_host: target.host, code: err.code, error: err.message });
      // 502 with a network_error type: the worker classifies it as NETWORK, with the upstream's host in the message.
      sendError(res, 502, 'network_error', `Logos could not reach the model server at ${target.origin} (${err.code ?? err.message}).`);
    });
    outbound.end(body);
  };

  const server: Server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('proxy failure', { error: err instanceof Error ? err.message : String(err) });
      sendError(res, 500, 'proxy_error', 'inference proxy failure');
    });
  });
  server.maxConnections = maxConnections;
  server.on('drop', () => {
    state.droppedConnections += 1;
    if (state.droppedConnections === 1) log.warn('too many connections; dropping new ones', { max_connections: maxConnections });
  });
  await unlink(opts.socketPath).catch(() => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await warmUp(opts.socketPath, http);
  let closing: Promise<void> | undefined;
  return {
    socketPath: opts.socketPath,
    get requests() {
      return state.requests;
    },
    close() {
      closing ??= (async () => {
        // Everything at once and synchronously: a lingering worker must not get one more authenticated call through.
        state.closed = true;
        const stopped = new Promise<void>((r) => server.close(() => r()));
        for (const u of upstreams) u.destroy();
        server.closeAllConnections();
        agent.destroy();
        await stopped;
        await unlink(opts.socketPath).catch(() => {});
        if (state.refusedRequests > 0 || state.droppedConnections > 0) {
          log.warn('proxy refused work over its caps', { refused_requests: state.refusedRequests, dropped_connections: state.droppedConnections });
        }
      })();
      return closing;
    },
  };
}
