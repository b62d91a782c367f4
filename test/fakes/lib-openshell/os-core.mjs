// Core of the fake `openshell`: error rendering, gateway resolution like main.rs::resolve_gateway,
// and the per-gateway "server" state (JSON under $FAKE_OPENSHELL_STATE/servers/<endpoint>/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readJson, updateJson, writeJsonAtomic, envListMatches, toYaml } from './common.mjs';
import { isGatewayImageRef, sandboxProblem, tagLine, tagOf } from './gw-image.mjs';
import { findImage, registryHas } from './docker-engine.mjs';

export const PROG = 'openshell';

/** An error the real CLI would render through miette: `Error:   × …` on stderr, exit 1. */
export class OsError extends Error {
  constructor(message, { causes = [], exitCode = 1 } = {}) {
    super(message);
    this.causes = causes;
    this.exitCode = exitCode;
  }
}

const GRPC = {
  NotFound: 'Some requested entity was not found',
  AlreadyExists: 'Some entity that we attempted to create already exists',
  InvalidArgument: 'Client specified an invalid argument',
  FailedPrecondition: "The system is not in a state required for the operation's execution",
  Unavailable: 'The service is currently unavailable',
  Unimplemented: 'Operation is not implemented or not supported',
  Internal: 'Internal error',
  PermissionDenied: 'The caller does not have permission to execute the specified operation',
};

/** tonic 0.14 `Status` Display, as printed through `.into_diagnostic()`. */
export function grpcError(code, message) {
  return new OsError(`code: '${GRPC[code]}', message: ${JSON.stringify(message)}`);
}

export function renderMiette(e) {
  const lines = String(e.message).split('\n');
  let text = `Error:   × ${lines[0]}\n`;
  for (const l of lines.slice(1)) text += `  │ ${l}\n`;
  e.causes.forEach((cause, i) => {
    text += `  ${i === e.causes.length - 1 ? '╰─▶' : '├─▶'} ${cause}\n`;
  });
  return text;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);
export const isLoopbackHost = (h) => LOOPBACK.has(h) || /^127\./.test(h);

export const trimSlash = (u) => String(u).replace(/\/+$/, '');

/** Per-invocation context shared by all handlers. */
export class Ctx {
  constructor(parsed, version) {
    this.values = parsed.values;
    this.globals = parsed.globals;
    this.path = parsed.path;
    this.version = version;
    this.env = process.env;
    this.stateRoot = path.resolve(process.env.FAKE_OPENSHELL_STATE);
    const xdg = process.env.XDG_CONFIG_HOME || path.join(process.env.HOME || os.homedir(), '.config');
    this.cfgRoot = path.join(xdg, 'openshell');
    // FAKE_OPENSHELL_SYSTEM_DIR keeps tests away from the real /etc/openshell.
    this.sysRoot = process.env.OPENSHELL_SYSTEM_GATEWAY_DIR || process.env.FAKE_OPENSHELL_SYSTEM_DIR || '/etc/openshell';
  }

  get hasWorkspaces() {
    return versionHasWorkspaces(this.version);
  }

  /** The 0.1.x line (openshell-0.1.md): profiles, providers v2, no inference, list envelopes. */
  get isLine01() {
    return versionLine(this.version) === '0.1';
  }

  atLeast(min) {
    return versionAtLeast(this.version, min);
  }

  get workspace() {
    if (!this.hasWorkspaces) return 'default';
    return this.globals.workspace ?? (this.env.OPENSHELL_WORKSPACE || 'default');
  }

  // ---- client-side gateway registry (the files the real CLI keeps) ----
  gatewayDir(name) {
    return path.join(this.cfgRoot, 'gateways', name);
  }

  readMeta(name) {
    for (const [root, source] of [
      [this.cfgRoot, 'user'],
      [this.sysRoot, 'system'],
    ]) {
      const file = path.join(root, 'gateways', name, 'metadata.json');
      if (fs.existsSync(file)) return { ...JSON.parse(fs.readFileSync(file, 'utf8')), _source: source };
    }
    return null;
  }

  listGateways() {
    const found = new Map();
    for (const [root, source] of [
      [this.sysRoot, 'system'],
      [this.cfgRoot, 'user'],
    ]) {
      let names = [];
      try {
        names = fs.readdirSync(path.join(root, 'gateways'));
      } catch {
        continue;
      }
      for (const n of names) {
        const file = path.join(root, 'gateways', n, 'metadata.json');
        if (!fs.existsSync(file)) continue;
        found.set(n, { ...JSON.parse(fs.readFileSync(file, 'utf8')), _source: source }); // user shadows system
      }
    }
    return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  activeGatewayName() {
    for (const root of [this.cfgRoot, this.sysRoot]) {
      try {
        const v = fs.readFileSync(path.join(root, 'active_gateway'), 'utf8').trim();
        if (v) return v;
      } catch {
        /* next */
      }
    }
    return null;
  }

  unknownGateway(name) {
    return new OsError(
      `Unknown gateway '${name}'.\nRegister it first: openshell gateway add <endpoint> --name ${name}\nOr list available gateways: openshell gateway select`,
    );
  }

  noActiveGateway() {
    return new OsError(
      'No active gateway.\nSet one with: openshell gateway select <name>\nOr register one with: openshell gateway add <endpoint>',
    );
  }

  /** main.rs::resolve_gateway → { name, endpoint, meta } */
  resolveGateway() {
    const byFlag = this.globals.gateway ?? (this.env.OPENSHELL_GATEWAY || undefined);
    const endpoint = this.globals['gateway-endpoint'] ?? (this.env.OPENSHELL_GATEWAY_ENDPOINT || undefined);
    if (endpoint) {
      let name = byFlag;
      let meta = name ? this.readMeta(name) : null;
      if (!name) {
        meta = this.listGateways().find((g) => trimSlash(g.gateway_endpoint) === trimSlash(endpoint)) ?? null;
        name = meta ? meta.name : endpoint;
      }
      return { name, endpoint: trimSlash(endpoint), meta };
    }
    const name = byFlag ?? this.activeGatewayName();
    if (!name) throw this.noActiveGateway();
    const meta = this.readMeta(name);
    if (!meta) throw this.unknownGateway(name);
    return { name, endpoint: trimSlash(meta.gateway_endpoint), meta };
  }

  isReachable(name, endpoint) {
    if (envListMatches(this.env.FAKE_OPENSHELL_UNREACHABLE, name, endpoint)) return false;
    return dockerSaysReachable(endpoint);
  }

  connectError(gw) {
    return new OsError(`failed to connect to gateway '${gw.name}' at ${gw.endpoint}. Is the gateway running?`, {
      causes: ['transport error', 'tcp connect error: Connection refused (os error 111)'],
    });
  }

  /** Resolve the gateway, check it answers, open its server-side state and check the workspace. */
  server({ checkWorkspace = true } = {}) {
    const gw = this.resolveGateway();
    if (!this.isReachable(gw.name, gw.endpoint)) throw this.connectError(gw);
    // 0.0.x and 0.1.x peers are not wire-compatible (openshell-0.1.md §0.2).
    const ct = gatewayContainerFor(gw.endpoint);
    if (ct && tagLine(tagOf(ct.Config.Image)) !== versionLine(this.version)) {
      throw grpcError('Unimplemented', `the gateway runs ${tagOf(ct.Config.Image)}, which does not speak the API of this CLI (${this.version})`);
    }
    const srv = new Server(this, gw);
    if (checkWorkspace) srv.requireWorkspace(this.workspace);
    return srv;
  }

  /** `[NAME]` falls back to last_sandbox and says so on stderr. */
  sandboxNameOrLast(name, gwName) {
    if (name) return name;
    try {
      const [ws, sb] = fs.readFileSync(path.join(this.gatewayDir(gwName), 'last_sandbox'), 'utf8').split('\n');
      if (sb && ws === this.workspace) {
        process.stderr.write(`→ Using sandbox '${sb}' (last used)\n`);
        return sb;
      }
    } catch {
      /* none */
    }
    throw new OsError('No sandbox name provided and no last-used sandbox recorded.\nPass the sandbox name explicitly.');
  }

  writeLastSandbox(gwName, sandbox) {
    const dir = this.gatewayDir(gwName);
    if (!fs.existsSync(path.join(dir, 'metadata.json'))) return;
    fs.writeFileSync(path.join(dir, 'last_sandbox'), `${this.workspace}\n${sandbox}`);
  }
}

export function versionLine(version) {
  const m = /^(\d+)\.(\d+)\./.exec(version);
  return m ? `${m[1]}.${m[2]}` : '0.0';
}

export function versionAtLeast(version, min) {
  const a = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? [0, 0, 0, 0]).slice(1).map(Number);
  const b = (/^(\d+)\.(\d+)\.(\d+)/.exec(min) ?? [0, 0, 0, 0]).slice(1).map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

export function versionHasWorkspaces(version) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return true;
  return Number(m[1]) > 0 || Number(m[2]) > 0 || Number(m[3]) >= 95;
}

/**
 * Cross-fake link: when the fake docker state has a container publishing the endpoint's port,
 * the gateway answers only while that container is running. Otherwise it is reachable.
 */
/** The fake docker's running gateway container that publishes this endpoint's port, if any. */
export function gatewayContainerFor(endpoint) {
  const dockerState = process.env.FAKE_DOCKER_STATE;
  if (!dockerState) return null;
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    return null;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  let state;
  try {
    state = readJson(path.join(dockerState, 'state.json'), { containers: [] });
  } catch {
    return null;
  }
  return (
    (state.containers ?? []).find(
      (ct) => ct.State?.Running && isGatewayImageRef(ct.Config?.Image) && (ct.ports ?? []).some((p) => String(p.hostPort) === port),
    ) ?? null
  );
}

function dockerSaysReachable(endpoint) {
  const dockerState = process.env.FAKE_DOCKER_STATE;
  if (!dockerState) return true;
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    return true;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  let state;
  try {
    state = readJson(path.join(dockerState, 'state.json'), { containers: [] });
  } catch {
    return true;
  }
  const publishing = (state.containers ?? []).filter((ct) =>
    (ct.ports ?? []).some((p) => String(p.hostPort) === port && ['', '0.0.0.0', '127.0.0.1', '::'].includes(p.hostIp ?? '')),
  );
  if (publishing.length === 0) return true;
  return publishing.some((ct) => ct.State?.Running);
}

/** 0.1.x: a sandbox whose deletion was accepted is gone once its cleanup time has passed. */
function purgeDeleted(state) {
  for (const w of Object.values(state.workspaces ?? {})) {
    for (const [n, sb] of Object.entries(w.sandboxes ?? {})) if (sb.delete_at != null && Date.now() >= sb.delete_at) delete w.sandboxes[n];
  }
  return state;
}

export function newWorkspace(name, labels = {}) {
  return {
    id: crypto.randomUUID(),
    name,
    labels,
    created_ms: Date.now(),
    resource_version: 1,
    members: [],
    sandboxes: {},
    providers: {},
    inference: { user: null, system: null },
    global_policy: null,
  };
}

/** Server-side state of one gateway, keyed by its endpoint (the server lives at a URL). */
export class Server {
  constructor(ctx, gw) {
    this.ctx = ctx;
    this.gw = gw;
    this.dir = path.join(ctx.stateRoot, 'servers', gw.endpoint.replace(/[^A-Za-z0-9.-]+/g, '_'));
    this.file = path.join(this.dir, 'state.json');
    this.secretsFile = path.join(this.dir, 'secrets.json');
  }

  fallback() {
    return { endpoint: this.gw.endpoint, workspaces: { default: newWorkspace('default') } };
  }

  read() {
    return purgeDeleted(readJson(this.file, this.fallback()));
  }

  update(fn) {
    return updateJson(this.file, this.fallback(), (state) => fn(purgeDeleted(state)));
  }

  updateSecrets(fn) {
    return updateJson(this.secretsFile, {}, fn);
  }

  ensureWritten() {
    if (!fs.existsSync(this.file)) writeJsonAtomic(this.file, this.fallback());
  }

  requireWorkspace(ws) {
    this.ensureWritten();
    if (!this.read().workspaces[ws]) throw grpcError('NotFound', `workspace '${ws}' not found`);
  }

  /** A gateway container that cannot run sandboxes says why (gw-image.mjs); null otherwise. */
  containerProblem() {
    const ct = gatewayContainerFor(this.gw.endpoint);
    return ct ? sandboxProblem(ct, ct.Config.Image) : null;
  }

  /**
   * A docker-driver gateway pulls the sandbox image into the host's docker (if_not_present): one
   * that is neither there nor on a registry ends provisioning with ImagePullBackOff.
   */
  imageProblem(image) {
    if (!gatewayContainerFor(this.gw.endpoint)) return null;
    const state = readJson(path.join(process.env.FAKE_DOCKER_STATE, 'state.json'), { containers: [], images: {} });
    if (findImage(state, image) || registryHas(image, state)) return null;
    return { reason: 'ImagePullBackOff', message: `failed to pull image "${image}": pull access denied, repository does not exist or may require authorization` };
  }

  sandboxDir(ws, name) {
    return path.join(this.dir, 'workspaces', ws, 'sandboxes', name);
  }

  sandboxRoot(ws, name) {
    return path.join(this.sandboxDir(ws, name), 'root');
  }
}


/** `-o json` (serde_json::to_string_pretty + newline) or `-o yaml`. */
export function emitStructured(format, value) {
  if (format === 'json') process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else process.stdout.write(toYaml(value));
}
