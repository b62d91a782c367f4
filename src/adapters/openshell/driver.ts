import { existsSync, readFileSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { openHostFile } from '../host-files.js';
import { policyFile } from '../assets.js';
import type { Logger } from '../../core/context.js';
import { LogosError } from '../../core/errors.js';
import type { OpenShell, OsLine, OsTarget } from '../../core/openshell.js';
import type { RouteRecord } from '../../core/routes.js';
import { failedExec, outcomeOf, type ExecOutcome, type ExecRequest, type RunningExec, type SandboxDriver, type SandboxRecord, type SandboxStatus } from '../../core/sandboxes.js';
import { defaultWorkerFile } from '../local/driver.js';
import { stripAnsi } from './parse.js';

/**
 * Sandboxes on an OpenShell gateway. A sandbox lives in its route's workspace
 * (which fixes its model), keeps `sleep infinity` as its main process, and gets
 * the worker bundle uploaded; each task is one `sandbox exec` of the worker with
 * the task on stdin. The worker reaches the model at https://inference.local/v1
 * (0.0.x), or at the model's own endpoint (0.1.x: OPENAI_BASE_URL / ANTHROPIC_BASE_URL
 * in the sandbox's environment, the key a placeholder the supervisor swaps there).
 */

export const WORKER_DIR_IN_SANDBOX = '/sandbox/.logos';
export const WORKER_PATH_IN_SANDBOX = `${WORKER_DIR_IN_SANDBOX}/worker.mjs`;
export const WORKER_LOG_IN_SANDBOX = '/sandbox/.logos/worker.jsonl';
/** The same file, relative to the exec working directory (the sandbox workdir, /sandbox). */
const WORKER_LOG_RELATIVE = '.logos/worker.jsonl';
/** node:crypto loads when a worker bundle is first hashed, not with every command that builds the app. */
const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');
/**
 * Without imageFor: OpenShell's community base image (Node 22, python3, user sandbox, workdir
 * /sandbox), as a full reference: a bare `--from base` is first tried as a path in the CLI's
 * working directory.
 */
export { COMMUNITY_BASE_IMAGE } from '../../core/images.js';
import { COMMUNITY_BASE_IMAGE } from '../../core/images.js';
import { lazyBuiltin } from '../../core/builtins.js';

export interface OpenShellDriverOptions {
  openshell: OpenShell;
  logger: Logger;
  /** Sandbox policy file (OpenShell schema v1). */
  policyFile?: string;
  /** The image for a new sandbox on this line (config, Logos' own image, or the community base). */
  imageFor?: (line: OsLine, route: RouteRecord) => Promise<string>;
  workerFile?: string;
  /** Re-push the route's credential and base URL before every spawn. */
  syncRoute?: (route: RouteRecord) => Promise<void>;
  /** 0.1.x: the providers to attach and the environment (base URL) a sandbox of this route gets. */
  sandboxSpec?: (route: RouteRecord, line: OsLine) => Promise<{ providers: string[]; env: Record<string, string> }>;
}

export function defaultPolicyFile(): string {
  return policyFile('default.yaml');
}

function targetOf(rec: SandboxRecord): OsTarget {
  if (!rec.gateway || !rec.workspace) {
    throw new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${rec.name}' has no gateway/workspace in its record.`, {
      hint: `Recreate it: \`logos sandbox delete ${rec.name}\` then \`logos sandbox create ${rec.name} --driver openshell\`.`,
    });
  }
  return { gateway: rec.gateway, workspace: rec.workspace };
}

export class OpenShellDriver implements SandboxDriver {
  readonly kind = 'openshell' as const;
  readonly inferenceBaseUrl = 'https://inference.local/v1';
  private sha: string | undefined;

  constructor(private readonly opts: OpenShellDriverOptions) {}

  /** sha256 of the worker bundle, to tell whether a sandbox has the current one. */
  private workerSha(file: string): string {
    this.sha ??= crypto().createHash('sha256').update(readFileSync(file)).digest('hex');
    return this.sha;
  }

  async preflight(): Promise<void> {
    await this.opts.openshell.cli();
  }

  /** A sandbox made on the other line cannot serve this CLI (0.0.x and 0.1.x are not wire-compatible). */
  private lineMismatch(rec: SandboxRecord, line: OsLine): LogosError | undefined {
    const made = rec.os_line ?? '0.0';
    if (made === line) return undefined;
    return new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${rec.name}' was made for OpenShell ${made}.x, but the openshell CLI is now ${line}.x.`, {
      hint: `Recreate it after the upgrade: \`logos sandbox delete ${rec.name}\` then \`logos sandbox create ${rec.name} --route ${rec.route}\` (see README "OpenShell versions").`,
      details: { sandbox: rec.name, made_for: made, cli_line: line },
    });
  }

  private workerFile(): string {
    const f = this.opts.workerFile ?? defaultWorkerFile();
    if (!existsSync(f)) throw new LogosError('INTERNAL', `The worker bundle is missing (${f}).`, { hint: 'Build Logos first: `npm run build`.' });
    return f;
  }

  async create(rec: SandboxRecord, route: RouteRecord): Promise<SandboxRecord> {
    if (!route.gateway || !route.workspace) {
      throw new LogosError('INVALID_ARGUMENT', `Route '${route.name}' is not on an OpenShell gateway, so it cannot back an OpenShell sandbox.`, {
        hint: `Use \`--driver local\`, or add the route on a gateway: \`logos route add ${route.provider}/${route.model} --gateway <name> --name <new-name>\`.`,
      });
    }
    if (route.status !== 'ready') {
      throw new LogosError('ROUTE_NOT_READY', `Route '${route.name}' is ${route.status}${route.status_detail ? ` (${route.status_detail})` : ''}.`, {
        hint: `Run \`logos route sync ${route.name}\` first.`,
      });
    }
    const t: OsTarget = { gateway: route.gateway, workspace: route.workspace };
    const os = this.opts.openshell;
    const { line } = await os.cli();
    await this.opts.syncRoute?.(route);
    const image = this.opts.imageFor ? await this.opts.imageFor(line, route) : COMMUNITY_BASE_IMAGE;
    const extras = line === '0.1' && this.opts.sandboxSpec ? await this.opts.sandboxSpec(route, line) : { providers: [], env: {} };
    const out: SandboxRecord = { ...rec, gateway: t.gateway, workspace: t.workspace as string, os_line: line, image };
    const workerFile = this.workerFile();
    // A duplicate create fails or hangs: look first, and adopt a Ready sandbox of the same name.
    const existing = await os.sandboxGet(t, rec.name);
    if (existing) {
      if (existing.phase !== 'Ready') {
        throw new LogosError('ALREADY_EXISTS', `Sandbox '${rec.name}' already exists on gateway '${t.gateway}' in phase ${existing.phase}.`, {
          hint: `Delete it with \`openshell -g ${t.gateway} --workspace ${t.workspace} sandbox delete ${rec.name}\`, or pick another name.`,
        });
      }
      this.opts.logger.info('adopting existing sandbox', { sandbox: rec.name, gateway: t.gateway, workspace: t.workspace });
    } else {
      try {
        await os.sandboxCreate(t, {
          name: rec.name,
          from: image,
          policyFile: this.opts.policyFile ?? defaultPolicyFile(),
          command: ['sleep', 'infinity'],
          ...(extras.providers.length ? { providers: extras.providers } : {}),
          ...(Object.keys(extras.env).length ? { env: extras.env } : {}),
        });
      } catch (err) {
        // Never leave a half-made sandbox behind.
        await os.sandboxDelete(t, rec.name).catch(() => undefined);
        throw err;
      }
    }
    try {
      const got = await os.sandboxGet(t, rec.name);
      if (!got || got.phase !== 'Ready') {
        throw new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${rec.name}' is ${got ? got.phase : 'gone'} after creation.`, {
          hint: `Look at it with \`openshell -g ${t.gateway} --workspace ${t.workspace} sandbox get ${rec.name}\`.`,
        });
      }
      await this.ensureWorkerDir(t, rec.name);
      await os.sandboxUpload(t, rec.name, workerFile, WORKER_PATH_IN_SANDBOX);
      out.worker_sha = this.workerSha(workerFile);
    } catch (err) {
      if (!existing) await os.sandboxDelete(t, rec.name).catch(() => undefined);
      throw err;
    }
    return out;
  }

  /** The upload writes a file to an exact path: make sure its directory exists first. */
  private async ensureWorkerDir(t: OsTarget, name: string): Promise<void> {
    await this.ensureDir(t, name, WORKER_DIR_IN_SANDBOX);
  }

  private async ensureDir(t: OsTarget, name: string, dir: string): Promise<void> {
    let stderr = '';
    const h = this.opts.openshell.sandboxExec(t, name, {
      command: ['mkdir', '-p', dir],
      input: '',
      timeoutSec: 60,
      onStdoutLine: () => {},
      onOversizedLine: () => {},
      onStderrLine: (l) => (stderr += `${l}\n`),
    });
    const r = await h.result;
    if (r.exitCode !== 0) {
      throw new LogosError('SANDBOX_UNAVAILABLE', `Could not prepare ${dir} in sandbox '${name}' (exit ${r.exitCode}): ${stderr.trim().split('\n').pop() ?? ''}`, {
        hint: `Look at the sandbox with \`openshell -g ${t.gateway} --workspace ${t.workspace} sandbox get ${name}\`.`,
      });
    }
  }

  async remove(rec: SandboxRecord): Promise<void> {
    await this.opts.openshell.sandboxDelete(targetOf(rec), rec.name);
  }

  async status(rec: SandboxRecord): Promise<SandboxStatus> {
    try {
      const s = await this.opts.openshell.sandboxGet(targetOf(rec), rec.name);
      if (!s) return { phase: 'Missing', detail: `not found on gateway '${rec.gateway}'` };
      if (s.phase === 'Ready') return { phase: 'Ready' };
      if (s.phase === 'Provisioning') return { phase: 'Provisioning' };
      if (s.phase === 'Error') return { phase: 'Error', detail: 'the gateway reports Error' };
      // 0.1.x: the main process ended (status 0); nothing can run in it any more.
      if (s.phase === 'Completed') return { phase: 'Error', detail: 'its main process ended (Completed)' };
      return { phase: 'Unknown', detail: s.phase };
    } catch (err) {
      return { phase: 'Unknown', detail: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * `sandbox upload` of one file to an exact path (its directory made first). The
   * sandbox is a container on the gateway: links in it cannot reach this host.
   */
  async putFile(rec: SandboxRecord, localFile: string, rel: string): Promise<{ bytes: number }> {
    const t = targetOf(rec);
    const { fh, size } = await openHostFile(localFile);
    await fh.close();
    const slash = rel.lastIndexOf('/');
    if (slash > 0) await this.ensureDir(t, rec.name, `/sandbox/${rel.slice(0, slash)}`);
    await this.opts.openshell.sandboxUpload(t, rec.name, localFile, `/sandbox/${rel}`, { noGitIgnore: true });
    return { bytes: size };
  }

  /**
   * `sandbox download` into a private directory beside the destination, then checked
   * (a regular file, not a link the sandbox made; at most maxBytes) and renamed into
   * place. The size is known only once the file is here: a larger one is deleted.
   */
  async getFile(rec: SandboxRecord, rel: string, localFile: string, maxBytes: number): Promise<{ bytes: number }> {
    const t = targetOf(rec);
    const dir = dirname(localFile);
    const tmp = await mkdtemp(join(dir, '.logos-get-')).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
        throw new LogosError('INVALID_ARGUMENT', `The directory ${dir} does not exist.`, { hint: 'Create it first, or give another local path.' });
      }
      throw err;
    });
    try {
      await this.opts.openshell.sandboxDownload(t, rec.name, `/sandbox/${rel}`, tmp);
      const got = await readdir(tmp);
      const file = join(tmp, got[0] ?? basename(rel));
      const st = await lstat(file).catch(() => undefined);
      if (!st || got.length !== 1) throw new LogosError('OPENSHELL_FAILED', `openshell reported a download of '/sandbox/${rel}' but delivered ${got.length} entries.`);
      if (st.isDirectory()) {
        throw new LogosError('INVALID_ARGUMENT', `'/sandbox/${rel}' is a directory; \`sandbox get\` copies one file.`, {
          hint: `Pack it in the sandbox first, e.g. \`logos run --sandbox ${rec.name} "tar czf out.tgz ${rel}"\`, then get out.tgz.`,
        });
      }
      if (!st.isFile()) {
        throw new LogosError('SANDBOX_UNAVAILABLE', `Refusing to read '${rel}' from the sandbox: it is a symbolic link or other non-regular file.`, {
          hint: 'Logos copies only regular files out of a sandbox, never a link.',
        });
      }
      if (st.size > maxBytes) {
        throw new LogosError('INVALID_ARGUMENT', `'/sandbox/${rel}' is larger than ${Math.round(maxBytes / 1048576)} MiB, the most \`sandbox get\` copies; nothing was kept.`, {
          hint: `Compress or split it in the sandbox first (e.g. \`logos run --sandbox ${rec.name} "gzip ${rel}"\`).`,
          details: { limit: maxBytes },
        });
      }
      if ((await stat(localFile).catch(() => undefined))?.isDirectory()) {
        throw new LogosError('INVALID_ARGUMENT', `${localFile} is a directory.`, { hint: 'Name a file, or end the path with "/" to copy into the directory.' });
      }
      await rename(file, localFile);
      return { bytes: st.size };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async logs(rec: SandboxRecord, lines: number): Promise<string[]> {
    await this.opts.openshell.cli();
    const out: string[] = [];
    const h = this.opts.openshell.sandboxExec(targetOf(rec), rec.name, {
      command: ['tail', '-n', String(lines), WORKER_LOG_IN_SANDBOX],
      input: '',
      timeoutSec: 30,
      onStdoutLine: (l) => out.push(l),
      onOversizedLine: () => {},
      onStderrLine: () => {},
    });
    await h.result;
    return out.filter(Boolean);
  }

  async exec(rec: SandboxRecord, route: RouteRecord, req: ExecRequest): Promise<RunningExec> {
    const failed = failedExec;
    let t: OsTarget;
    try {
      t = targetOf(rec);
    } catch (err) {
      return failed(err as LogosError);
    }
    let line: OsLine;
    try {
      line = (await this.opts.openshell.cli()).line;
      const mismatch = this.lineMismatch(rec, line);
      if (mismatch) return failed(mismatch);
      await this.opts.syncRoute?.(route);
    } catch (err) {
      return failed(err instanceof LogosError ? err : new LogosError('OPENSHELL_FAILED', String(err)));
    }
    // 0.1.x: the base URL goes with every exec too, so a changed endpoint reaches the next task.
    let execEnv: Record<string, string> = {};
    try {
      if (line === '0.1' && this.opts.sandboxSpec) execEnv = (await this.opts.sandboxSpec(route, line)).env;
    } catch (err) {
      return failed(err instanceof LogosError ? err : new LogosError('OPENSHELL_FAILED', String(err)));
    }
    const st = await this.status(rec);
    if (st.phase !== 'Ready') {
      return failed(
        new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${rec.name}' is not ready (${st.phase}${st.detail ? `: ${st.detail}` : ''}).`, {
          hint: `Check it with \`logos sandbox show ${rec.name}\`; Logos never falls back to running outside the sandbox.`,
        }),
      );
    }
    // After an upgrade of Logos the sandbox still has the old worker: upload the current one.
    let updatedRecord: SandboxRecord | undefined;
    try {
      const workerFile = this.workerFile();
      const sha = this.workerSha(workerFile);
      if (rec.worker_sha !== sha) {
        await this.opts.openshell.sandboxUpload(t, rec.name, workerFile, WORKER_PATH_IN_SANDBOX);
        this.opts.logger.info('uploaded the current worker into the sandbox', { sandbox: rec.name, worker_sha: sha.slice(0, 12) });
        updatedRecord = { ...rec, worker_sha: sha };
      }
    } catch (err) {
      return failed(err instanceof LogosError ? err : new LogosError('OPENSHELL_FAILED', String(err)));
    }
    const timeoutSec = Math.max(1, Math.ceil(req.timeoutMs / 1000));
    const h = this.opts.openshell.sandboxExec(t, rec.name, {
      command: ['node', WORKER_PATH_IN_SANDBOX],
      input: req.taskJson,
      timeoutSec,
      // Host-side safety net in case the gateway never reports the remote timeout.
      killAfterMs: req.timeoutMs + 15_000,
      env: { ...execEnv, LOGOS_WORKER_LOG: WORKER_LOG_RELATIVE },
      ...(req.signal ? { signal: req.signal } : {}),
      onStdoutLine: req.onStdoutLine,
      onOversizedLine: req.onOversizedLine,
      onStderrLine: req.onStderrLine,
      ...(req.onStdoutEnd ? { onStdoutEnd: req.onStdoutEnd } : {}),
    });
    const outcome = h.result.then((r): ExecOutcome => {
      const o = outcomeOf(r);
      if (r.notFound) o.startError = new LogosError('OPENSHELL_MISSING', 'The OpenShell CLI is not installed or not on PATH.');
      // openshell's own refusal (not the worker's): `Error: … is not ready` / `sandbox not found`.
      else if (r.exitCode === 1 && /^Error:.*(is not ready|sandbox not found)/m.test(stripAnsi(r.stderrTail))) {
        o.startError = new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${rec.name}' could not run the worker: ${r.stderrTail.trim().split('\n').pop() ?? ''}`, {
          hint: `Check it with \`logos sandbox show ${rec.name}\`.`,
        });
      }
      return o;
    });
    return {
      outcome,
      kill: h.kill,
      ...(h.pauseOutput ? { pauseOutput: h.pauseOutput } : {}),
      ...(h.resumeOutput ? { resumeOutput: h.resumeOutput } : {}),
      ...(updatedRecord ? { updatedRecord } : {}),
    };
  }
}
