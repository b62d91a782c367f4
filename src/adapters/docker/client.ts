import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../core/context.js';
import { LogosError } from '../../core/errors.js';
import type { ContainerInfo, ContainerSpec, Docker } from '../../core/gateways.js';
import type { ImageDocker, ImageInfo } from '../../core/images.js';
import { runProcess, spawnProcess, type RunResult } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';

/**
 * docker over its CLI (a local gateway is a container). Reads always run;
 * with `dryRun`, changes are reported instead of made.
 */

export interface DockerClientOptions {
  binary: string;
  logger: Logger;
  pathEnv?: string;
  /** When set, mutating commands are passed here (argv) instead of being run. */
  dryRun?: (argv: string[]) => void;
  socketPath?: string;
}

export const DOCKER_INSTALL_HINT = 'Install Docker (docker.io or Docker Engine) so that `docker` is on PATH, or set binaries.docker in config.json.';
const NO_DAEMON_RE = /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|docker daemon is not running/i;

export class DockerClient implements Docker, ImageDocker {
  constructor(private readonly opts: DockerClientOptions) {}

  private bin(): string {
    const p = findExecutable(this.opts.binary, this.opts.pathEnv);
    if (!p) throw new LogosError('DOCKER_MISSING', `docker (${this.opts.binary}) is not installed or not on PATH.`, { hint: DOCKER_INSTALL_HINT });
    return p;
  }

  private async call(args: string[], timeoutMs = 120_000): Promise<RunResult> {
    const res = await runProcess(this.bin(), args, { timeoutMs, logger: this.opts.logger.child({ source: 'docker' }) });
    if (res.notFound) throw new LogosError('DOCKER_MISSING', `docker (${this.opts.binary}) could not be started.`, { hint: DOCKER_INSTALL_HINT });
    if (res.exitCode !== 0 && NO_DAEMON_RE.test(res.stderr)) {
      throw new LogosError('DOCKER_NOT_RUNNING', 'The Docker engine is not running (docker cannot reach its daemon).', {
        hint: 'Start it (`sudo systemctl start docker`, or Docker Desktop) and check with `docker info`. A remote gateway needs no docker here: `logos gateway add <endpoint> --name <n>`.',
      });
    }
    return res;
  }

  private fail(res: RunResult, action: string): LogosError {
    const msg = res.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${res.exitCode}`;
    return new LogosError('DOCKER_FAILED', `docker failed to ${action}: ${msg}`, { details: { exit_code: res.exitCode } });
  }

  private mutate(args: string[]): boolean {
    if (!this.opts.dryRun) return false;
    this.opts.dryRun([this.opts.binary, ...args]);
    return true;
  }

  async engineVersion(): Promise<string> {
    const res = await this.call(['version', '--format', '{{.Server.Version}}'], 20_000);
    if (res.exitCode !== 0) throw this.fail(res, 'reach the engine');
    return res.stdout.trim();
  }

  async inspect(name: string): Promise<ContainerInfo | undefined> {
    const res = await this.call(['inspect', '--type', 'container', name], 20_000);
    if (res.exitCode !== 0) {
      if (/No such (object|container)/i.test(res.stderr)) return undefined;
      throw this.fail(res, `inspect ${name}`);
    }
    const arr = JSON.parse(res.stdout) as Array<{
      Name?: string;
      State?: { Running?: boolean; Status?: string; ExitCode?: number; Health?: { Status?: string } };
      Config?: { Image?: string; Labels?: Record<string, string> };
      NetworkSettings?: { Ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> };
    }>;
    const c = arr[0];
    if (!c) return undefined;
    const ports: ContainerInfo['ports'] = [];
    for (const [cport, binds] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
      for (const b of binds ?? []) ports.push({ hostIp: b.HostIp ?? '', hostPort: Number(b.HostPort), containerPort: Number.parseInt(cport, 10) });
    }
    const info: ContainerInfo = {
      name: (c.Name ?? name).replace(/^\//, ''),
      running: !!c.State?.Running,
      status: c.State?.Status ?? 'unknown',
      exitCode: c.State?.ExitCode ?? 0,
      image: c.Config?.Image ?? '',
      labels: c.Config?.Labels ?? {},
      ports,
    };
    if (c.State?.Health?.Status) info.health = c.State.Health.Status;
    return info;
  }

  async publishedPorts(): Promise<number[]> {
    const res = await this.call(['ps', '--format', '{{json .}}'], 20_000);
    if (res.exitCode !== 0) throw this.fail(res, 'list containers');
    const ports: number[] = [];
    for (const line of res.stdout.split('\n')) {
      if (!line.trim()) continue;
      try {
        const row = JSON.parse(line) as { Ports?: string };
        for (const m of (row.Ports ?? '').matchAll(/:(\d+)->/g)) ports.push(Number(m[1]));
      } catch {
        // skip lines that are not JSON
      }
    }
    return ports;
  }

  async listByLabel(label: string): Promise<Array<{ name: string; state: string; image: string }>> {
    const res = await this.call(['ps', '-a', '--filter', `label=${label}`, '--format', '{{json .}}'], 20_000);
    if (res.exitCode !== 0) throw this.fail(res, 'list containers');
    return res.stdout
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          const r = JSON.parse(l) as { Names?: string; State?: string; Image?: string };
          return [{ name: r.Names ?? '', state: r.State ?? '', image: r.Image ?? '' }];
        } catch {
          return [];
        }
      });
  }

  async imagePresent(image: string): Promise<boolean> {
    const res = await this.call(['image', 'inspect', image], 20_000);
    return res.exitCode === 0;
  }

  async pull(image: string, onLine?: (line: string) => void): Promise<void> {
    if (this.mutate(['pull', image])) return;
    const proc = spawnProcess(this.bin(), ['pull', image], {
      timeoutMs: 30 * 60_000,
      logger: this.opts.logger.child({ source: 'docker' }),
      onStdoutLine: (l) => onLine?.(l),
      onStderrLine: () => {},
    });
    const res = await proc.result;
    if (res.exitCode !== 0) {
      if (NO_DAEMON_RE.test(res.stderrTail)) await this.engineVersion();
      throw new LogosError('DOCKER_FAILED', `docker could not pull ${image}: ${res.stderrTail.trim().split('\n').pop() ?? ''}`, {
        hint: 'Check the network and that the image exists: OpenShell images are on ghcr.io/nvidia/openshell up to 0.1.9 and on quay.io/ai-openshell from 0.1.10, tagged with the CLI version (`openshell -V`).',
      });
    }
  }

  async run(spec: ContainerSpec): Promise<void> {
    const args = ['run', '-d', '--name', spec.name];
    if (spec.restart) args.push('--restart', spec.restart);
    if (spec.user) args.push('--user', spec.user);
    for (const p of spec.ports) args.push('-p', `${p.hostIp}:${p.hostPort}:${p.containerPort}`);
    for (const v of spec.volumes) args.push('-v', `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
    for (const h of spec.addHosts ?? []) args.push('--add-host', h);
    for (const g of spec.groupAdd ?? []) args.push('--group-add', g);
    for (const [k, v] of Object.entries(spec.env)) args.push('-e', `${k}=${v}`);
    for (const [k, v] of Object.entries(spec.labels)) args.push('--label', `${k}=${v}`);
    args.push(spec.image, ...(spec.args ?? []));
    if (this.mutate(args)) return;
    const res = await this.call(args);
    if (res.exitCode !== 0) {
      if (/port is already allocated|address already in use/i.test(res.stderr)) {
        throw new LogosError('PORT_IN_USE', `Port ${spec.ports[0]?.hostPort} is already in use.`, { hint: 'Pick another with --port, or free it.' });
      }
      if (/already in use by container/i.test(res.stderr)) {
        throw new LogosError('ALREADY_EXISTS', `A container named '${spec.name}' already exists.`, { hint: `Remove it with \`docker rm -f ${spec.name}\` or run \`logos gateway down\`.` });
      }
      throw this.fail(res, `start ${spec.name}`);
    }
  }

  async remove(name: string): Promise<'removed' | 'missing'> {
    if (this.mutate(['rm', '-f', name])) return 'removed';
    const res = await this.call(['rm', '-f', name]);
    if (res.exitCode === 0) return 'removed';
    if (/No such container/i.test(res.stderr)) return 'missing';
    throw this.fail(res, `remove ${name}`);
  }

  async volumeCreate(name: string): Promise<void> {
    if (this.mutate(['volume', 'create', name])) return;
    const res = await this.call(['volume', 'create', name]);
    if (res.exitCode !== 0) throw this.fail(res, `create volume ${name}`);
  }

  /** Copy one file out of an image: docker create, docker cp, docker rm; then chmod +x. */
  async extractFile(image: string, pathInImage: string, hostPath: string): Promise<void> {
    const tmp = `logos-extract-${process.pid}-${Date.now().toString(36)}`;
    const steps = [
      ['create', '--name', tmp, image],
      ['cp', `${tmp}:${pathInImage}`, hostPath],
      ['rm', tmp],
    ];
    if (this.opts.dryRun) {
      for (const s of steps) this.mutate(s);
      return;
    }
    mkdirSync(dirname(hostPath), { recursive: true });
    const created = await this.call(steps[0] as string[], 10 * 60_000);
    if (created.exitCode !== 0) throw this.fail(created, `create a container from ${image}`);
    try {
      const cp = await this.call(steps[1] as string[]);
      if (cp.exitCode !== 0) throw this.fail(cp, `copy ${pathInImage} out of ${image}`);
    } finally {
      await this.call(steps[2] as string[]).catch(() => undefined);
    }
    chmodSync(hostPath, 0o755);
  }

  async rootDir(): Promise<string | undefined> {
    // A docker engine on another machine keeps its images there: nothing to measure here.
    const host = process.env.DOCKER_HOST ?? '';
    if (host && !host.startsWith('unix://')) return undefined;
    const res = await this.call(['info', '--format', '{{.DockerRootDir}}'], 20_000);
    const dir = res.stdout.trim();
    return res.exitCode === 0 && dir.startsWith('/') ? dir : undefined;
  }

  /** A streaming docker command (build, push, pull); lines go to onLine, the tail into the error. */
  private async stream(args: string[], action: string, onLine?: (line: string) => void, timeoutMs = 60 * 60_000): Promise<RunResult> {
    if (this.mutate(args)) return { argv: args, exitCode: 0, signal: null, stdout: '', stderr: '', stderrTail: '', durationMs: 0, timedOut: false, cancelled: false, notFound: false };
    const proc = spawnProcess(this.bin(), args, {
      timeoutMs,
      logger: this.opts.logger.child({ source: 'docker' }),
      onStdoutLine: (l) => onLine?.(l),
      onStderrLine: (l) => onLine?.(l),
    });
    const res = await proc.result;
    if (res.notFound) throw new LogosError('DOCKER_MISSING', `docker (${this.opts.binary}) could not be started.`, { hint: DOCKER_INSTALL_HINT });
    if (res.exitCode !== 0) {
      if (NO_DAEMON_RE.test(res.stderrTail)) await this.engineVersion();
      const tail = res.stderrTail.trim().split('\n').slice(-3).join(' ');
      throw new LogosError('DOCKER_FAILED', `docker could not ${action}${res.timedOut ? ' in time' : ''}: ${tail || `exit code ${res.exitCode}`}`, { details: { exit_code: res.exitCode } });
    }
    return res;
  }

  async build(opts: { tag: string; dockerfile: string; context: string; onLine?: (line: string) => void }): Promise<void> {
    await this.stream(['build', '--progress', 'plain', '-t', opts.tag, '-f', opts.dockerfile, opts.context], `build ${opts.tag}`, opts.onLine);
  }

  async imageInfo(ref: string): Promise<ImageInfo | undefined> {
    const res = await this.call(['image', 'inspect', ref], 20_000);
    if (res.exitCode !== 0) {
      if (/No such image/i.test(res.stderr)) return undefined;
      throw this.fail(res, `inspect ${ref}`);
    }
    const [im] = JSON.parse(res.stdout) as Array<{ Id?: string; RepoDigests?: string[]; Size?: number; Created?: string }>;
    return im ? { id: im.Id ?? '', repoDigests: im.RepoDigests ?? [], size: im.Size ?? 0, created: im.Created ?? '' } : undefined;
  }

  async tag(source: string, target: string): Promise<void> {
    if (this.mutate(['tag', source, target])) return;
    const res = await this.call(['tag', source, target]);
    if (res.exitCode !== 0) throw this.fail(res, `tag ${source} as ${target}`);
  }

  async push(ref: string, onLine?: (line: string) => void): Promise<string | undefined> {
    let digest: string | undefined;
    await this.stream(['push', ref], `push ${ref}`, (l) => {
      const m = /digest: (sha256:[0-9a-f]{64})/.exec(l);
      if (m) digest = m[1];
      onLine?.(l);
    });
    return digest;
  }

  async listImages(reference: string): Promise<Array<{ ref: string; id: string; size: string; created: string }>> {
    const res = await this.call(['image', 'ls', '--filter', `reference=${reference}`, '--format', '{{json .}}'], 20_000);
    if (res.exitCode !== 0) throw this.fail(res, 'list images');
    return res.stdout
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          const r = JSON.parse(l) as { Repository?: string; Tag?: string; ID?: string; Size?: string; CreatedSince?: string };
          return [{ ref: `${r.Repository ?? ''}:${r.Tag ?? ''}`, id: r.ID ?? '', size: r.Size ?? '', created: r.CreatedSince ?? '' }];
        } catch {
          return [];
        }
      });
  }

  async logsTail(name: string, lines: number): Promise<string> {
    const res = await this.call(['logs', '--tail', String(lines), name], 20_000);
    return `${res.stdout}${res.stderr}`.trim();
  }

  socketGroup(): string | undefined {
    try {
      return String(statSync(this.opts.socketPath ?? '/var/run/docker.sock').gid);
    } catch {
      return undefined;
    }
  }
}
