import type { IncomingMessage } from 'node:http';
import { lazyBuiltin } from '../core/builtins.js';
import type WebSocket from 'ws';
import { LogosError } from '../core/errors.js';
import { liveDaemon, readToken, type PidRecord } from './files.js';

/** node:http loads when a daemon is there to talk to, not with every command that looks (`logos status`). */
const http = lazyBuiltin<typeof import('node:http')>('node:http');

/**
 * Talking to the daemon of this LOGOS_HOME, when one runs: found through its pid
 * file (checked against the process's start time), authenticated with its token.
 */

export interface DaemonClient {
  info: PidRecord;
  get<T = unknown>(path: string, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<T>;
  post<T = unknown>(path: string, body: unknown, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<T>;
  del<T = unknown>(path: string, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<T>;
  /**
   * The live event stream (WebSocket /v1/events), authenticated; the token stays in here.
   * ws loads here, not with every command that looks for the daemon (`logos status`).
   */
  events(query?: { since?: number; types?: string[] }): Promise<WebSocket>;
  /** A streaming GET (server-sent events): the raw response, for the caller to read. */
  stream(path: string, opts?: { signal?: AbortSignal; headers?: Record<string, string> }): Promise<IncomingMessage>;
}

export function connectHost(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}

/** The running daemon's client, or undefined when none runs (a stale pid file counts as none). */
export function findDaemon(paths: { daemonPidFile: string; daemonTokenFile: string }): DaemonClient | undefined {
  const info = liveDaemon(paths.daemonPidFile);
  if (!info) return undefined;
  return daemonClient(info, readToken(paths.daemonTokenFile));
}

/** A client for the daemon at `info.host:info.port` with this token. */
export function daemonClient(info: PidRecord, token: string): DaemonClient {
  const host = connectHost(info.host);

  const call = <T>(method: string, path: string, body: unknown, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http().request(
        { host, port: info.port, method, path, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) }, signal: opts.signal, timeout: opts.timeoutMs ?? 10_000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => {
            let v: unknown;
            try {
              v = JSON.parse(text) as unknown;
            } catch {
              reject(new LogosError('INVALID_RESPONSE', `The daemon answered ${method} ${path} with something that is not JSON (HTTP ${res.statusCode}).`));
              return;
            }
            const err = (v as { ok?: boolean; error?: { code: string; message: string; hint?: string } }).error;
            if ((res.statusCode ?? 500) >= 400 && err) reject(new LogosError(err.code as LogosError['code'], err.message, { hint: err.hint }));
            else resolve(v as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new LogosError('TIMEOUT', `The daemon did not answer ${method} ${path} in time.`, { hint: 'Check it with `logos daemon status`.' })));
      req.on('error', (e) => reject(e instanceof LogosError ? e : new LogosError('DAEMON_UNAVAILABLE', `The daemon (pid ${info.pid}) could not be reached: ${e.message}`, { hint: 'Check it with `logos daemon status`; restart it with `logos daemon restart`.' })));
      req.end(payload);
    });

  return {
    info,
    get: (path, opts) => call('GET', path, undefined, opts),
    post: (path, body, opts) => call('POST', path, body, opts),
    del: (path, opts) => call('DELETE', path, undefined, opts),
    events: async (query = {}) => {
      const { default: WebSocketClient } = await import('ws');
      const q = new URLSearchParams();
      if (query.since !== undefined) q.set('since', String(query.since));
      if (query.types?.length) q.set('types', query.types.join(','));
      const qs = q.toString();
      const h = host.includes(':') ? `[${host}]` : host;
      return new WebSocketClient(`ws://${h}:${info.port}/v1/events${qs ? `?${qs}` : ''}`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, handshakeTimeout: 10_000 });
    },
    stream: (path, opts = {}) =>
      new Promise((resolve, reject) => {
        const req = http().request({ host, port: info.port, method: 'GET', path, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...opts.headers }, signal: opts.signal }, (res) => {
          if ((res.statusCode ?? 500) >= 400) {
            res.resume();
            reject(new LogosError('DAEMON_UNAVAILABLE', `The daemon answered ${path} with HTTP ${res.statusCode}.`));
            return;
          }
          resolve(res);
        });
        req.on('error', reject);
        req.end();
      }),
  };
}
