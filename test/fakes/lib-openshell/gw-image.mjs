// What the OpenShell gateway image does with the way it was started, shared by the fake docker
// (does the container start?) and the fake openshell (can its sandboxes run?). Follows
// openshell-cli.md §13 (0.0.x: TOML via OPENSHELL_GATEWAY_CONFIG, supervisor_bin at a same-path
// mount, callback to host.openshell.internal:<listen port>, sqlite that must be writable) and
// openshell-0.1.md §3 (0.1.x: schema v2, authentication required since v0.1.6, supervisor
// extracted into XDG_DATA_HOME, which must be a same-path mount).
import fs from 'node:fs';
import path from 'node:path';

export const isGatewayImageRef = (ref) => /(^|\/)(openshell|ai-openshell)\/gateway(:|@|$)/.test(String(ref));

/** `0.1.10` from `quay.io/ai-openshell/gateway:0.1.10`. */
export function tagOf(ref) {
  const r = String(ref).split('@')[0];
  const i = r.lastIndexOf(':');
  return i > r.lastIndexOf('/') ? r.slice(i + 1) : 'latest';
}

function ver(tag) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(tag);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

export function tagAtLeast(tag, min) {
  const a = ver(tag);
  const b = ver(min);
  if (!a || !b) return true;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

export const tagLine = (tag) => {
  const v = ver(tag);
  return v && (v[0] > 0 || v[1] > 0) ? '0.1' : '0.0';
};

// ---------------------------------------------------------------------------------------------
// A small TOML reader: [tables], key = "string" | 'literal' | integer | float | bool | [arrays].
export function parseToml(text) {
  const root = {};
  let table = root;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    const head = /^\[([A-Za-z0-9_.-]+)\]\s*(#.*)?$/.exec(line);
    if (head) {
      table = root;
      for (const part of head[1].split('.')) {
        table[part] ??= {};
        if (typeof table[part] !== 'object' || Array.isArray(table[part])) throw new Error(`TOML parse error at line ${n + 1}: '${head[1]}' is not a table`);
        table = table[part];
      }
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new Error(`TOML parse error at line ${n + 1}: expected a key = value pair`);
    // Arrays may span lines.
    let raw = kv[2];
    while (raw.trim().startsWith('[') && !balanced(raw) && n + 1 < lines.length) raw += `\n${lines[++n]}`;
    if (Object.hasOwn(table, kv[1])) throw new Error(`TOML parse error at line ${n + 1}: duplicate key \`${kv[1]}\``);
    table[kv[1]] = parseValue(stripComment(raw).trim(), n + 1);
  }
  return root;
}

function balanced(s) {
  let depth = 0;
  let q = null;
  for (const ch of s) {
    if (q) {
      if (ch === q) q = null;
    } else if (ch === '"' || ch === "'") q = ch;
    else if (ch === '[') depth++;
    else if (ch === ']') depth--;
  }
  return depth === 0;
}

function stripComment(s) {
  let q = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (q) {
      if (ch === '\\' && q === '"') i++;
      else if (ch === q) q = null;
    } else if (ch === '"' || ch === "'") q = ch;
    else if (ch === '#') return s.slice(0, i);
  }
  return s;
}

function parseValue(s, line) {
  if (s.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"$/.exec(s);
    if (!m) throw new Error(`TOML parse error at line ${line}: invalid string`);
    return JSON.parse(`"${m[1]}"`);
  }
  if (s.startsWith("'")) {
    const m = /^'([^']*)'$/.exec(s);
    if (!m) throw new Error(`TOML parse error at line ${line}: invalid literal string`);
    return m[1];
  }
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (/^[+-]?\d+$/.test(s)) return Number(s);
  if (/^[+-]?\d+\.\d+$/.test(s)) return Number(s);
  if (s.startsWith('[')) {
    const inner = s.slice(1, -1).trim();
    if (!s.endsWith(']')) throw new Error(`TOML parse error at line ${line}: unterminated array`);
    if (inner === '') return [];
    const items = [];
    let cur = '';
    let q = null;
    for (const ch of inner) {
      if (q) {
        cur += ch;
        if (ch === q) q = null;
      } else if (ch === '"' || ch === "'") {
        q = ch;
        cur += ch;
      } else if (ch === ',') {
        if (cur.trim()) items.push(parseValue(cur.trim(), line));
        cur = '';
      } else if (ch !== '\n') cur += ch;
    }
    if (cur.trim()) items.push(parseValue(cur.trim(), line));
    return items;
  }
  throw new Error(`TOML parse error at line ${line}: invalid value '${s}'`);
}

// ---------------------------------------------------------------------------------------------
const envOf = (ct) => Object.fromEntries((ct.Config?.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

/** The host path behind a path inside the container (bind mounts only), or null. */
function hostPathOf(ct, inner) {
  const m = (ct.Mounts ?? [])
    .filter((mt) => mt.Type === 'bind' && (inner === mt.Destination || inner.startsWith(`${mt.Destination}/`)))
    .sort((a, b) => b.Destination.length - a.Destination.length)[0];
  return m ? path.join(m.Source, inner.slice(m.Destination.length)) : null;
}

function sameMount(ct, inner) {
  return (ct.Mounts ?? []).some((mt) => mt.Type === 'bind' && mt.Source === mt.Destination && (inner === mt.Destination || inner.startsWith(`${mt.Destination}/`)));
}

function inVolume(ct, inner) {
  return (ct.Mounts ?? []).some((mt) => mt.Type === 'volume' && (inner === mt.Destination || inner.startsWith(`${mt.Destination}/`)));
}

/**
 * How the gateway in this container runs: { line, version, listenPort, config, startError } where
 * startError is the message the process exits with (null when it starts).
 */
export function gatewayRuntime(ct, imageRef) {
  const tag = tagOf(imageRef ?? ct.Config?.Image ?? '');
  const line = tagLine(tag);
  const env = envOf(ct);
  const args = [ct.Path, ...(ct.Args ?? [])].filter(Boolean);
  const flag = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = { line, version: tag, listenPort: 8080, config: null, configPath: null, startError: null };
  const cfgPath = env.OPENSHELL_GATEWAY_CONFIG;
  if (cfgPath) {
    const host = hostPathOf(ct, cfgPath);
    out.configPath = host;
    let text = null;
    try {
      text = host ? fs.readFileSync(host, 'utf8') : null;
    } catch {
      text = null;
    }
    if (text === null) {
      out.startError = `Error: failed to read gateway config ${cfgPath}: No such file or directory (os error 2)`;
      return out;
    }
    try {
      out.config = parseToml(text);
    } catch (e) {
      out.startError = `Error: invalid gateway config ${cfgPath}: ${e.message}`;
      return out;
    }
  }
  const root = out.config?.openshell ?? {};
  const gw = root.gateway ?? {};
  const version = root.version;
  if (line === '0.1') {
    if (out.config && version !== 2) {
      out.startError = `Error: gateway config ${cfgPath}: schema version ${version ?? 'missing'} is not supported; set [openshell] version = 2 (see the 0.1.0 upgrade notes)`;
      return out;
    }
    if (gw.compute_drivers !== undefined) {
      out.startError = `Error: gateway config ${cfgPath}: unknown field \`compute_drivers\` in [openshell.gateway]; use compute_driver = "docker"`;
      return out;
    }
    if (tagAtLeast(tag, '0.1.6')) {
      const auth = gw.auth ?? {};
      const hasAuth = auth.allow_unauthenticated_users === true || gw.oidc || gw.gateway_jwt || gw.mtls_auth?.enabled === true || env.OPENSHELL_TLS_CLIENT_CA;
      if (!hasAuth) {
        out.startError =
          'Error: refusing to start without authentication: configure OIDC, mTLS user auth or gateway JWTs, or set [openshell.gateway.auth] allow_unauthenticated_users = true for a trusted local development gateway';
        return out;
      }
    }
  } else if (out.config && version !== undefined && version !== 1) {
    out.startError = `Error: gateway config ${cfgPath}: unsupported schema version ${version} (this gateway understands 1)`;
    return out;
  }
  const bind = gw.bind_address ? Number(String(gw.bind_address).split(':').pop()) : undefined;
  out.listenPort = Number(flag('--port') ?? env.OPENSHELL_SERVER_PORT ?? bind ?? 8080);
  const dbUrl = env.OPENSHELL_DB_URL ?? '';
  const dbPath = dbUrl.replace(/^sqlite:(\/\/)?/, '').split('?')[0];
  const user = String(ct.Config?.User ?? '');
  if (dbPath && inVolume(ct, dbPath) && user !== '0' && user !== 'root') {
    // The image runs as UID 1000; a fresh named volume is root-owned.
    out.startError = 'Error: failed to open the database: (code: 14) unable to open database file';
    return out;
  }
  return out;
}

/**
 * Why sandboxes on this gateway cannot run, or null: { reason, message } as the gateway reports
 * it when provisioning fails.
 */
export function sandboxProblem(ct, imageRef) {
  const rt = gatewayRuntime(ct, imageRef);
  if (rt.startError) return { reason: 'GatewayMisconfigured', message: rt.startError };
  const docker = rt.config?.openshell?.drivers?.docker ?? {};
  const env = envOf(ct);
  // Resolution order (driver-docker README): supervisor_bin, else the binary extracted from the
  // supervisor image into $XDG_DATA_HOME inside the gateway container. The host docker daemon
  // mounts it into sandboxes, so that path must exist at the same place on the host.
  // (OPENSHELL_DOCKER_SUPERVISOR_BIN has been ignored since v0.0.43: only the TOML counts.)
  const bin = docker.supervisor_bin;
  if (bin) {
    if (!sameMount(ct, bin) || !fs.existsSync(bin)) {
      return { reason: 'SupervisorUnavailable', message: `failed to mount the sandbox supervisor: ${bin} does not exist on the docker host` };
    }
  } else {
    const data = env.XDG_DATA_HOME ?? '/home/openshell/.local/share';
    if (!sameMount(ct, data)) {
      return {
        reason: 'SupervisorUnavailable',
        message: `failed to mount the sandbox supervisor: ${data}/openshell/openshell-sandbox (extracted inside the gateway container) does not exist on the docker host`,
      };
    }
  }
  const published = (ct.ports ?? []).some((p) => Number(p.hostPort) === rt.listenPort && Number(p.containerPort) === rt.listenPort);
  if (!published) {
    return {
      reason: 'SupervisorConnectFailed',
      message: `supervisor could not connect to the gateway at http://host.openshell.internal:${rt.listenPort}: Connection refused (os error 111)`,
    };
  }
  return null;
}
