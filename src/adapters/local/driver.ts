import { closeSync, existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { bundledWorkerFile } from '../assets.js';
import type { Logger } from '../../core/context.js';
import { LogosError } from '../../core/errors.js';
import type { CredentialSource } from '../../core/ports.js';
import { getProvider } from '../../core/providers.js';
import type { RouteRecord } from '../../core/routes.js';
import { failedExec, outcomeOf, type ExecOutcome, type ExecRequest, type RunningExec, type SandboxDriver, type SandboxRecord, type SandboxStatus } from '../../core/sandboxes.js';
import { spawnProcess } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';
import { bwrapInvocation } from './bwrap-args.js';
import { startInferenceProxy } from './inference-proxy.js';
import { copyHandle, openHostFile, writeHostFile } from '../host-files.js';
import { openFileInside, readTailInside, writeInside } from './safe-fs.js';

/** The worker log, relative to the sandbox directory (see IN_SANDBOX.workerLog). */
const WORKER_LOG_RELATIVE = '.logos/worker.jsonl';
/** `sandbox logs` reads at most this much of the end of the worker log. */
const LOG_TAIL_BYTES = 1024 * 1024;

/**
 * The embedded default: a sandbox is a directory; each task runs the worker
 * under bubblewrap with no network, reaching the model only through the
 * host-side inference proxy on a Unix socket bound into the sandbox.
 */

export interface LocalDriverOptions {
  dataDir: string;
  runtimeDir: string;
  bwrap: string;
  nodePath: string;
  credentials: CredentialSource;
  logger: Logger;
  pathEnv?: string;
  /** Override the worker bundle location (default: dist/worker/logos-worker.mjs next to this build). */
  workerFile?: string;
  /** Whether a host process is still running (to recognise proxy sockets left by a killed host). */
  pidAlive: (pid: number) => boolean;
}

export function defaultWorkerFile(): string {
  return bundledWorkerFile();
}

export const BWRAP_INSTALL_HINT =
  'Install bubblewrap: `sudo apt-get install bubblewrap` (Debian/Ubuntu), `sudo dnf install bubblewrap` (Fedora) or `sudo pacman -S bubblewrap` (Arch). Logos never runs tasks unsandboxed.';

export class LocalDriver implements SandboxDriver {
  readonly kind = 'local' as const;
  /** The proxy socket is bound in; the host name is only for the request line. */
  readonly inferenceBaseUrl = 'http://inference.local/v1';

  constructor(private readonly opts: LocalDriverOptions) {}

  private sandboxesRoot(): string {
    return join(this.opts.dataDir, 'sandboxes');
  }

  private bwrapPath(): string {
    const p = findExecutable(this.opts.bwrap, this.opts.pathEnv);
    if (!p) {
      throw new LogosError('BWRAP_MISSING', `bubblewrap (${this.opts.bwrap}) is not installed or not on PATH; the local sandbox driver needs it.`, {
        hint: BWRAP_INSTALL_HINT,
      });
    }
    return p;
  }

  async preflight(): Promise<void> {
    this.bwrapPath();
  }

  async create(rec: SandboxRecord): Promise<SandboxRecord> {
    const dir = join(this.sandboxesRoot(), rec.name);
    const workdir = join(dir, 'workdir');
    await mkdir(join(workdir, '.logos'), { recursive: true, mode: 0o700 });
    return { ...rec, dir: workdir };
  }

  private ownDir(rec: SandboxRecord): string | undefined {
    if (!rec.dir) return undefined;
    const root = resolve(this.sandboxesRoot()) + sep;
    const parent = resolve(rec.dir, '..');
    // Only ever delete inside our own sandboxes directory.
    return parent.startsWith(root) ? parent : undefined;
  }

  async remove(rec: SandboxRecord): Promise<void> {
    const dir = this.ownDir(rec);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  async status(rec: SandboxRecord): Promise<SandboxStatus> {
    if (!rec.dir) return { phase: 'Error', detail: 'record has no directory' };
    try {
      const st = await stat(rec.dir);
      if (!st.isDirectory()) return { phase: 'Error', detail: `${rec.dir} is not a directory` };
    } catch {
      return { phase: 'Missing', detail: `${rec.dir} does not exist` };
    }
    if (!findExecutable(this.opts.bwrap, this.opts.pathEnv)) return { phase: 'Error', detail: 'bubblewrap is not installed' };
    return { phase: 'Ready' };
  }

  /**
   * The worker's log lives in the sandbox directory, which the sandbox controls:
   * read it without following links, without blocking, and at most the last MiB.
   */
  async logs(rec: SandboxRecord, lines: number): Promise<string[]> {
    if (!rec.dir) return [];
    const tail = readTailInside(rec.dir, WORKER_LOG_RELATIVE, LOG_TAIL_BYTES);
    if (!tail) return [];
    const all = tail.text.split('\n');
    if (tail.cut) all.shift(); // the first line was cut by the byte limit
    return all.filter((l) => l.trim() !== '').slice(-lines);
  }

  /** The sandbox directory, for copying files (bubblewrap is not needed for that). */
  private async readyDir(rec: SandboxRecord): Promise<string> {
    const isDir = rec.dir ? await stat(rec.dir).then((s) => s.isDirectory(), () => false) : false;
    if (!rec.dir || !isDir) {
      throw new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${rec.name}' has no directory${rec.dir ? ` at ${rec.dir}` : ''}.`, {
        hint: `Recreate it: \`logos sandbox delete ${rec.name} && logos sandbox create ${rec.name} --route ${rec.route}\`.`,
      });
    }
    return rec.dir;
  }

  /** Into the sandbox directory, never through a link the sandbox planted (see safe-fs.ts). */
  async putFile(rec: SandboxRecord, localFile: string, rel: string): Promise<{ bytes: number }> {
    const dir = await this.readyDir(rec);
    const src = await openHostFile(localFile);
    try {
      return { bytes: await writeInside(dir, rel, (fh) => copyHandle(src.fh, fh)) };
    } finally {
      await src.fh.close();
    }
  }

  /** Out of the sandbox directory: a regular file reached without following links, at most maxBytes. */
  async getFile(rec: SandboxRecord, rel: string, localFile: string, maxBytes: number): Promise<{ bytes: number }> {
    const dir = await this.readyDir(rec);
    const tooLarge = (): LogosError =>
      new LogosError('INVALID_ARGUMENT', `'/sandbox/${rel}' is larger than ${Math.round(maxBytes / 1048576)} MiB, the most \`sandbox get\` copies; nothing was written.`, {
        hint: `Compress or split it in the sandbox first (e.g. \`logos run --sandbox ${rec.name} "gzip ${rel}"\`).`,
        details: { limit: maxBytes },
      });
    const { fd, size } = openFileInside(dir, rel, rec.name);
    if (size > maxBytes) {
      closeSync(fd);
      throw tooLarge();
    }
    // The descriptor was opened without following links; read it through its /proc entry as a handle.
    let fh;
    try {
      fh = await open(`/proc/self/fd/${fd}`, 'r');
    } finally {
      closeSync(fd);
    }
    try {
      const src = fh;
      // The file may grow after the size check: the copy stops past maxBytes all the same.
      return { bytes: await writeHostFile(localFile, (out) => copyHandle(src, out, maxBytes, tooLarge)) };
    } finally {
      await fh.close();
    }
  }

  /**
   * The proxy socket of one task. Its name carries the host pid, so sockets left
   * by a host that was killed (kill -9: no cleanup ran) are recognised and removed.
   */
  private async socketPath(taskId: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
    const name = `proxy-${process.pid}-${taskId}.sock`;
    const preferred = join(this.opts.runtimeDir, name);
    // Unix socket paths are limited to ~107 bytes; fall back to a short private temp dir.
    if (Buffer.byteLength(preferred) < 100) {
      await mkdir(this.opts.runtimeDir, { recursive: true, mode: 0o700 });
      await this.sweepStaleSockets();
      return { path: preferred, cleanup: async () => {} };
    }
    const dir = await mkdtemp(join(tmpdir(), 'logos-'));
    return { path: join(dir, name), cleanup: () => rm(dir, { recursive: true, force: true }) };
  }

  /** Remove proxy sockets whose host process is gone. */
  private async sweepStaleSockets(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.opts.runtimeDir);
    } catch {
      return;
    }
    for (const n of names) {
      const m = /^proxy-(\d+)-.*\.sock$/.exec(n) ?? /^proxy-(t_[a-z0-9]+)\.sock$/.exec(n);
      if (!m) continue;
      // Sockets named without a pid (older versions) can only be stale leftovers by now.
      const pid = Number(m[1]);
      if (!Number.isInteger(pid) || !this.opts.pidAlive(pid)) await unlink(join(this.opts.runtimeDir, n)).catch(() => {});
    }
  }

  async exec(rec: SandboxRecord, route: RouteRecord, req: ExecRequest): Promise<RunningExec> {
    const failed = failedExec;
    let bwrap: string;
    try {
      bwrap = this.bwrapPath();
    } catch (err) {
      return failed(err as LogosError);
    }
    const st = await this.status(rec);
    if (st.phase !== 'Ready') {
      return failed(
        new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${rec.name}' is not ready (${st.phase}${st.detail ? `: ${st.detail}` : ''}).`, {
          hint: `Recreate it: \`logos sandbox delete ${rec.name} && logos sandbox create ${rec.name} --route ${rec.route}\`.`,
        }),
      );
    }
    const workerFile = this.opts.workerFile ?? defaultWorkerFile();
    if (!existsSync(workerFile)) {
      return failed(new LogosError('INTERNAL', `The worker bundle is missing (${workerFile}).`, { hint: 'Build Logos first: `npm run build`.' }));
    }
    const provider = getProvider(route.provider);
    let apiKey: string | undefined;
    try {
      apiKey = (await this.opts.credentials.get(provider.id, provider.keyEnv))?.value;
    } catch (err) {
      return failed(err as LogosError);
    }
    if (!apiKey && provider.needsKey) {
      return failed(
        new LogosError('NO_CREDENTIAL', `No key for ${provider.label}.`, {
          hint: `Store one with \`logos creds set ${provider.id}\` (it reads the key from stdin or a hidden prompt)${provider.keyEnv ? `, or set ${provider.keyEnv}` : ''}.`,
        }),
      );
    }
    const taskId = (JSON.parse(req.taskJson) as { task_id: string }).task_id;
    const sock = await this.socketPath(taskId);
    const log = this.opts.logger.child({ sandbox: rec.name, route: route.name, task_id: taskId });
    const proxyOpts = { socketPath: sock.path, upstream: route.endpoint, api: route.api, model: route.model, logger: log };
    const proxy = await startInferenceProxy(apiKey ? { ...proxyOpts, apiKey } : proxyOpts);
    const invocation = bwrapInvocation({
      workdir: rec.dir as string,
      workerFile: realpathSync(workerFile),
      nodePath: realpathSync(this.opts.nodePath),
      socketPath: sock.path,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
    });
    const proc = spawnProcess(bwrap, invocation.argv, {
      input: req.taskJson,
      inputFds: invocation.fds,
      // bwrap itself gets a minimal environment; --clearenv keeps even that out of the sandbox.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' },
      extendEnv: false,
      timeoutMs: req.timeoutMs,
      ...(req.signal ? { signal: req.signal } : {}),
      killGraceMs: 1000,
      logger: log,
      onStdoutLine: req.onStdoutLine,
      onOversizedLine: req.onOversizedLine,
      onStderrLine: req.onStderrLine,
      ...(req.onStdoutEnd ? { onStdoutEnd: req.onStdoutEnd } : {}),
    });
    let proxyClosed: Promise<void> | undefined;
    const closeProxy = (): Promise<void> => (proxyClosed ??= proxy.close().catch(() => {}));
    const outcome = proc.result.then(async (r): Promise<ExecOutcome> => {
      await closeProxy();
      await sock.cleanup().catch(() => {});
      const out = outcomeOf(r);
      if (r.notFound) out.startError = new LogosError('BWRAP_MISSING', `bubblewrap could not be started (${bwrap}).`, { hint: BWRAP_INSTALL_HINT });
      else if (r.spawnError) out.startError = new LogosError('BWRAP_FAILED', `bubblewrap could not be started: ${r.spawnError}`, { hint: BWRAP_INSTALL_HINT });
      else if (r.exitCode === 1 && /^bwrap: /m.test(r.stderrTail) && !r.timedOut && !r.cancelled) {
        const msg = /^bwrap: (.*)$/m.exec(r.stderrTail)?.[1] ?? 'setup failed';
        out.startError = new LogosError('BWRAP_FAILED', `bubblewrap could not set up the sandbox: ${msg}`, {
          hint: 'bubblewrap needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04+ an AppArmor profile allowing bwrap).',
        });
      }
      return out;
    });
    return {
      outcome,
      kill: proc.kill,
      pauseOutput: proc.pauseStdout,
      resumeOutput: proc.resumeStdout,
      resultReceived: () => {
        void closeProxy();
      },
    };
  }
}
