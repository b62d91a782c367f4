/**
 * One HTTP request with what the worker needs and global fetch lacks on Node 20:
 * Unix-socket transport (LOGOS_INFERENCE_SOCKET), an idle timeout between
 * chunks, abort by signal, and errors already classified as WorkerFailure.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { classifyNetworkError, idleFailure, WorkerFailure, type ClassifyContext } from './classify.js';
import { tunnelThrough, viaProxyHttp } from './proxy.js';

export interface HttpRequestOptions {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string | undefined;
  /** Send the request over this Unix socket instead of connecting to the URL's host. */
  socketPath?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Fail with TIMEOUT when nothing arrives for this long (before the headers or between chunks). */
  idleTimeoutMs: number;
  /** Extra CA bundle for https (SSL_CERT_FILE when NODE_EXTRA_CA_CERTS is not set). */
  caFile?: string | undefined;
  /** Go through this HTTP proxy (see proxy.ts); never with socketPath. */
  proxy?: URL | undefined;
  /** For error hints. */
  context?: ClassifyContext | undefined;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Lower-cased media type without parameters ('' when absent). */
  contentType: string;
  /** The body, decompressed; throws WorkerFailure (TIMEOUT, NETWORK, …). Read once. */
  chunks(): AsyncGenerator<Buffer, void, undefined>;
  /** The body as text, at most `limitBytes` (the rest is dropped). */
  text(limitBytes?: number): Promise<string>;
  /** Stop reading and drop the connection. */
  close(): void;
}

function loadCa(file: string | undefined): string[] | undefined {
  if (!file) return undefined;
  try {
    return [...rootCertificates, readFileSync(file, 'utf8')];
  } catch {
    return undefined;
  }
}

export function httpRequest(opts: HttpRequestOptions): Promise<HttpResponse> {
  const ctx: ClassifyContext = { ...opts.context, socketPath: opts.socketPath };
  const normalize = (err: unknown): WorkerFailure => classifyNetworkError(err, ctx);

  return new Promise<HttpResponse>((resolve, reject) => {
    const { url, signal } = opts;
    if (signal?.aborted) {
      reject(normalize(signal.reason));
      return;
    }
    const headers: Record<string, string> = { ...opts.headers, host: url.host };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));

    const useTls = !opts.socketPath && url.protocol === 'https:';
    const base: http.RequestOptions = {
      method: opts.method,
      path: `${url.pathname}${url.search}`,
      headers,
      agent: false, // one connection per request, nothing left open to hold the process
    };
    if (opts.socketPath) base.socketPath = opts.socketPath;
    else {
      base.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
      base.port = url.port || (useTls ? 443 : 80);
    }
    let req: http.ClientRequest;
    try {
      const proxy = opts.socketPath ? undefined : opts.proxy;
      if (useTls) {
        const ca = loadCa(opts.caFile);
        const tlsOpts = ca ? { ...base, ca } : base;
        if (proxy) {
          // A one-off agent whose connection is the tunnel (with `agent: false` Node would ignore createConnection).
          const agent = new https.Agent({ keepAlive: false });
          agent.createConnection = tunnelThrough(proxy, url, { ca }) as unknown as typeof agent.createConnection;
          req = https.request({ ...tlsOpts, agent });
        } else req = https.request(tlsOpts);
      } else {
        req = http.request(proxy ? viaProxyHttp(base, url, proxy) : base);
      }
    } catch (err) {
      reject(normalize(err));
      return;
    }

    let failure: WorkerFailure | undefined;
    let settled = false;
    let body: Readable | undefined;
    let idle: NodeJS.Timeout | undefined;

    const disarm = (): void => {
      if (idle) clearTimeout(idle);
      idle = undefined;
    };
    const fail = (err: WorkerFailure): void => {
      failure ??= err;
      disarm();
      req.destroy(failure);
      body?.destroy(failure);
    };
    const arm = (): void => {
      disarm();
      idle = setTimeout(() => fail(idleFailure(opts.idleTimeoutMs)), opts.idleTimeoutMs);
    };
    const onAbort = (): void => fail(normalize(signal?.reason));
    const cleanup = (): void => {
      disarm();
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (err) => {
      if (settled) return; // after the response, errors surface through the body
      settled = true;
      cleanup();
      reject(failure ?? normalize(err));
    });

    req.on('response', (res) => {
      settled = true;
      arm();
      res.on('error', () => {
        // surfaced by the body iterator; this listener only keeps it from being "unhandled"
      });
      const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
      let stream: Readable = res;
      if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.pipe(createGunzip());
      else if (encoding === 'deflate') stream = res.pipe(createInflate());
      else if (encoding === 'br') stream = res.pipe(createBrotliDecompress());
      if (stream !== res) {
        stream.on('error', () => undefined);
        res.on('error', (err) => stream.destroy(err));
      }
      body = stream;
      let consumed = false;

      async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
        if (consumed) throw new Error('response body already consumed');
        consumed = true;
        try {
          for await (const chunk of stream) {
            // Time the reader spends with a chunk (e.g. waiting for the host to take our
            // output) is not the model being idle: the clock runs only while we wait for it.
            disarm();
            yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
            arm();
          }
          if (failure) throw failure;
        } catch (err) {
          throw failure ?? normalize(err);
        } finally {
          cleanup();
        }
      }

      const contentType = String(res.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();

      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        contentType,
        chunks,
        async text(limitBytes = 64 * 1024): Promise<string> {
          const parts: Buffer[] = [];
          let size = 0;
          for await (const c of chunks()) {
            if (size < limitBytes) parts.push(c.subarray(0, limitBytes - size));
            size += c.length;
            if (size >= limitBytes) break;
          }
          return Buffer.concat(parts).toString('utf8');
        },
        close(): void {
          cleanup();
          stream.destroy();
          res.destroy();
          req.destroy();
        },
      });
    });

    arm();
    req.end(opts.body);
  });
}
