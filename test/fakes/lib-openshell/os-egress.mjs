// The sandbox supervisor's network proxy as the fake plays it for 0.1.x `sandbox exec`
// (openshell-0.1.md §5 "Placeholders and credential swap", §6). Every request is checked against
// the effective policy (the attached providers' profile endpoints plus the sandbox policy), and
// `openshell:resolve:env:KEY` placeholders in headers, the path and the query are replaced by the
// real secret only when the destination is one of the endpoints of the profile that declares KEY:
// elsewhere the request is refused (403 credential_endpoint_mismatch), an unknown placeholder
// fails closed. Bodies are not rewritten (that is opt-in). host.openshell.internal is the host.
//
// How requests reach it: the real supervisor gives processes HTTP(S)_PROXY/NO_PROXY and
// NODE_USE_ENV_PROXY=1 and rejects direct connections. The fake sets the same variables, and for
// Node processes it also loads sandbox-egress.cjs, which sends direct TCP connections to this
// proxy (FAKE_OPENSHELL_EGRESS=transparent, the default) or refuses them like the supervisor's
// nftables rules (FAKE_OPENSHELL_EGRESS=strict, to check a client really honours HTTP_PROXY).
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson } from './common.mjs';
import { findProfile } from './os-profiles.mjs';

export const EGRESS_HOOK = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sandbox-egress.cjs');
const PLACEHOLDER_RE = /openshell:resolve:env:(?:v\d+_)?([A-Za-z_][A-Za-z0-9_]*)/g;
const HOST_ALIAS = { 'host.openshell.internal': '127.0.0.1', 'host.docker.internal': '127.0.0.1' };

function endpointCovers(ep, host, port) {
  const ports = ep.ports ?? (ep.port !== undefined ? [ep.port] : []);
  if (!ports.includes(port)) return false;
  if (ep.host === host) return true;
  if (ep.host.startsWith('**.')) return host.endsWith(ep.host.slice(2));
  if (ep.host.startsWith('*.')) return host.endsWith(ep.host.slice(1)) && host.split('.').length === ep.host.split('.').length;
  return false;
}

/** Placeholders of the sandbox's attached providers: env var name → placeholder value. */
export function providerPlaceholders(state, ws, sb) {
  const env = {};
  for (const name of sb.providers ?? []) {
    const p = state.workspaces[ws]?.providers[name];
    if (!p) continue;
    for (const k of p.credential_keys) env[k] = `openshell:resolve:env:${k}`;
  }
  return env;
}

/** Start the proxy for one exec; resolves to { port, close }. */
export async function startSupervisorProxy(srv, ws, sbName) {
  const logFile = path.join(srv.dir, 'proxy.log');
  const log = (entry) => fs.appendFileSync(logFile, `${JSON.stringify({ ts: new Date().toISOString(), workspace: ws, sandbox: sbName, ...entry })}\n`);

  // Read per request: a key rotated with `provider update` applies to the next request.
  const view = () => {
    const state = srv.read();
    const sb = state.workspaces[ws]?.sandboxes[sbName];
    const secrets = readJson(srv.secretsFile, {})[ws] ?? {};
    const bindings = {};
    const allowed = [];
    for (const name of sb?.providers ?? []) {
      const p = state.workspaces[ws].providers[name];
      const profile = p && findProfile(state, ws, p.type);
      if (!profile) continue;
      allowed.push(...profile.endpoints);
      for (const k of p.credential_keys) bindings[k] = { endpoints: profile.endpoints, value: secrets[name]?.[k] };
    }
    const pol = sb?.policies?.find((r) => r.version === sb.current_policy_version)?.policy;
    for (const rule of Object.values(pol?.network_policies ?? {})) allowed.push(...(rule.endpoints ?? []));
    return { allowed, bindings };
  };

  const decide = (host, port, texts) => {
    const { allowed, bindings } = view();
    if (!allowed.some((ep) => endpointCovers(ep, host, port))) return { status: 403, error: 'policy_denied', detail: `${host}:${port} is not allowed by the sandbox's effective policy` };
    const used = new Set();
    for (const t of texts) for (const m of String(t).matchAll(PLACEHOLDER_RE)) used.add(m[1]);
    for (const k of used) {
      const b = bindings[k];
      if (!b || b.value === undefined) return { status: 403, error: 'credential_unresolved', detail: `placeholder for ${k} does not resolve` };
      if (!b.endpoints.some((ep) => endpointCovers(ep, host, port))) return { status: 403, error: 'credential_endpoint_mismatch', detail: `${k} is not bound to ${host}:${port}` };
    }
    const swap = (t) => String(t).replace(PLACEHOLDER_RE, (_m, k) => bindings[k].value);
    return { status: 0, swap, used: [...used] };
  };

  const deny = (res, d, entry) => {
    log({ ...entry, decision: d.error });
    res.writeHead(d.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: d.error, detail: d.detail }));
  };

  const server = http.createServer((req, res) => {
    let target;
    try {
      target = /^https?:\/\//i.test(req.url) ? new URL(req.url) : new URL(`http://${req.headers.host ?? ''}${req.url}`);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const host = target.hostname;
    const port = Number(target.port || 80);
    const entry = { method: req.method, host, port, path: target.pathname };
    const headerTexts = Object.entries(req.headers).flatMap(([, v]) => (Array.isArray(v) ? v : [v ?? '']));
    const d = decide(host, port, [...headerTexts, target.pathname, target.search]);
    if (d.status) return deny(res, d, entry);
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (/^(proxy-connection|proxy-authorization)$/i.test(k)) continue;
      headers[k] = Array.isArray(v) ? v.map(d.swap) : d.swap(v ?? '');
    }
    const up = http.request(
      { host: HOST_ALIAS[host] ?? host, port, method: req.method, path: d.swap(`${target.pathname}${target.search}`), headers, agent: false },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (e) => {
      log({ ...entry, decision: 'upstream_error', error: e.code ?? e.message });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'upstream_unreachable', detail: e.message }));
    });
    log({ ...entry, decision: 'allowed', swapped: d.used });
    req.pipe(up);
  });
  // CONNECT: TLS the fake cannot look into; the policy still applies, credentials are not swapped.
  server.on('connect', (req, socket, head) => {
    const [host, p] = String(req.url).split(':');
    const port = Number(p || 443);
    const d = decide(host, port, []);
    if (d.status) {
      log({ method: 'CONNECT', host, port, decision: d.error });
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n\r\n${JSON.stringify({ error: d.error, detail: d.detail })}`);
      return;
    }
    const up = net.connect(port, HOST_ALIAS[host] ?? host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head?.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    log({ method: 'CONNECT', host, port, decision: 'tunnel' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => {
      server.closeAllConnections?.();
      server.close();
    },
  };
}
