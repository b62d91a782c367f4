// Fake docker engine: containers, images and volumes in $FAKE_DOCKER_STATE/state.json.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Exit, isTruthyEnv, readJson, updateJson } from './common.mjs';
import { NO_DAEMON, ZERO_TIME } from './docker-cli.mjs';
import { gatewayRuntime, tagAtLeast, tagOf } from './gw-image.mjs';

// Engine state.
export class Engine {
  constructor(dir) {
    this.dir = dir;
    this.file = path.join(dir, 'state.json');
  }
  fallback() {
    return { containers: [], images: {}, volumes: {} };
  }
  read() {
    return readJson(this.file, this.fallback());
  }
  update(fn) {
    return updateJson(this.file, this.fallback(), fn);
  }
}

export function daemonCheck(env) {
  if (isTruthyEnv(env.FAKE_DOCKER_NO_DAEMON)) throw new Exit(1, `${NO_DAEMON}\n`);
}

export function normaliseRef(ref) {
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  const hasTag = ref.slice(lastSlash + 1).includes(':');
  return hasTag ? ref : `${ref}:latest`;
}

export function repoOf(ref) {
  const r = ref.split('@')[0];
  const lastSlash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  return colon > lastSlash ? r.slice(0, colon) : r;
}

export function fullRepo(ref) {
  const repo = repoOf(ref);
  const first = repo.split('/')[0];
  if (repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return repo;
  return repo.includes('/') ? `docker.io/${repo}` : `docker.io/library/${repo}`;
}

export const sha = (s) => createHash('sha256').update(s).digest('hex');
const imageId = (ref) => `sha256:${sha(`image:${ref}`)}`;
const isGatewayImage = (ref) => /(openshell|ai-openshell)\/gateway/.test(ref);

export function pullFails(env, ref, state = undefined) {
  const v = env.FAKE_DOCKER_PULL_FAIL;
  if (v && (v === '1' || v.toLowerCase() === 'true')) return true;
  if (v && v.split(',').map((s) => s.trim()).filter(Boolean).some((s) => ref.includes(s))) return true;
  return !registryHas(ref, state);
}

/**
 * What the pretend registries hold. OpenShell images: ghcr.io/nvidia/openshell/<name> for 0.0.x
 * and 0.1.0–0.1.9, quay.io/ai-openshell/<name> from 0.1.10 (openshell-0.1.md §3, REG). Images
 * pushed with `docker push` are there too. A bare local name (docker.io/library/…) that nobody
 * pushed does not exist. Anything else under a registry host is assumed to exist.
 */
export function registryHas(ref, state) {
  const r = normaliseRef(ref);
  if (state?.registry && (state.registry[r] || Object.values(state.registry).some((d) => r === `${repoOf(r)}@${d}`))) return true;
  const tag = tagOf(r);
  let m = /^ghcr\.io\/nvidia\/openshell\/(gateway|supervisor|sandbox|cluster)$/.exec(repoOf(r));
  if (m) return r.includes('@') || tag === 'latest' || !tagAtLeast(tag, '0.1.10');
  m = /^quay\.io\/ai-openshell\/(gateway|supervisor|sandbox)$/.exec(repoOf(r));
  if (m) return r.includes('@') || tag === 'latest' || tagAtLeast(tag, '0.1.10');
  const first = repoOf(r).split('/')[0];
  const hasHost = repoOf(r).includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  // Local builds (Logos' sandbox image, the CLI's Dockerfile builds) are on no registry.
  if (!hasHost) return !/^(logos-sandbox|openshell-local\/)/.test(repoOf(r));
  return true;
}

export function newImage(ref) {
  const tag = ref.includes('@') ? 'latest' : ref.slice(ref.lastIndexOf(':') + 1);
  const labels = {};
  if (isGatewayImage(ref) || /openshell\//.test(ref)) labels['org.opencontainers.image.version'] = tag;
  return {
    Id: imageId(ref),
    RepoTags: [ref],
    RepoDigests: [`${repoOf(ref)}@sha256:${sha(`digest:${ref}`)}`],
    Created: new Date().toISOString(),
    Size: 80_000_000 + (parseInt(sha(ref).slice(0, 6), 16) % 50_000_000),
    Labels: labels,
    // The gateway image: ENTRYPOINT openshell-gateway, CMD --bind-address 0.0.0.0 --port 8080.
    Entrypoint: isGatewayImage(ref) ? ['openshell-gateway'] : null,
    Cmd: isGatewayImage(ref) ? ['--bind-address', '0.0.0.0', '--port', '8080'] : ['/bin/sh'],
  };
}

/** Pull progress lines (docker prints them on stdout for `pull`, stderr inside `run`). */
export function pullLines(ref, alreadyHave) {
  const tag = ref.includes('@') ? ref.split('@')[1] : ref.slice(ref.lastIndexOf(':') + 1);
  const digest = `sha256:${sha(`digest:${ref}`)}`;
  if (alreadyHave) return [`${tag}: Pulling from ${repoOf(ref).replace(/^docker\.io\/(library\/)?/, '')}`, `Digest: ${digest}`, `Status: Image is up to date for ${ref}`];
  return [
    `${tag}: Pulling from ${repoOf(ref).includes('/') ? repoOf(ref).split('/').slice(repoOf(ref).split('/')[0].includes('.') ? 1 : 0).join('/') : `library/${repoOf(ref)}`}`,
    `${sha(`layer:${ref}`).slice(0, 12)}: Pull complete`,
    `Digest: ${digest}`,
    `Status: Downloaded newer image for ${ref}`,
  ];
}

export function pullError(ref) {
  const first = repoOf(ref).split('/')[0];
  if (repoOf(ref).includes('/') && (first.includes('.') || first.includes(':'))) {
    return `Error response from daemon: manifest for ${ref} not found: manifest unknown: manifest unknown`;
  }
  return `Error response from daemon: pull access denied for ${repoOf(ref)}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`;
}

export function findContainer(state, key) {
  const k = key.replace(/^\//, '');
  return (
    state.containers.find((c) => c.Name === `/${k}`) ??
    state.containers.find((c) => c.Id === k) ??
    (() => {
      const m = state.containers.filter((c) => c.Id.startsWith(k));
      return m.length === 1 ? m[0] : undefined;
    })()
  );
}

export function findImage(state, key) {
  if (state.images[key]) return state.images[key];
  if (state.images[normaliseRef(key)]) return state.images[normaliseRef(key)];
  const k = key.replace(/^sha256:/, '');
  return Object.values(state.images).find((im) => k.length >= 4 && im.Id.slice(7).startsWith(k));
}

export function parsePublish(spec) {
  let proto = 'tcp';
  let s = spec;
  const slash = s.lastIndexOf('/');
  if (slash !== -1) {
    proto = s.slice(slash + 1);
    s = s.slice(0, slash);
  }
  let ip = '';
  let host = '';
  let cont;
  const parts = s.split(':');
  if (parts.length === 1) cont = parts[0];
  else if (parts.length === 2) [host, cont] = parts;
  else if (parts.length === 3) [ip, host, cont] = parts;
  else throw new Exit(125, `docker: invalid IP address: ${parts.slice(0, parts.length - 2).join(':')}\n\nRun 'docker run --help' for more information\n`);
  const bad = (what, v) => new Exit(125, `docker: invalid ${what}: ${v}\n\nRun 'docker run --help' for more information\n`);
  if (!/^\d+$/.test(cont) || Number(cont) < 1 || Number(cont) > 65535) throw bad('containerPort', cont);
  if (host !== '' && (!/^\d+$/.test(host) || Number(host) < 1 || Number(host) > 65535)) throw bad('hostPort', host);
  if (ip !== '' && !/^[0-9.]+$|^\[?[0-9a-f:]+\]?$|^localhost$/i.test(ip)) throw new Exit(125, `docker: invalid IP address: ${ip}\n\nRun 'docker run --help' for more information\n`);
  return { hostIp: ip, hostPort: host, containerPort: cont, proto };
}

export function parseVolume(spec) {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
    throw new Exit(125, `docker: Error response from daemon: invalid volume specification: '${spec}'\n\nRun 'docker run --help' for more information\n`);
  }
  const [src, dst, mode = ''] = parts;
  const bind = src.startsWith('/') || src.startsWith('.') || src.startsWith('~');
  return {
    Type: bind ? 'bind' : 'volume',
    Name: bind ? undefined : src,
    Source: bind ? src : `/var/lib/docker/volumes/${src}/_data`,
    Destination: dst,
    Mode: mode,
    RW: !mode.split(',').includes('ro'),
    Propagation: bind ? 'rprivate' : '',
    Driver: bind ? undefined : 'local',
  };
}

export const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

function ipOverlap(a, b) {
  const any = (x) => x === '' || x === '0.0.0.0' || x === '::';
  return any(a) || any(b) || a === b;
}

/** Try to start: port conflicts leave the container Created (like the real engine). */
export function startContainer(state, ct, env) {
  if (ct.State.Running) return null;
  for (const p of ct.ports) {
    if (!p.hostPort) continue;
    const other = state.containers.find(
      (o) => o !== ct && o.State.Running && o.ports.some((q) => q.hostPort === p.hostPort && q.proto === p.proto && ipOverlap(q.hostIp, p.hostIp)),
    );
    if (other) {
      return `failed to set up container networking: driver failed programming external connectivity on endpoint ${ct.Name.slice(1)} (${ct.Id}): Bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`;
    }
  }
  const now = new Date().toISOString();
  for (const p of ct.ports) {
    if (p.hostPort) continue;
    const used = new Set(state.containers.flatMap((o) => o.ports.map((q) => Number(q.hostPort))));
    let port = 32768;
    while (used.has(port)) port++;
    p.hostPort = String(port);
    p.ephemeral = true;
  }
  ct.State = {
    ...ct.State,
    Status: 'running',
    Running: true,
    Pid: 10000 + Math.floor(Math.random() * 50000),
    ExitCode: 0,
    StartedAt: now,
    FinishedAt: ZERO_TIME,
  };
  if (isGatewayImage(ct.Config.Image)) ct.State.Health = { Status: 'healthy', FailingStreak: 0, Log: [] };
  const tag = tagOf(ct.Config.Image);
  let gatewayError = null;
  if (isGatewayImage(ct.Config.Image)) {
    // The gateway reads its TOML config and refuses what it cannot run with (gw-image.mjs).
    const rt = gatewayRuntime(ct, ct.Config.Image);
    ct.logs.push({ s: 'stdout', l: `INFO openshell_server: starting OpenShell gateway version=${tag}` });
    if (rt.configPath) ct.logs.push({ s: 'stdout', l: `INFO openshell_server: loaded config from ${(ct.Config.Env.find((e) => e.startsWith('OPENSHELL_GATEWAY_CONFIG=')) ?? '=').split('=')[1]}` });
    gatewayError = rt.startError;
    if (!gatewayError) ct.logs.push({ s: 'stdout', l: `INFO openshell_server: listening on 0.0.0.0:${rt.listenPort}` });
  }
  const exitList = env.FAKE_DOCKER_EXIT_ON_START;
  if (gatewayError) {
    ct.State = { ...ct.State, Status: 'exited', Running: false, Pid: 0, ExitCode: 1, FinishedAt: new Date().toISOString() };
    if (ct.State.Health) ct.State.Health = { ...ct.State.Health, Status: 'unhealthy' };
    for (const p of ct.ports) if (p.ephemeral) p.hostPort = '';
    ct.logs.push({ s: 'stderr', l: gatewayError });
  } else if (exitList && (exitList === '1' || exitList.split(',').map((s) => s.trim()).includes(ct.Name.slice(1)))) {
    ct.State = { ...ct.State, Status: 'exited', Running: false, Pid: 0, ExitCode: 1, FinishedAt: new Date().toISOString() };
    if (ct.State.Health) ct.State.Health = { ...ct.State.Health, Status: 'unhealthy' };
    for (const p of ct.ports) if (p.ephemeral) p.hostPort = '';
    ct.logs.push({ s: 'stderr', l: 'Error: fake container exited right after start (FAKE_DOCKER_EXIT_ON_START)' });
  }
  return null;
}

export function stopContainer(ct, code = 0) {
  if (!ct.State.Running) return;
  ct.State = { ...ct.State, Status: 'exited', Running: false, Pid: 0, ExitCode: code, FinishedAt: new Date().toISOString() };
  if (ct.State.Health) ct.State.Health = { ...ct.State.Health, Status: 'unhealthy' };
}

export function newVolume(name, labels) {
  return { Name: name, Driver: 'local', Labels: Object.keys(labels).length ? labels : null, Mountpoint: `/var/lib/docker/volumes/${name}/_data`, CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Options: null };
}
