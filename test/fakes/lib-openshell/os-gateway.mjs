// `gateway add|remove|login|logout|select|info|list`, `status`, `whoami` (commands/gateway.rs).
import fs from 'node:fs';
import path from 'node:path';
import { c, padEnd } from './common.mjs';
import { envListMatches } from './common.mjs';
import { OsError, emitStructured, gatewayContainerFor, isLoopbackHost, trimSlash } from './os-core.mjs';
import { tagOf } from './gw-image.mjs';

const stdout = (s) => process.stdout.write(s);
const stderr = (s) => process.stderr.write(s);

function gatewayType(meta) {
  if (meta.auth_mode === 'cloudflare_jwt') return 'cloud';
  return meta.is_remote ? 'remote' : 'local';
}

function gatewayAuth(meta) {
  if (meta.auth_mode) return meta.auth_mode;
  return String(meta.gateway_endpoint).startsWith('https') ? 'mtls' : 'plaintext';
}

const MTLS_FILES = ['ca.crt', 'tls.crt', 'tls.key'];

export async function gatewayAdd(ctx) {
  const v = ctx.values;
  let raw = v.endpoint;
  let remote = v.remote ?? null;
  if (raw.startsWith('ssh://')) {
    const m = /^ssh:\/\/(?:([^@/]+)@)?([^:/]+)(?::(\d+))?\/?$/.exec(raw);
    if (!m || !m[3]) throw new OsError(`invalid ssh endpoint '${raw}': a port is required (ssh://user@host:PORT)`);
    remote = `${m[1] ? `${m[1]}@` : ''}${m[2]}`;
    raw = `https://${m[2]}:${m[3]}`;
  } else if (!/^[a-z]+:\/\//i.test(raw)) {
    raw = `https://${raw}`;
  }
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new OsError(`invalid gateway endpoint '${v.endpoint}'`);
  }
  if (!['http:', 'https:'].includes(url.protocol)) throw new OsError(`unsupported gateway endpoint scheme '${url.protocol}'`);
  // Keep the endpoint as written (the URL class would drop a default port such as :443).
  const endpoint = trimSlash(raw);
  const host = url.hostname;
  const loopback = isLoopbackHost(host);
  const name = v.name ?? (loopback ? 'openshell' : host);
  const dir = ctx.gatewayDir(name);
  const metaFile = path.join(dir, 'metadata.json');
  if (fs.existsSync(metaFile)) {
    throw new OsError(
      `Gateway '${name}' already exists.\nRemove it first with: openshell gateway remove ${name}\nOr choose a different name with: --name <name>`,
    );
  }

  const isRemote = remote ? true : v.local ? false : !loopback;
  let authMode;
  if (v['oidc-issuer']) authMode = 'oidc';
  else if (url.protocol === 'http:') authMode = 'plaintext';
  else if (v.local || remote) authMode = 'mtls';
  else authMode = 'cloudflare_jwt';

  if (authMode === 'mtls') {
    const mtlsDir = path.join(dir, 'mtls');
    const have = MTLS_FILES.every((f) => fs.existsSync(path.join(mtlsDir, f)));
    if (!have && remote) {
      // The real CLI fetches the bundle from the remote host over ssh; the fake pretends it did.
      fs.mkdirSync(mtlsDir, { recursive: true });
      for (const f of MTLS_FILES) fs.writeFileSync(path.join(mtlsDir, f), `fake ${f} for ${name}\n`);
    } else if (!have) {
      const stateHome = ctx.env.XDG_STATE_HOME || path.join(ctx.env.HOME || '', '.local', 'state');
      const src = ctx.env.OPENSHELL_LOCAL_TLS_DIR || path.join(stateHome, 'openshell', 'tls');
      const from = { 'ca.crt': 'ca.crt', 'tls.crt': 'client/tls.crt', 'tls.key': 'client/tls.key' };
      if (!Object.values(from).every((f) => fs.existsSync(path.join(src, f)))) {
        throw new OsError(
          `mTLS certificates for gateway '${name}' were not found.\nExpected ${mtlsDir}/{ca.crt,tls.crt,tls.key}\nor a bundle to import in ${src} (ca.crt, client/tls.crt, client/tls.key).`,
        );
      }
      fs.mkdirSync(mtlsDir, { recursive: true });
      for (const [dst, s] of Object.entries(from)) fs.copyFileSync(path.join(src, s), path.join(mtlsDir, dst));
    }
  }

  const meta = { name, gateway_endpoint: endpoint, is_remote: isRemote, gateway_port: 0 };
  if (remote) {
    meta.remote_host = remote;
    meta.resolved_host = host;
  }
  meta.auth_mode = authMode;
  if (authMode === 'oidc') {
    meta.oidc_issuer = v['oidc-issuer'];
    meta.oidc_client_id = v['oidc-client-id'] ?? 'openshell-cli';
    if (v['oidc-audience']) meta.oidc_audience = v['oidc-audience'];
    if (v['oidc-scopes']) meta.oidc_scopes = v['oidc-scopes'];
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(metaFile, JSON.stringify(meta, null, 2));
  fs.mkdirSync(ctx.cfgRoot, { recursive: true });
  fs.writeFileSync(path.join(ctx.cfgRoot, 'active_gateway'), name);

  stderr(`${c.green('✓')} Gateway '${name}' added and set as active\n`);
  stderr(`  ${c.dim('Endpoint:')} ${endpoint}\n`);
  stderr(`  ${c.dim('Type:')} ${gatewayType(meta)}\n`);
  if (authMode === 'mtls') stderr(`${c.green('✓')} TLS certificates present\n`);
  else stderr(`  ${c.dim('Auth:')} ${authMode}\n`);
  if (!ctx.isReachable(name, endpoint)) {
    stderr(`${c.yellow('⚠')} Gateway is not reachable at ${endpoint}\n`);
    stderr(`  Check that the gateway is running, then: openshell -g ${name} status\n`);
  }
  return 0;
}

export async function gatewayRemove(ctx) {
  const name = ctx.values.name ?? ctx.activeGatewayName();
  if (!name) throw ctx.noActiveGateway();
  const dir = ctx.gatewayDir(name);
  if (!fs.existsSync(path.join(dir, 'metadata.json'))) {
    throw new OsError(`No gateway metadata found for '${name}'.\nList registered gateways with: openshell gateway list`);
  }
  for (const f of ['metadata.json', 'edge_token', 'oidc_token.json']) fs.rmSync(path.join(dir, f), { force: true });
  try {
    if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  } catch {
    /* keep */
  }
  const activeFile = path.join(ctx.cfgRoot, 'active_gateway');
  try {
    if (fs.readFileSync(activeFile, 'utf8').trim() === name) fs.rmSync(activeFile);
  } catch {
    /* none */
  }
  stderr(`${c.green('✓')} Gateway registration '${name}' removed.\n`);
  return 0;
}

export async function gatewaySelect(ctx) {
  const name = ctx.values.name;
  if (!name) {
    printGatewayTable(ctx);
    stderr('Select a gateway with: openshell gateway select <name>\n');
    return 0;
  }
  if (!ctx.readMeta(name)) throw ctx.unknownGateway(name);
  fs.mkdirSync(ctx.cfgRoot, { recursive: true });
  fs.writeFileSync(path.join(ctx.cfgRoot, 'active_gateway'), name);
  stderr(`${c.green('✓')} Active gateway set to '${name}'\n`);
  const envGw = ctx.env.OPENSHELL_GATEWAY;
  if (envGw && envGw !== name) {
    stderr(`${c.yellow('⚠')} OPENSHELL_GATEWAY is set to '${envGw}' and takes precedence over the active gateway\n`);
  }
  return 0;
}

export async function gatewayLogin(ctx) {
  const name = ctx.values.name ?? ctx.resolveGateway().name;
  const meta = ctx.readMeta(name);
  if (!meta) throw ctx.unknownGateway(name);
  if (!['cloudflare_jwt', 'oidc'].includes(meta.auth_mode)) {
    throw new OsError(`Gateway '${name}' uses ${gatewayAuth(meta)} authentication; there is nothing to log in to.`);
  }
  const file = meta.auth_mode === 'oidc' ? 'oidc_token.json' : 'edge_token';
  fs.writeFileSync(path.join(ctx.gatewayDir(name), file), meta.auth_mode === 'oidc' ? '{"access_token":"fake"}' : 'fake-token');
  stderr(`${c.green('✓')} Logged in to gateway '${name}'\n`);
  return 0;
}

export async function gatewayLogout(ctx) {
  const name = ctx.values.name ?? ctx.resolveGateway().name;
  if (!ctx.readMeta(name)) throw ctx.unknownGateway(name);
  for (const f of ['edge_token', 'oidc_token.json']) fs.rmSync(path.join(ctx.gatewayDir(name), f), { force: true });
  stderr(`${c.green('✓')} Logged out of gateway '${name}'\n`);
  return 0;
}

function gatewayItems(ctx) {
  const active = ctx.activeGatewayName();
  return ctx.listGateways().map((m) => ({
    name: m.name,
    endpoint: m.gateway_endpoint,
    type: gatewayType(m),
    source: m._source,
    auth: gatewayAuth(m),
    active: m.name === active,
    is_remote: Boolean(m.is_remote),
    remote_host: m.remote_host ?? null,
    resolved_host: m.resolved_host ?? null,
  }));
}

function printGatewayTable(ctx) {
  const items = gatewayItems(ctx);
  if (items.length === 0) {
    stdout('No gateways found.\n');
    return;
  }
  const withRemote = items.some((i) => i.remote_host);
  const cols = ['NAME', 'ENDPOINT', 'TYPE', 'SOURCE', 'AUTH', ...(withRemote ? ['REMOTE'] : [])];
  const rows = items.map((i) => [i.name, i.endpoint, i.type, i.source, i.auth, ...(withRemote ? [i.remote_host ?? ''] : [])]);
  const widths = cols.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  stdout(`  ${cols.map((h, k) => c.bold(padEnd(h, k === cols.length - 1 ? 0 : widths[k]))).join('  ')}\n`);
  items.forEach((item, idx) => {
    const cells = rows[idx].map((cell, k) => padEnd(cell, k === cols.length - 1 ? 0 : widths[k]));
    const line = cells.join('  ').trimEnd();
    stdout(item.active ? `${c.green('*')} ${c.green(line)}\n` : `  ${line}\n`);
  });
}

export async function gatewayList(ctx) {
  const fmt = ctx.values.output ?? 'table';
  if (fmt === 'table') printGatewayTable(ctx);
  else emitStructured(fmt, gatewayItems(ctx));
  return 0;
}

/** The gateway's own version: its container image tag when the fake docker runs it, else the CLI's. */
function serverVersion(ctx, gw) {
  const ct = gw ? gatewayContainerFor(gw.endpoint) : null;
  return ct ? tagOf(ct.Config.Image) : ctx.version;
}

export async function gatewayInfo(ctx) {
  const gw = ctx.resolveGateway();
  if (!ctx.isReachable(gw.name, gw.endpoint)) throw ctx.connectError(gw);
  const auth = gw.meta ? gatewayAuth(gw.meta) : gw.endpoint.startsWith('https') ? 'mtls' : 'plaintext';
  const info = {
    gateway: gw.name,
    server: gw.endpoint,
    auth,
    status: 'healthy',
    version: serverVersion(ctx, gw),
    compute_drivers: [{ name: 'docker', capabilities: { driver_name: 'docker', driver_version: '28.2.2' } }],
  };
  const fmt = ctx.values.output ?? 'table';
  if (fmt !== 'table') {
    emitStructured(fmt, info);
    return 0;
  }
  stdout(`${c.bold('Gateway Info')}\n\n`);
  stdout(`  ${c.dim('Gateway:')} ${info.gateway}\n`);
  stdout(`  ${c.dim('Server:')} ${info.server}\n`);
  stdout(`  ${c.dim('Auth:')} ${info.auth}\n`);
  stdout(`  ${c.dim('Status:')} ${c.green(info.status)}\n`);
  stdout(`  ${c.dim('Version:')} ${info.version}\n`);
  stdout(`  ${c.dim('Compute drivers:')} docker (28.2.2)\n`);
  return 0;
}

export async function status(ctx) {
  const fmt = ctx.values.output ?? 'table';
  let gw;
  try {
    gw = ctx.resolveGateway();
  } catch (e) {
    // main.rs: when the gateway cannot be resolved (none active, or an unknown name), `status`
    // prints {"status":"not_configured"} and exits 0 (openshell-cli.md §13.6).
    if (!(e instanceof OsError)) throw e;
    if (fmt !== 'table') emitStructured(fmt, { status: 'not_configured' });
    else {
      stdout(`${c.bold('Gateway Status')}\n\n`);
      stdout(`  ${c.dim('Status:')} No gateway configured.\n`);
      stdout(`\nRegister a gateway with: ${c.dim('openshell gateway add <endpoint>')}\n`);
    }
    return 0;
  }
  const reachable = ctx.isReachable(gw.name, gw.endpoint);
  // FAKE_OPENSHELL_GRPC_DOWN: the HTTP health endpoint answers but the gRPC health call fails.
  const grpcDown = reachable && envListMatches(ctx.env.FAKE_OPENSHELL_GRPC_DOWN, gw.name, gw.endpoint);
  const mtls = gw.meta ? gatewayAuth(gw.meta) === 'mtls' : gw.endpoint.startsWith('https');
  let obj;
  if (reachable && !grpcDown) {
    obj = {
      gateway: gw.name,
      server: gw.endpoint,
      status: 'connected',
      authentication: mtls ? { status: 'authenticated', method: 'mtls' } : { status: 'not_required', method: 'gateway' },
      version: serverVersion(ctx, gw),
    };
  } else if (grpcDown) {
    obj = {
      gateway: gw.name,
      server: gw.endpoint,
      status: 'connected_http',
      authentication: { status: 'unverified', reason: 'gRPC health check failed' },
      http_status: '200 OK',
      error: 'status: Unavailable, message: "h2 protocol error: http2 error", details: [], metadata: MetadataMap { headers: {} }',
    };
  } else {
    obj = {
      gateway: gw.name,
      server: gw.endpoint,
      status: 'disconnected',
      authentication: { status: 'unverified', reason: 'gateway unreachable' },
      error: 'Connection refused (os error 111)',
    };
  }
  if (fmt !== 'table') emitStructured(fmt, obj);
  else {
    stdout(`${c.bold('Server Status')}\n\n`);
    stdout(`  ${c.dim('Gateway:')} ${gw.name}\n`);
    stdout(`  ${c.dim('Server:')} ${gw.endpoint}\n`);
    if (obj.status === 'connected') {
      stdout(`  ${c.dim('Status:')} ${c.green('Connected')}\n`);
      stdout(`  ${c.dim('Authentication:')} ${mtls ? 'Authenticated (mTLS transport)' : 'Not required (gateway)'}\n`);
      stdout(`  ${c.dim('Version:')} ${obj.version}\n`);
    } else if (obj.status === 'connected_http') {
      stdout(`  ${c.dim('Status:')} ${c.yellow('Connected (HTTP)')}\n`);
    } else {
      stdout(`  ${c.dim('Status:')} ${c.red('Disconnected')}\n`);
    }
  }
  if (!reachable) throw ctx.connectError(gw);
  return 0;
}

export async function whoami(ctx) {
  ctx.server({ checkWorkspace: false });
  const obj = {
    subject: 'local-admin',
    display_name: 'Local Admin',
    roles: ['platform_admin'],
    scopes: [],
    identity_provider: 'none',
  };
  const fmt = ctx.values.output ?? 'table';
  if (fmt !== 'table') emitStructured(fmt, obj);
  else {
    stdout(`  ${c.dim('Subject:')} ${obj.subject}\n`);
    stdout(`  ${c.dim('Display name:')} ${obj.display_name}\n`);
    stdout(`  ${c.dim('Roles:')} ${obj.roles.join(', ')}\n`);
    stdout(`  ${c.dim('Identity provider:')} ${obj.identity_provider}\n`);
  }
  return 0;
}
