import { closeSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { bundledWorkerFile } from '../assets.js';
import type { Logger } from '../../core/context.js';
import { LogosError } from '../../core/errors.js';
import type { CredentialSource } from '../../core/ports.js';
import { getProvider } from '../../core/providers.js';
import type { RouteRecord } from '../../core/routes.js';
import {
  failedExec,
  outcomeOf,
  type ExecOutcome,
  type ExecRequest,
  type OutputHandlers,
  type RunningExec,
  type SandboxDriver,
  type SandboxRecord,
  type SandboxStatus,
  type WarmOptions,
  type WarmStart,
} from '../../core/sandboxes.js';
import { adoptProcess, childEnv, spawnProcess, type RunningProcess, type StreamOptions } from '../exec/runner.js';
import { discardPrestarted, samePrestart, takePrestarted, TASK_DIR_MARK, writePlan } from './prestart.js';
import { findExecutable } from '../exec/which.js';
import { bwrapInvocation, localtimeTarget, SOCKET_NAME } from './bwrap-args.js';
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
   * The directory of one task's proxy socket, mounted read-only at /run/logos in its
   * sandbox. Its name carries the host pid, so directories left by a host that was killed
   * (kill -9: no cleanup ran) are recognised and removed.
   */
  private taskDir(taskId: string): { dir: string; cleanup: () => Promise<void> } {
    const preferred = join(this.opts.runtimeDir, `task-${process.pid}-${taskId}`);
    const cleanup = (dir: string) => () => rm(dir, { recursive: true, force: true });
    // Unix socket paths are limited to ~107 bytes; fall back to a short private temp dir.
    if (Buffer.byteLength(join(preferred, SOCKET_NAME)) < 100) {
      mkdirSync(this.opts.runtimeDir, { recursive: true, mode: 0o700 });
      this.sweepStale();
      mkdirSync(preferred, { mode: 0o700 });
      return { dir: preferred, cleanup: cleanup(preferred) };
    }
    const dir = mkdtempSync(join(tmpdir(), 'logos-'));
    return { dir, cleanup: cleanup(dir) };
  }

  /** Remove task directories (and sockets of older versions) whose host process is gone. */
  private sweepStale(): void {
    let names: string[];
    try {
      names = readdirSync(this.opts.runtimeDir);
    } catch {
      return;
    }
    for (const n of names) {
      const m = /^task-(\d+)-/.exec(n) ?? /^proxy-(\d+)-.*\.sock$/.exec(n) ?? /^proxy-(t_[a-z0-9]+)\.sock$/.exec(n);
      if (!m) continue;
      // Sockets named without a pid (older versions) can only be stale leftovers by now.
      const pid = Number(m[1]);
      if (!Number.isInteger(pid) || !this.opts.pidAlive(pid)) rmSync(join(this.opts.runtimeDir, n), { recursive: true, force: true });
    }
  }

  /** What starting a worker needs, or why it cannot start. */
  private async startable(rec: SandboxRecord): Promise<{ bwrap: string; workerFile: string } | LogosError> {
    let bwrap: string;
    try {
      bwrap = this.bwrapPath();
    } catch (err) {
      return err as LogosError;
    }
    const st = await this.status(rec);
    if (st.phase !== 'Ready') {
      return new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${rec.name}' is not ready (${st.phase}${st.detail ? `: ${st.detail}` : ''}).`, {
        hint: `Recreate it: \`logos sandbox delete ${rec.name} && logos sandbox create ${rec.name} --route ${rec.route}\`.`,
      });
    }
    const workerFile = this.opts.workerFile ?? defaultWorkerFile();
    if (!existsSync(workerFile)) return new LogosError('INTERNAL', `The worker bundle is missing (${workerFile}).`, { hint: 'Build Logos first: `npm run build`.' });
    return { bwrap, workerFile };
  }

  /**
   * Start bubblewrap and the worker, which waits for its task on stdin: the task, the
   * proxy and the output handlers come with exec. Output before that is held (a worker
   * prints nothing before its task; a little is kept, the rest dropped).
   */
  private startWorker(rec: SandboxRecord, route: RouteRecord, bwrap: string, workerFile: string, opts: WarmOptions): LocalWarm {
    const log = this.opts.logger.child({ sandbox: rec.name, route: route.name, task_id: opts.taskId });
    const spec = {
      workdir: rec.dir as string,
      workerFile: realpathSync(workerFile),
      nodePath: realpathSync(this.opts.nodePath),
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      localtime: localtimeTarget(readlinkSync),
    };
    // bwrap itself gets a minimal environment; --clearenv keeps even that out of the sandbox.
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
    const text = (fds: Uint8Array[]): string[] => fds.map((f) => Buffer.from(f).toString('utf8'));
    const procOpts = (warm: LocalWarm, fds: Uint8Array[]): StreamOptions => ({
      deferInput: true,
      inputFds: fds,
      env,
      extendEnv: false,
      timeoutMs: opts.timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
      killGraceMs: 1000,
      logger: log,
      // Straight to exec's handlers once attached (every frame passes here); held until then.
      onStdoutLine: (line) => (warm.handlers ? warm.handlers.onStdoutLine(line) : warm.hold(['line', line])),
      onOversizedLine: (bytes) => (warm.handlers ? warm.handlers.onOversizedLine(bytes) : warm.hold(['oversized', bytes])),
      onStderrLine: (line) => (warm.handlers ? warm.handlers.onStderrLine(line) : warm.hold(['stderr', line])),
      onStdoutEnd: () => (warm.handlers ? warm.handlers.onStdoutEnd?.() : warm.hold(['end'])),
    });

    let warm: LocalWarm | undefined;
    let adopted = false;
    // The launcher may have started this very sandbox already (local/prestart.ts): taken only when identical.
    const pre = takePrestarted();
    if (pre) {
      const invocation = bwrapInvocation({ ...spec, socketDir: pre.dir });
      if (pre.dir.startsWith(this.opts.runtimeDir + sep) && samePrestart(pre, { file: bwrap, args: invocation.argv, env: childEnv({ env }), fds: text(invocation.fds) })) {
        this.sweepStale();
        warm = new LocalWarm(this, bwrap, pre.dir, () => rm(pre.dir, { recursive: true, force: true }));
        warm.proc = adoptProcess(pre, bwrap, invocation.argv, procOpts(warm, invocation.fds));
        adopted = true;
        log.debug('sandbox started early', { child_pid: pre.child.pid });
      } else {
        discardPrestarted(pre);
        log.debug('sandbox started early not taken: it is not the one this run starts', { child_pid: pre.child.pid });
      }
    }
    if (!warm) {
      const task = this.taskDir(opts.taskId);
      const invocation = bwrapInvocation({ ...spec, socketDir: task.dir });
      warm = new LocalWarm(this, bwrap, task.dir, task.cleanup);
      warm.proc = spawnProcess(bwrap, invocation.argv, procOpts(warm, invocation.fds));
    }
    // How this start goes, for the next `logos run` with the same choice of sandbox (one taken
    // early came from that very plan, so it stands as it is).
    if (opts.plan !== undefined && !adopted) {
      const planned = bwrapInvocation({ ...spec, socketDir: TASK_DIR_MARK });
      writePlan(this.opts.runtimeDir, { v: 1, selector: opts.plan, file: bwrap, args: planned.argv, env, fds: text(planned.fds) });
    }
    return warm;
  }

  async warm(rec: SandboxRecord, route: RouteRecord, opts: WarmOptions): Promise<WarmStart | undefined> {
    const ready = await this.startable(rec);
    if (ready instanceof LogosError) return undefined;
    return this.startWorker(rec, route, ready.bwrap, ready.workerFile, opts);
  }

  async exec(rec: SandboxRecord, route: RouteRecord, req: ExecRequest): Promise<RunningExec> {
    const taskId = req.taskId;
    let warm = req.warm instanceof LocalWarm && req.warm.driver === this && !req.warm.taken ? req.warm : undefined;
    if (!warm) {
      const ready = await this.startable(rec);
      if (ready instanceof LogosError) return failedExec(ready);
      warm = this.startWorker(rec, route, ready.bwrap, ready.workerFile, { taskId, timeoutMs: req.timeoutMs, ...(req.signal ? { signal: req.signal } : {}) });
    }
    warm.taken = true;
    const started = warm;
    const proc = started.proc as RunningProcess;
    const provider = getProvider(route.provider);
    let apiKey: string | undefined;
    let keyError: LogosError | undefined;
    try {
      apiKey = (await this.opts.credentials.get(provider.id, provider.keyEnv))?.value;
    } catch (err) {
      keyError = err as LogosError;
    }
    if (!keyError && !apiKey && provider.needsKey) {
      keyError = new LogosError('NO_CREDENTIAL', `No key for ${provider.label}.`, {
        hint: `Store one with \`logos creds set ${provider.id}\` (it reads the key from stdin or a hidden prompt)${provider.keyEnv ? `, or set ${provider.keyEnv}` : ''}.`,
      });
    }
    if (keyError) {
      // The worker never gets its task: stop it and tidy up before saying why.
      proc.kill();
      await proc.result;
      await started.cleanup().catch(() => {});
      return failedExec(keyError);
    }
    const log = this.opts.logger.child({ sandbox: rec.name, route: route.name, task_id: taskId });
    const proxyOpts = { socketPath: join(started.dir, SOCKET_NAME), upstream: route.endpoint, api: route.api, model: route.model, logger: log };
    const proxy = await startInferenceProxy(apiKey ? { ...proxyOpts, apiKey } : proxyOpts);
    started.attach(req);
    proc.sendInput(req.taskJson);
    let proxyClosed: Promise<void> | undefined;
    const closeProxy = (): Promise<void> => (proxyClosed ??= proxy.close().catch(() => {}));
    const outcome = proc.result.then(async (r): Promise<ExecOutcome> => {
      await closeProxy();
      await started.cleanup().catch(() => {});
      const out = outcomeOf(r);
      if (r.notFound) out.startError = new LogosError('BWRAP_MISSING', `bubblewrap could not be started (${started.bwrap}).`, { hint: BWRAP_INSTALL_HINT });
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

/** Output a worker prints before exec takes it over: kept up to this many events, the rest dropped. */
const EARLY_OUTPUT_EVENTS = 100;

type EarlyOutput = ['line', string] | ['oversized', number] | ['stderr', string] | ['end'];

/** A local sandbox started ahead of its task (LocalDriver.warm). */
class LocalWarm implements WarmStart {
  proc: RunningProcess | undefined;
  taken = false;
  handlers: OutputHandlers | undefined;
  private early: EarlyOutput[] = [];

  constructor(
    readonly driver: LocalDriver,
    readonly bwrap: string,
    readonly dir: string,
    readonly cleanup: () => Promise<void>,
  ) {}

  /** Output before exec took over: a little is kept (and the end of stdout always), the rest dropped. */
  hold(event: EarlyOutput): void {
    if (this.early.length < EARLY_OUTPUT_EVENTS || event[0] === 'end') this.early.push(event);
  }

  attach(handlers: OutputHandlers): void {
    this.handlers = handlers;
    for (const e of this.early) {
      if (e[0] === 'line') handlers.onStdoutLine(e[1]);
      else if (e[0] === 'oversized') handlers.onOversizedLine(e[1]);
      else if (e[0] === 'stderr') handlers.onStderrLine(e[1]);
      else handlers.onStdoutEnd?.();
    }
    this.early = [];
  }

  discard(): void {
    if (this.taken || !this.proc) return;
    this.taken = true;
    const proc = this.proc;
    proc.kill();
    void proc.result.then(() => this.cleanup()).catch(() => {});
  }
}
