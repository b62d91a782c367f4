import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskInput } from '../../src/core/protocol.js';
import type { WorkerLogger } from '../../src/worker/log.js';
import { bypassesProxy, proxyFor } from '../../src/worker/proxy.js';
import { runTask } from '../../src/worker/run.js';

/**
 * The worker through an HTTP proxy, as in OpenShell sandboxes: a real forward proxy
 * (absolute-form requests and CONNECT tunnels) in front of a model server over http
 * and over https (a certificate made for the test).
 */

const quiet: WorkerLogger = { debug() {}, info() {}, warn() {}, error() {}, setTaskId() {} };
const SSE = 'data: {"choices":[{"index":0,"delta":{"content":"via the proxy"},"finish_reason":null}]}\n\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';

let dir: string;
let plain: http.Server;
let secure: https.Server;
let proxy: http.Server;
const seen: string[] = [];

const listen = (s: net.Server): Promise<number> => new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const model = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
  _req.resume();
  _req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(SSE);
  });
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'logos-proxy-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  plain = http.createServer(model);
  secure = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, model);
  // A forward proxy: absolute-form for http, CONNECT tunnels for https; it records what it was asked.
  proxy = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const up = http.request({ hostname: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  proxy.on('connect', (req, socket: net.Socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const up = net.connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
  });
  await Promise.all([listen(plain), listen(secure), listen(proxy)]);
});
afterAll(() => {
  plain.close();
  secure.close();
  proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

const task = (baseUrl: string): TaskInput => ({ v: 1, type: 'task', task_id: 't_proxy', sandbox: 'x', route: { provider: 'custom', model: 'm', api: 'openai-chat', base_url: baseUrl }, messages: [{ role: 'user', content: 'hi' }] });
const port = (s: net.Server): number => (s.address() as AddressInfo).port;

describe('the worker behind an HTTP proxy', () => {
  it('sends http requests to the proxy in absolute form', async () => {
    seen.length = 0;
    const url = `http://127.0.0.1:${port(plain)}/v1`;
    const r = await runTask(task(url), { env: { HTTP_PROXY: `http://127.0.0.1:${port(proxy)}` }, log: quiet, emit: () => {} });
    expect(r.finalResponse).toBe('via the proxy');
    expect(seen).toEqual([`POST ${url}/chat/completions`]);
  });

  it('tunnels https through CONNECT and speaks TLS to the model server inside it', async () => {
    seen.length = 0;
    const url = `https://localhost:${port(secure)}/v1`;
    const r = await runTask(task(url), { env: { HTTPS_PROXY: `127.0.0.1:${port(proxy)}`, SSL_CERT_FILE: join(dir, 'cert.pem') }, log: quiet, emit: () => {} });
    expect(r.finalResponse).toBe('via the proxy');
    expect(seen).toEqual([`CONNECT localhost:${port(secure)}`]);
  });

  it('goes direct for NO_PROXY hosts, and when no proxy is set', async () => {
    seen.length = 0;
    const url = `http://127.0.0.1:${port(plain)}/v1`;
    await runTask(task(url), { env: { HTTP_PROXY: `http://127.0.0.1:${port(proxy)}`, NO_PROXY: 'localhost,127.0.0.1' }, log: quiet, emit: () => {} });
    await runTask(task(url), { env: {}, log: quiet, emit: () => {} });
    expect(seen).toEqual([]);
  });

  it('reads the proxy variables as curl does', () => {
    const u = new URL('https://api.example.com/v1');
    expect(proxyFor(u, { https_proxy: 'http://p:3128' })?.host).toBe('p:3128');
    expect(proxyFor(u, { HTTP_PROXY: 'http://p:3128' })).toBeUndefined(); // http proxy is for http targets
    expect(proxyFor(u, { ALL_PROXY: 'p:8080' })?.host).toBe('p:8080');
    expect(proxyFor(u, { HTTPS_PROXY: 'https://p:443' })).toBeUndefined(); // TLS to the proxy: not supported, go direct
    expect(bypassesProxy(u, 'example.com')).toBe(true);
    expect(bypassesProxy(u, '.example.com')).toBe(true);
    expect(bypassesProxy(u, '*.example.com')).toBe(true);
    expect(bypassesProxy(u, 'ample.com')).toBe(false);
    expect(bypassesProxy(u, 'api.example.com:8443')).toBe(false);
    expect(bypassesProxy(u, 'api.example.com:443')).toBe(true);
    expect(bypassesProxy(u, '*')).toBe(true);
  });
});
