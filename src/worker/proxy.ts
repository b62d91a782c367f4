/**
 * An HTTP(S)_PROXY for the worker's model calls. OpenShell sandboxes reach the
 * outside only through the proxy their supervisor names in HTTP_PROXY /
 * HTTPS_PROXY (direct connections are refused), and Node 20's http client ignores
 * those variables. http targets go to the proxy in absolute form; https targets
 * through a CONNECT tunnel, with TLS to the target inside it. NO_PROXY is honoured.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export type ProxyEnv = Record<string, string | undefined>;

function pick(env: ProxyEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** NO_PROXY: `*`, host names (a leading `.` or none matches subdomains too), host:port. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const [h, p] = entry.startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]] : (entry.split(':') as [string, string | undefined]);
    if (p && p !== port) continue;
    const bare = (h ?? '').replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

/** The proxy to use for `url`, or undefined for a direct connection. */
export function proxyFor(url: URL, env: ProxyEnv): URL | undefined {
  const raw = url.protocol === 'https:' ? pick(env, 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy') : pick(env, 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy');
  if (!raw) return undefined;
  if (bypassesProxy(url, pick(env, 'NO_PROXY', 'no_proxy'))) return undefined;
  try {
    const p = new URL(raw.includes('://') ? raw : `http://${raw}`);
    return p.protocol === 'http:' ? p : undefined; // an https:// proxy (TLS to the proxy itself) is not supported
  } catch {
    return undefined;
  }
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(cred).toString('base64')}` };
}

/** Request options that send an http request through the proxy (absolute form). */
export function viaProxyHttp(base: http.RequestOptions, url: URL, proxy: URL): http.RequestOptions {
  return {
    ...base,
    hostname: proxy.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: proxy.port || 80,
    path: url.href,
    headers: { ...(base.headers as Record<string, string>), ...proxyAuth(proxy) },
  };
}

/**
 * A `createConnection` for https.request: a CONNECT tunnel through the proxy,
 * then TLS to the target over it.
 */
export function tunnelThrough(proxy: URL, url: URL, tls: { ca?: string[] | undefined }): (opts: unknown, done: (err: Error | null, socket?: TLSSocket) => void) => undefined {
  return (_opts, done) => {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || 443);
    const target = `${url.hostname}:${port}`;
    const req = http.request({ hostname: proxy.hostname.replace(/^\[(.*)\]$/, '$1'), port: proxy.port || 80, method: 'CONNECT', path: target, headers: { host: target, ...proxyAuth(proxy) }, agent: false });
    req.once('connect', (res: http.IncomingMessage, socket: Socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        const err = new Error(`the proxy ${proxy.host} refused to connect to ${target} (HTTP ${res.statusCode})`) as NodeJS.ErrnoException;
        err.code = 'ECONNREFUSED';
        done(err);
        return;
      }
      const secure = tlsConnect({ socket, servername: host, ...(tls.ca ? { ca: tls.ca } : {}) });
      secure.once('secureConnect', () => done(null, secure));
      secure.once('error', (e) => done(e));
    });
    req.once('error', (e) => done(e));
    req.end();
    return undefined;
  };
}
