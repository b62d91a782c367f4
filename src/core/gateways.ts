import type { Clock, Logger } from './context.js';
import { LogosError } from './errors.js';
import { gatewayToml, openshellImages } from './gateway-config.js';
import { imageTagForVersion } from './versions.js';
import { lineOf, type OpenShell, type OsLine, type OsStatus } from './openshell.js';
import type { Records } from './ports.js';
import { own } from './records.js';

/**
 * OpenShell gateways. A local gateway is a docker container Logos starts
 * (openshell-cli.md §13, openshell-0.1.md §3) with a gateway.toml Logos writes, and
 * then registers with `openshell gateway add`; remote gateways (Kubernetes clusters)
 * and package-managed local ones are registered only.
 */

export const DEFAULT_GATEWAY = 'logos';
export const GATEWAY_LABEL = 'dev.logos.gateway';
/** Containers started the way this file does it; older ones (port mapped to 8080, env settings) are recreated. */
export const LAYOUT_LABEL = 'dev.logos.gateway.layout';
export const LAYOUT_VERSION = '2';

export interface GatewayRecord {
  name: string;
  endpoint: string;
  kind: 'local' | 'remote';
  /** Logos started its container (`logos gateway up`). */
  managed: boolean;
  state?: 'up' | 'down';
  container?: string;
  port?: number;
  image?: string;
  volume?: string;
  /** The OpenShell line the container runs. */
  line?: OsLine;
  /** How callers authenticate: plaintext on loopback (0.0.x), unauthenticated on loopback (0.1.x), or whatever openshell registered. */
  auth?: 'plaintext-loopback' | 'unauthenticated-loopback';
  /** The gateway.toml Logos wrote for it. */
  config?: string;
  created_at: string;
}

export interface GatewaysFile {
  version: 1;
  gateways: Record<string, GatewayRecord>;
}

export const emptyGateways = (): GatewaysFile => ({ version: 1, gateways: {} });

// ---- docker, as the core sees it (src/adapters/docker implements it) ----

export interface ContainerInfo {
  name: string;
  running: boolean;
  status: string;
  exitCode: number;
  image: string;
  labels: Record<string, string>;
  health?: string;
  ports: Array<{ hostIp: string; hostPort: number; containerPort: number }>;
}

export interface ContainerSpec {
  name: string;
  image: string;
  restart?: string;
  ports: Array<{ hostIp: string; hostPort: number; containerPort: number }>;
  volumes: Array<{ source: string; target: string; readOnly?: boolean }>;
  env: Record<string, string>;
  labels: Record<string, string>;
  groupAdd?: string[];
  /** Run as this user (the gateway's sqlite state must be writable). */
  user?: string;
  /** `--add-host NAME:ADDR` entries. */
  addHosts?: string[];
  args?: string[];
}

export interface Docker {
  engineVersion(): Promise<string>;
  inspect(name: string): Promise<ContainerInfo | undefined>;
  publishedPorts(): Promise<number[]>;
  listByLabel(label: string): Promise<Array<{ name: string; state: string; image: string }>>;
  imagePresent(image: string): Promise<boolean>;
  pull(image: string, onLine?: (line: string) => void): Promise<void>;
  run(spec: ContainerSpec): Promise<void>;
  remove(name: string): Promise<'removed' | 'missing'>;
  volumeCreate(name: string): Promise<void>;
  extractFile(image: string, pathInImage: string, hostPath: string): Promise<void>;
  logsTail(name: string, lines: number): Promise<string>;
  socketGroup(): string | undefined;
}

export interface GatewayContext {
  gateways: Records<GatewaysFile>;
  openshell: OpenShell;
  docker: Docker;
  clock: Clock;
  logger: Logger;
  /** The gateway's own directory (its gateway.toml, supervisor, data), mounted at the same path in the container. */
  gatewayDir: (gateway: string) => string;
  fileExists: (path: string) => boolean;
  /** Write a file (creating its directory); not called with --dry-run. */
  writeFile: (path: string, text: string) => Promise<void>;
  /** Create a directory we own (before docker would create it as root). */
  ensureDir: (path: string) => Promise<void>;
  /** Can we bind 127.0.0.1:port right now? */
  portFree: (port: number) => Promise<boolean>;
  portRange: [number, number];
  sleep: (ms: number) => Promise<void>;
  progress?: (msg: string) => void;
  /** With --dry-run the adapters record changes instead of making them. */
  dryRun?: boolean;
  startTimeoutMs?: number;
}

const GW_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function validateGatewayName(name: string): string {
  if (!GW_NAME_RE.test(name)) {
    throw new LogosError('INVALID_NAME', `Invalid gateway name '${name}'.`, {
      hint: 'Use lowercase letters, digits and "-", e.g. "logos" or "lab-cluster".',
    });
  }
  return name;
}

export function containerName(gateway: string): string {
  return `logos-gw-${gateway}`;
}

/** Only `connected` counts: `connected_http` means the HTTP health answered but the gRPC health check failed. */
export function isConnected(s: OsStatus): boolean {
  return s.status === 'connected';
}

/**
 * Pick a port: the requested one, else the preferred one (the gateway's previous port) when it
 * is still free, else the first of the range that docker does not publish and we can bind.
 */
export async function choosePort(ctx: Pick<GatewayContext, 'docker' | 'portFree' | 'portRange'>, requested?: number, preferred?: number): Promise<number> {
  const published = new Set(await ctx.docker.publishedPorts());
  if (requested === undefined && preferred !== undefined && !published.has(preferred) && (await ctx.portFree(preferred))) return preferred;
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1 || requested > 65535) {
      throw new LogosError('INVALID_ARGUMENT', `Invalid port ${requested}.`, { hint: 'Use a port between 1 and 65535.' });
    }
    if (published.has(requested) || !(await ctx.portFree(requested))) {
      throw new LogosError('PORT_IN_USE', `Port ${requested} on 127.0.0.1 is already in use.`, {
        hint: 'Pick another with --port, or leave --port out to use a free one from the configured range.',
      });
    }
    return requested;
  }
  const [lo, hi] = ctx.portRange;
  for (let p = lo; p <= hi; p++) {
    if (published.has(p)) continue;
    if (await ctx.portFree(p)) return p;
  }
  throw new LogosError('PORT_IN_USE', `No free port between ${lo} and ${hi} on 127.0.0.1.`, {
    hint: 'Free one, pass --port, or change gatewayPortRange in config.json.',
  });
}

export interface GatewayUpResult {
  gateway: GatewayRecord;
  /** Nothing had to change: it was already running and registered. */
  alreadyRunning: boolean;
  /** The gateway.toml (written, or with --dry-run what would be written). */
  config?: { path: string; text: string };
  /** Why a running container was replaced (an older layout, another OpenShell version). */
  recreated?: string;
}

export async function gatewayUp(ctx: GatewayContext, input: { name: string; port?: number }): Promise<GatewayUpResult> {
  const name = validateGatewayName(input.name);
  const say = (m: string): void => ctx.progress?.(m);
  const log = ctx.logger.child({ gateway: name });
  const { version, line } = await ctx.openshell.cli();
  await ctx.docker.engineVersion();
  const images = openshellImages(version);
  const image = images.gateway;
  const cname = containerName(name);
  const existing = own((await ctx.gateways.read()).gateways, name);
  if (existing && !existing.managed) {
    throw new LogosError('ALREADY_EXISTS', `Gateway '${name}' is registered as ${existing.kind} (${existing.endpoint}); Logos did not start it.`, {
      hint: 'Pick another name for a local gateway, e.g. `logos gateway up local`.',
    });
  }

  let current = await ctx.docker.inspect(cname);
  const registered = (await ctx.openshell.gatewayList().catch(() => [])).find((g) => g.name === name);
  let recreated: string | undefined;
  if (current?.running) {
    const port = current.ports.find((p) => p.hostPort === p.containerPort)?.hostPort ?? current.ports[0]?.hostPort ?? existing?.port;
    const endpoint = `http://127.0.0.1:${port}`;
    if (current.labels[LAYOUT_LABEL] !== LAYOUT_VERSION) {
      recreated = 'it was started the old way, which cannot run sandboxes (settings from env, port mapped to 8080)';
    } else if (current.image !== image) {
      recreated = `it runs ${current.image}, the openshell CLI is ${version}`;
    }
    if (!recreated) {
      if (registered && registered.endpoint.replace(/\/+$/, '') === endpoint) {
        const rec = await saveRecord(ctx, { name, endpoint, port, image: current.image, cname, line });
        return { gateway: rec, alreadyRunning: true };
      }
      if (registered) await ctx.openshell.gatewayRemove(name);
      await ctx.openshell.gatewayAdd(name, endpoint, { local: true });
      await waitReachable(ctx, name, cname);
      const rec = await saveRecord(ctx, { name, endpoint, port, image: current.image, cname, line });
      return { gateway: rec, alreadyRunning: false };
    }
    say(`Recreating ${cname}: ${recreated} (its state volume is kept)`);
    log.info('recreating the gateway container', { reason: recreated, image: current.image, want: image });
  }
  if (current) {
    if (!recreated) say(`Removing the stopped container ${cname}`);
    await ctx.docker.remove(cname);
    current = undefined;
  }

  const port = await choosePort(ctx, input.port, existing?.port);
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = ctx.gatewayDir(name);
  const tag = imageTagForVersion(version);
  let supervisorBin: string | undefined;
  if (line === '0.0') {
    // The host's docker daemon mounts the supervisor into sandboxes: it must be a host path,
    // mounted at the same path in the gateway, and match the gateway's version.
    supervisorBin = `${dir}/supervisor-${tag}/openshell-sandbox`;
    if (!ctx.fileExists(supervisorBin)) {
      say(`Extracting the sandbox supervisor (${images.supervisor})`);
      await ctx.docker.extractFile(images.supervisor, '/openshell-sandbox', supervisorBin);
    }
  }
  const dataDir = `${dir}/data`;
  const configPath = `${dir}/gateway.toml`;
  const configText = gatewayToml({ name, line, version, port, images, loopbackOnly: true, ...(supervisorBin ? { supervisorBin } : {}) });
  if (!ctx.dryRun) {
    await ctx.writeFile(configPath, configText);
    if (line === '0.1') await ctx.ensureDir(dataDir);
  }
  const volume = `${cname}-state`;
  await ctx.docker.volumeCreate(volume);
  if (!(await ctx.docker.imagePresent(image))) {
    say(`Pulling ${image}`);
    await ctx.docker.pull(image, (l) => say(l));
  }
  const group = ctx.docker.socketGroup();
  say(`Starting ${cname} on 127.0.0.1:${port}`);
  await ctx.docker.run({
    name: cname,
    image,
    restart: 'unless-stopped',
    // The image runs as UID 1000; a fresh named volume is root-owned, so sqlite could not write.
    user: '0',
    // Published at the same number it listens on: sandboxes call back to host.openshell.internal:<port>.
    ports: [{ hostIp: '127.0.0.1', hostPort: port, containerPort: port }],
    volumes: [
      { source: '/var/run/docker.sock', target: '/var/run/docker.sock' },
      // The host docker daemon resolves the supervisor path for sandbox containers: same path inside.
      { source: dir, target: dir },
      { source: volume, target: '/var/openshell' },
    ],
    addHosts: ['host.openshell.internal:host-gateway', 'host.docker.internal:host-gateway'],
    groupAdd: group ? [group] : [],
    env: {
      OPENSHELL_GATEWAY_CONFIG: configPath,
      OPENSHELL_DB_URL: 'sqlite:/var/openshell/openshell.db?mode=rwc',
      ...(line === '0.1' ? { XDG_DATA_HOME: dataDir, HOME: dataDir } : {}),
    },
    labels: { [GATEWAY_LABEL]: name, [LAYOUT_LABEL]: LAYOUT_VERSION },
    // Replaces the image's CMD (--bind-address 0.0.0.0 --port 8080), which would beat the TOML.
    args: ['--bind-address', '0.0.0.0', '--port', String(port)],
  });
  const config = { path: configPath, text: configText };
  const auth: GatewayRecord['auth'] = line === '0.1' ? 'unauthenticated-loopback' : 'plaintext-loopback';
  if (ctx.dryRun) {
    await ctx.openshell.gatewayAdd(name, endpoint, { local: true });
    return {
      gateway: { name, endpoint, kind: 'local', managed: true, state: 'up', container: cname, port, image, volume, line, auth, config: configPath, created_at: ctx.clock.now().toISOString() },
      alreadyRunning: false,
      config,
      ...(recreated ? { recreated } : {}),
    };
  }
  say('Waiting for the gateway to become healthy');
  await waitHealthy(ctx, cname);
  if (registered) await ctx.openshell.gatewayRemove(name);
  await ctx.openshell.gatewayAdd(name, endpoint, { local: true });
  await waitReachable(ctx, name, cname);
  const rec = await saveRecord(ctx, { name, endpoint, port, image, cname, volume, line, config: configPath });
  log.info('gateway up', { endpoint, image, container: cname, openshell_line: line, ...(recreated ? { recreated } : {}) });
  return { gateway: rec, alreadyRunning: false, config, ...(recreated ? { recreated } : {}) };
}

async function saveRecord(
  ctx: GatewayContext,
  r: { name: string; endpoint: string; port: number | undefined; image: string; cname: string; volume?: string; line: OsLine; config?: string },
): Promise<GatewayRecord> {
  return ctx.gateways.update((file) => {
    const prev = own(file.gateways, r.name);
    const rec: GatewayRecord = {
      name: r.name,
      endpoint: r.endpoint,
      kind: 'local',
      managed: true,
      state: 'up',
      container: r.cname,
      image: r.image,
      volume: r.volume ?? prev?.volume ?? `${r.cname}-state`,
      line: r.line,
      auth: r.line === '0.1' ? 'unauthenticated-loopback' : 'plaintext-loopback',
      created_at: prev?.created_at ?? ctx.clock.now().toISOString(),
    };
    const config = r.config ?? prev?.config;
    if (config) rec.config = config;
    if (r.port !== undefined) rec.port = r.port;
    file.gateways[r.name] = rec;
    return rec;
  });
}

async function startFailed(ctx: GatewayContext, cname: string, why: string): Promise<LogosError> {
  const logs = await ctx.docker.logsTail(cname, 20).catch(() => '');
  return new LogosError('GATEWAY_START_FAILED', `The gateway container ${cname} ${why}.`, {
    hint: `Its last log lines are in the details; see all with \`docker logs ${cname}\`. Remove it with \`logos gateway down\` and try again.`,
    details: { container: cname, logs: logs.split('\n').slice(-20) },
  });
}

async function waitHealthy(ctx: GatewayContext, cname: string): Promise<void> {
  const deadline = ctx.clock.now().getTime() + (ctx.startTimeoutMs ?? 90_000);
  let runningSince: number | undefined;
  for (;;) {
    const info = await ctx.docker.inspect(cname);
    if (!info) throw await startFailed(ctx, cname, 'disappeared during start-up');
    if (!info.running) throw await startFailed(ctx, cname, `exited during start-up (status ${info.status}, exit code ${info.exitCode})`);
    if (info.health === 'unhealthy') throw await startFailed(ctx, cname, 'reports itself unhealthy');
    const now = ctx.clock.now().getTime();
    if (info.health === 'healthy') return;
    if (info.health === undefined) {
      // No health check in the image: running and still running a moment later.
      runningSince ??= now;
      if (now - runningSince >= 1000) return;
    }
    if (now > deadline) throw await startFailed(ctx, cname, 'did not become healthy in time');
    await ctx.sleep(250);
  }
}

async function waitReachable(ctx: GatewayContext, name: string, cname: string): Promise<void> {
  const deadline = ctx.clock.now().getTime() + (ctx.startTimeoutMs ?? 90_000);
  for (;;) {
    const s = await ctx.openshell.status(name);
    if (isConnected(s)) return;
    const info = await ctx.docker.inspect(cname);
    if (info && !info.running) throw await startFailed(ctx, cname, `exited during start-up (exit code ${info.exitCode})`);
    if (ctx.clock.now().getTime() > deadline) {
      throw new LogosError('GATEWAY_UNREACHABLE', `Gateway '${name}' runs but does not answer: ${s.error ?? s.status}.`, {
        hint: `See \`docker logs ${cname}\` and \`openshell -g ${name} status\`.`,
      });
    }
    await ctx.sleep(500);
  }
}

export async function gatewayDown(ctx: GatewayContext, name: string): Promise<GatewayRecord> {
  const rec = own((await ctx.gateways.read()).gateways, name);
  if (!rec) throw notFound(name);
  if (!rec.managed) {
    throw new LogosError('INVALID_ARGUMENT', `Gateway '${name}' was not started by Logos (${rec.endpoint}).`, {
      hint: `Unregister it with \`logos gateway remove ${name}\`.`,
    });
  }
  await ctx.docker.engineVersion();
  const cname = rec.container ?? containerName(name);
  await ctx.docker.remove(cname);
  await ctx.openshell.gatewayRemove(name);
  if (ctx.dryRun) return rec;
  ctx.logger.info('gateway down', { gateway: name });
  return ctx.gateways.update((file) => {
    const r = own(file.gateways, name) as GatewayRecord;
    r.state = 'down';
    return r;
  });
}

export async function gatewayRegister(ctx: Pick<GatewayContext, 'gateways' | 'openshell' | 'clock' | 'logger'>, input: { name: string; endpoint: string; remote?: string; local?: boolean }): Promise<{ gateway: GatewayRecord; status: OsStatus }> {
  const name = validateGatewayName(input.name);
  let url: URL;
  try {
    if (/[\u0000-\u001f\u007f-\u009f\s]/.test(input.endpoint)) throw new Error('control characters');
    url = new URL(input.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new LogosError('INVALID_ARGUMENT', `Invalid gateway endpoint '${input.endpoint}'.`, { hint: 'e.g. https://gw.example.org:17670 or http://127.0.0.1:17670' });
  }
  if (own((await ctx.gateways.read()).gateways, name)) {
    throw new LogosError('ALREADY_EXISTS', `Logos already has a gateway named '${name}'.`, { hint: `See \`logos gateway list\`; remove it first with \`logos gateway remove ${name}\`.` });
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
  const opts: { local?: boolean; remote?: string } = {};
  if (input.remote) opts.remote = input.remote;
  else if (input.local) opts.local = true;
  await ctx.openshell.gatewayAdd(name, input.endpoint, opts);
  const rec: GatewayRecord = {
    name,
    endpoint: input.endpoint.replace(/\/+$/, ''),
    kind: input.remote || (!loopback && !input.local) ? 'remote' : 'local',
    managed: false,
    created_at: ctx.clock.now().toISOString(),
  };
  await ctx.gateways.update((file) => {
    file.gateways[name] = rec;
  });
  const status = await ctx.openshell.status(name);
  ctx.logger.info('gateway registered', { gateway: name, endpoint: rec.endpoint, kind: rec.kind, status: status.status });
  return { gateway: rec, status };
}

export async function gatewayUnregister(ctx: Pick<GatewayContext, 'gateways' | 'openshell' | 'logger'>, name: string, routesOnIt: string[]): Promise<void> {
  const rec = own((await ctx.gateways.read()).gateways, name);
  if (!rec) throw notFound(name);
  if (rec.managed && rec.state !== 'down') {
    throw new LogosError('IN_USE', `Gateway '${name}' is running (Logos started it).`, { hint: `Stop it first with \`logos gateway down ${name}\`.` });
  }
  if (routesOnIt.length > 0) {
    throw new LogosError('IN_USE', `Routes still live on gateway '${name}': ${routesOnIt.join(', ')}.`, {
      hint: `Remove them first (\`logos route remove ${routesOnIt[0]}\`).`,
    });
  }
  await ctx.openshell.gatewayRemove(name);
  await ctx.gateways.update((file) => {
    delete file.gateways[name];
  });
  ctx.logger.info('gateway removed', { gateway: name });
}

function notFound(name: string): LogosError {
  return new LogosError('NOT_FOUND', `No gateway named '${name}'.`, {
    hint: 'See `logos gateway list`; start a local one with `logos gateway up` or register one with `logos gateway add <endpoint> --name <n>`.',
  });
}

export interface GatewayListEntry {
  name: string;
  endpoint: string;
  kind: 'local' | 'remote' | string;
  managed: boolean;
  /** Known to the openshell CLI (`gateway list`). */
  registered: boolean;
  /** Logos has a record of it. */
  recorded: boolean;
  state?: string;
  container?: { name: string; state: string; image: string };
}

/** Logos' records merged with `openshell gateway list` and docker's view. */
export async function gatewayList(ctx: Pick<GatewayContext, 'gateways' | 'openshell' | 'docker' | 'logger'>): Promise<{ gateways: GatewayListEntry[]; warnings: string[] }> {
  const warnings: string[] = [];
  const records = (await ctx.gateways.read()).gateways;
  const os = await ctx.openshell.gatewayList().catch((err: LogosError) => {
    warnings.push(`openshell: ${err.message}`);
    return undefined;
  });
  const containers = await ctx.docker.listByLabel(GATEWAY_LABEL).catch((err: LogosError) => {
    if (Object.values(records).some((r) => r.managed)) warnings.push(`docker: ${err.message}`);
    return [];
  });
  const byName = new Map<string, GatewayListEntry>();
  for (const r of Object.values(records)) {
    const e: GatewayListEntry = { name: r.name, endpoint: r.endpoint, kind: r.kind, managed: r.managed, registered: false, recorded: true };
    if (r.state) e.state = r.state;
    byName.set(r.name, e);
  }
  for (const g of os ?? []) {
    const e = byName.get(g.name) ?? { name: g.name, endpoint: g.endpoint, kind: g.type, managed: false, registered: false, recorded: false };
    e.registered = true;
    byName.set(g.name, e);
  }
  for (const c of containers) {
    const owner = Object.values(records).find((r) => r.container === c.name);
    if (owner) {
      const e = byName.get(owner.name);
      if (e) e.container = c;
    }
  }
  for (const e of byName.values()) {
    if (e.managed && !e.container && e.state !== 'down') e.state = 'container missing';
    else if (e.container) e.state = e.container.state;
  }
  return { gateways: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), warnings };
}

export interface GatewayStatusEntry {
  name: string;
  endpoint?: string;
  reachable: boolean;
  status: string;
  /** The gateway's version (from its health check). */
  version?: string;
  /** The openshell CLI's version. */
  cli_version?: string;
  /** How callers authenticate, for gateways Logos started (e.g. no authentication, loopback only). */
  auth?: string;
  sandboxes?: number;
  error?: string;
  /** What to do after an upgrade: CLI and gateway differ, or sandboxes were made for the other line. */
  advice?: string[];
  latency_ms: number;
  checked_at: string;
}

const AUTH_TEXT: Record<NonNullable<GatewayRecord['auth']>, string> = {
  'plaintext-loopback': 'plaintext, port on 127.0.0.1 only',
  'unauthenticated-loopback': 'none (allow_unauthenticated_users), port on 127.0.0.1 only',
};

/** Sandboxes Logos knows on a gateway, with the line each was made for. */
export interface GatewaySandboxRef {
  name: string;
  gateway?: string;
  os_line?: OsLine;
}

/**
 * Reachability, versions and, after an upgrade of the CLI or the gateway, what must be
 * recreated ("CLI 0.1.10, gateway 0.0.116: recreate").
 */
export async function gatewayStatus(
  ctx: Pick<GatewayContext, 'gateways' | 'openshell' | 'clock'>,
  names: string[],
  sandboxes: GatewaySandboxRef[] = [],
): Promise<GatewayStatusEntry[]> {
  const records = (await ctx.gateways.read()).gateways;
  const cli = await ctx.openshell.cli().catch(() => undefined);
  return Promise.all(
    names.map(async (name) => {
      const started = ctx.clock.now().getTime();
      let s: OsStatus;
      try {
        s = await ctx.openshell.status(name);
      } catch (err) {
        // One gateway openshell no longer knows must not hide the others.
        if (names.length === 1 || !(err instanceof LogosError) || err.code !== 'NOT_FOUND') throw err;
        s = { gateway: name, status: 'not_registered', error: err.message };
      }
      const latency = ctx.clock.now().getTime() - started;
      const entry: GatewayStatusEntry = {
        name,
        reachable: isConnected(s),
        status: s.status,
        latency_ms: latency,
        checked_at: ctx.clock.now().toISOString(),
      };
      const rec = own(records, name);
      if (rec) entry.endpoint = rec.endpoint;
      else if (s.server) entry.endpoint = s.server;
      if (s.version) entry.version = s.version;
      if (cli) entry.cli_version = cli.version;
      if (rec?.auth) entry.auth = AUTH_TEXT[rec.auth];
      if (s.error) entry.error = s.error;
      const advice: string[] = [];
      if (cli && s.version && imageTagForVersion(s.version) !== imageTagForVersion(cli.version)) {
        const otherLine = lineOf(s.version) !== cli.line;
        const fix = rec?.managed ? `\`logos gateway up ${name}\` recreates it (the state volume is kept)` : 'upgrade the gateway to the same release as the CLI';
        advice.push(`CLI ${cli.version}, gateway ${s.version}: recreate — ${otherLine ? 'the two lines do not speak the same API' : 'CLI and gateway must be the same release'}; ${fix}.`);
      }
      if (cli) {
        const stale = sandboxes.filter((sb) => sb.gateway === name && (sb.os_line ?? '0.0') !== cli.line).map((sb) => sb.name);
        if (stale.length > 0) {
          advice.push(
            `Sandboxes made for OpenShell ${cli.line === '0.1' ? '0.0' : '0.1'}.x must be recreated: ${stale.join(', ')} (\`logos sandbox delete ${stale[0]}\`, then \`logos sandbox create\` or just \`logos run\`).`,
          );
        }
      }
      if (advice.length) entry.advice = advice;
      if (entry.reachable) {
        try {
          entry.sandboxes = await ctx.openshell.sandboxCount(name);
        } catch {
          // the count is extra information; reachability stands
        }
      }
      return entry;
    }),
  );
}
