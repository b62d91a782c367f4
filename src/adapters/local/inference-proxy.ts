import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { unlink } from 'node:fs/promises';
import type { Logger } from '../../core/context.js';
import type { RouteApi } from '../../core/protocol.js';

/**
 * The host-side inference proxy of the local driver, the same model as
 * OpenShell's inference.local: the sandbox talks to a Unix socket, the proxy
 * forwards to the route's upstream and adds the credential there, and pins the
 * route's model. No key ever enters the sandbox.
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

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { type, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) return undefined;
    parts.push(b);
  }
  return Buffer.concat(parts);
}

export async function startInferenceProxy(opts: ProxyOptions): Promise<InferenceProxy> {
  const base = new URL(opts.upstream.replace(/\/+$/, ''));
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const log = opts.logger.child({ source: 'proxy' });
  const state = { requests: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    state.requests += 1;
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://inference.local');
    // The sandbox speaks the usual /v1/... paths; map them onto the upstream's base path.
    const suffix = url.pathname.replace(/^\/v1(?=\/)/, '');
    const allowed = ALLOWED.find((a) => a.method === req.method && a.path === suffix);
    if (!allowed) {
      sendError(res, 404, 'not_found', `inference.local does not serve ${req.method} ${url.pathname}`);
      return;
    }
    let body: Buffer | undefined;
    if (req.method === 'POST') {
      body = await readBody(req, maxBody);
      if (!body) {
        sendError(res, 413, 'request_too_large', `request body over ${maxBody} bytes`);
        return;
      }
      try {
        const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        // Like OpenShell's router: the route decides the model, not the request.
        json.model = opts.model;
        body = Buffer.from(JSON.stringify(json));
      } catch {
        sendError(res, 400, 'invalid_request', 'request body is not JSON');
        return;
      }
    }
    const headers: Record<string, string | number> = {};
    for (const h of PASS_HEADERS) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    if (opts.api === 'anthropic-messages') {
      if (!headers['anthropic-version']) headers['anthropic-version'] = '2023-06-01';
      if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
    } else if (opts.apiKey) {
      headers.authorization = `Bearer ${opts.apiKey}`;
    }
    if (body) headers['content-length'] = body.length;
    const target = new URL(base.toString());
    target.pathname = `${base.pathname.replace(/\/+$/, '')}${suffix}`;
    target.search = url.search;
    const doRequest = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = doRequest(target, { method: req.method, headers });
    const abort = (): void => {
      upstream.destroy();
    };
    res.on('close', abort);
    upstream.on('response', (up) => {
      const outHeaders: Record<string, string> = {};
      for (const h of ['content-type', 'cache-control', 'retry-after', 'x-request-id', 'request-id']) {
        const v = up.headers[h];
        if (typeof v === 'string') outHeaders[h] = v;
      }
      res.writeHead(up.statusCode ?? 502, outHeaders);
      res.flushHeaders();
      up.on('data', (chunk: Buffer) => {
        res.write(chunk);
      });
      up.on('end', () => {
        res.end();
        log.debug('proxied', { method: req.method, path: suffix, status: up.statusCode, duration_ms: Date.now() - started, upstream_host: target.host });
      });
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.writableEnded || res.destroyed) return;
      log.warn('upstream unreachable', { upstream_host: target.host, code: err.code, error: err.message });
      // 502 with a network_error type: the worker classifies it as NETWORK, with the upstream's host in the message.
      sendError(res, 502, 'network_error', `Logos could not reach the model server at ${target.origin} (${err.code ?? err.message}).`);
    });
    upstream.end(body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('proxy failure', { error: err instanceof Error ? err.message : String(err) });
      sendError(res, 500, 'proxy_error', 'inference proxy failure');
    });
  });
  await unlink(opts.socketPath).catch(() => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    socketPath: opts.socketPath,
    get requests() {
      return state.requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await unlink(opts.socketPath).catch(() => {});
    },
  };
}
