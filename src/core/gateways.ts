import type { Clock, Logger } from './context.js';
import { LogosError } from './errors.js';
import { imageTagForVersion } from './versions.js';
import type { OpenShell, OsStatus } from './openshell.js';
import type { Records } from './ports.js';
import { own } from './records.js';

/**
 * OpenShell gateways. A local gateway is a docker container Logos starts
 * (openshell-cli.md §13) and then registers with `openshell gateway add`;
 * remote gateways (Kubernetes clusters) are registered only.
 */

export const GATEWAY_IMAGE = 'ghcr.io/nvidia/openshell/gateway';
export const SUPERVISOR_IMAGE = 'ghcr.io/nvidia/openshell/supervisor';
export const DEFAULT_GATEWAY = 'logos';
export const GATEWAY_LABEL = 'dev.logos.gateway';

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
  /** Directory for the supervisor binary of a gateway (mounted at the same path in the container). */
  supervisorDir: (gateway: string) => string;
  fileExists: (path: string) => boolean;
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

export function isConnected(s: OsStatus): boolean {
  return s.status === 'connected' || s.status === 'connected_http';
}

/** Pick a port: the requested one, or the first of the range that docker does not publish and we can bind. */
export async function choosePort(ctx: Pick<GatewayContext, 'docker' | 'portFree' | 'portRange'>, requested?: number): Promise<number> {
  const published = new Set(await ctx.docker.publishedPorts());
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
}

export async function gatewayUp(ctx: GatewayContext, input: { name: string; port?: number }): Promise<GatewayUpResult> {
  const name = validateGatewayName(input.name);
  const say = (m: string): void => ctx.progress?.(m);
  const log = ctx.logger.child({ gateway: name });
  const version = await ctx.openshell.version();
  await ctx.openshell.requireWorkspaces();
  await ctx.docker.engineVersion();
  const tag = imageTagForVersion(version);
  const image = `${GATEWAY_IMAGE}:${tag}`;
  const cname = containerName(name);
  const existing = own((await ctx.gateways.read()).gateways, name);
  if (existing && !existing.managed) {
    throw new LogosError('ALREADY_EXISTS', `Gateway '${name}' is registered as ${existing.kind} (${existing.endpoint}); Logos did not start it.`, {
      hint: 'Pick another name for a local gateway, e.g. `logos gateway up local`.',
    });
  }

  const current = await ctx.docker.inspect(cname);
  const registered = (await ctx.openshell.gatewayList().catch(() => [])).find((g) => g.name === name);
  if (current?.running) {
    const port = current.ports.find((p) => p.containerPort === 8080)?.hostPort ?? existing?.port;
    const endpoint = `http://127.0.0.1:${port}`;
    if (current.image !== image) {
      log.warn('gateway image differs from the openshell version', { image: current.image, want: image });
    }
    if (registered && registered.endpoint.replace(/\/+$/, '') === endpoint) {
      const rec = await saveRecord(ctx, { name, endpoint, port, image: current.image, cname });
      return { gateway: rec, alreadyRunning: true };
    }
    if (registered) await ctx.openshell.gatewayRemove(name);
    await ctx.openshell.gatewayAdd(name, endpoint, { local: true });
    await waitReachable(ctx, name, cname);
    const rec = await saveRecord(ctx, { name, endpoint, port, image: current.image, cname });
    return { gateway: rec, alreadyRunning: false };
  }
  if (current) {
    say(`Removing the stopped container ${cname}`);
    await ctx.docker.remove(cname);
  }

  const port = await choosePort(ctx, input.port ?? (existing?.port && !current ? existing.port : undefined));
  const endpoint = `http://127.0.0.1:${port}`;
  const supDir = ctx.supervisorDir(name);
  const supBin = `${supDir}/openshell-sandbox`;
  if (!ctx.fileExists(supBin)) {
    say(`Extracting the sandbox supervisor (${SUPERVISOR_IMAGE}:${tag})`);
    await ctx.docker.extractFile(`${SUPERVISOR_IMAGE}:${tag}`, '/openshell-sandbox', supBin);
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
    ports: [{ hostIp: '127.0.0.1', hostPort: port, containerPort: 8080 }],
    volumes: [
      { source: '/var/run/docker.sock', target: '/var/run/docker.sock' },
      // The host docker daemon resolves the supervisor path for sandbox containers: same path inside.
      { source: supDir, target: supDir, readOnly: true },
      { source: volume, target: '/var/openshell' },
    ],
    groupAdd: group ? [group] : [],
    env: {
      OPENSHELL_DRIVERS: 'docker',
      OPENSHELL_GRPC_ENDPOINT: `http://host.openshell.internal:${port}`,
      OPENSHELL_DOCKER_SUPERVISOR_BIN: supBin,
      OPENSHELL_DB_URL: 'sqlite:/var/openshell/openshell.db',
      // Plaintext only because the port is bound to 127.0.0.1.
      OPENSHELL_DISABLE_TLS: 'true',
    },
    labels: { [GATEWAY_LABEL]: name },
  });
  if (ctx.dryRun) {
    await ctx.openshell.gatewayAdd(name, endpoint, { local: true });
    return {
      gateway: { name, endpoint, kind: 'local', managed: true, state: 'up', container: cname, port, image, volume, created_at: ctx.clock.now().toISOString() },
      alreadyRunning: false,
    };
  }
  say('Waiting for the gateway to become healthy');
  await waitHealthy(ctx, cname);
  if (registered) await ctx.openshell.gatewayRemove(name);
  await ctx.openshell.gatewayAdd(name, endpoint, { local: true });
  await waitReachable(ctx, name, cname);
  const rec = await saveRecord(ctx, { name, endpoint, port, image, cname, volume });
  log.info('gateway up', { endpoint, image, container: cname });
  return { gateway: rec, alreadyRunning: false };
}

async function saveRecord(
  ctx: GatewayContext,
  r: { name: string; endpoint: string; port: number | undefined; image: string; cname: string; volume?: string },
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
      created_at: prev?.created_at ?? ctx.clock.now().toISOString(),
    };
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
  version?: string;
  sandboxes?: number;
  error?: string;
  latency_ms: number;
  checked_at: string;
}

export async function gatewayStatus(ctx: Pick<GatewayContext, 'gateways' | 'openshell' | 'clock'>, names: string[]): Promise<GatewayStatusEntry[]> {
  const records = (await ctx.gateways.read()).gateways;
  return Promise.all(
    names.map(async (name) => {
      const started = ctx.clock.now().getTime();
      const s = await ctx.openshell.status(name);
      const latency = ctx.clock.now().getTime() - started;
      const entry: GatewayStatusEntry = {
        name,
        reachable: isConnected(s),
        status: s.status,
        latency_ms: latency,
        checked_at: ctx.clock.now().toISOString(),
      };
      const rec = records[name];
      if (rec) entry.endpoint = rec.endpoint;
      else if (s.server) entry.endpoint = s.server;
      if (s.version) entry.version = s.version;
      if (s.error) entry.error = s.error;
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
