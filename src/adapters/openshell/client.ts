import { realpathSync, statSync } from 'node:fs';
import type { Logger } from '../../core/context.js';
import { LogosError } from '../../core/errors.js';
import {
  MIN_WORKSPACE_VERSION,
  type OpenShell,
  type OsExecHandle,
  type OsExecSpec,
  type OsGatewayItem,
  type OsInferenceRoute,
  type OsProviderItem,
  type OsProviderSpec,
  type OsSandbox,
  type OsStatus,
  type OsTarget,
} from '../../core/openshell.js';
import type { Records } from '../../core/ports.js';
import { outcomeOf } from '../../core/sandboxes.js';
import { runProcess, spawnProcess, type RunResult } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';
import { compareVersions, parseErrorText, parseInferenceGet, parseVersion, stripAnsi } from './parse.js';

/**
 * OpenShell over its CLI. Every call passes `-g GATEWAY` (never the "active"
 * gateway on disk) and `--workspace W` for workspace objects; `-o json` is used
 * wherever the command has it. Secrets travel in the child's environment only.
 */

export interface VersionCacheFile {
  entries: Record<string, { mtimeMs: number; version: string }>;
}

export interface OpenShellClientOptions {
  binary: string;
  logger: Logger;
  pathEnv?: string;
  /** Cross-process cache of `openshell -V`, keyed by the binary's real path and mtime. */
  versionCache?: Records<VersionCacheFile>;
  /** Name passed with -g on calls that are not about one gateway (version, gateway list). */
  defaultGateway: string;
  timeoutMs?: number;
  /** With --dry-run: gateway registration changes are passed here (argv) instead of being run. */
  dryRun?: (argv: string[]) => void;
}

export const OPENSHELL_INSTALL_HINT =
  'Install the OpenShell CLI (see the NVIDIA OpenShell installation guide) so that `openshell` is on PATH, or set binaries.openshell in config.json. Without it, use the local driver: `--driver local`.';

const UNREACHABLE_RE = /failed to connect to gateway|not reachable|connection refused|transport error|dns error|tcp connect error|Unavailable|deadline has elapsed/i;

export class OpenShellClient implements OpenShell {
  private cachedVersion: string | undefined;

  constructor(private readonly opts: OpenShellClientOptions) {}

  private bin(): string {
    const p = findExecutable(this.opts.binary, this.opts.pathEnv);
    if (!p) {
      throw new LogosError('OPENSHELL_MISSING', `The OpenShell CLI (${this.opts.binary}) is not installed or not on PATH.`, { hint: OPENSHELL_INSTALL_HINT });
    }
    return p;
  }

  private argv(t: OsTarget, args: string[]): string[] {
    const out = ['-g', t.gateway];
    if (t.workspace) out.push('--workspace', t.workspace);
    return [...out, ...args];
  }

  private async call(t: OsTarget, args: string[], extra: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
    const res = await runProcess(this.bin(), this.argv(t, args), {
      ...(extra.env ? { env: extra.env } : {}),
      timeoutMs: extra.timeoutMs ?? this.opts.timeoutMs ?? 120_000,
      logger: this.opts.logger.child({ source: 'openshell', gateway: t.gateway, ...(t.workspace ? { workspace: t.workspace } : {}) }),
    });
    if (res.notFound) throw new LogosError('OPENSHELL_MISSING', `The OpenShell CLI (${this.opts.binary}) could not be started.`, { hint: OPENSHELL_INSTALL_HINT });
    return res;
  }

  /** Turn a failed call into a typed error. */
  private failure(res: RunResult, action: string, t: OsTarget): LogosError {
    const msg = parseErrorText(res.stderr || res.stdout) || `exit code ${res.exitCode}`;
    const details = { gateway: t.gateway, ...(t.workspace ? { workspace: t.workspace } : {}), exit_code: res.exitCode, action };
    if (res.timedOut) {
      return new LogosError('GATEWAY_UNREACHABLE', `openshell did not answer in time while trying to ${action} (gateway '${t.gateway}').`, {
        hint: `Check the gateway: \`logos gateway status ${t.gateway}\`.`,
        details,
      });
    }
    if (/Unknown gateway/i.test(msg)) {
      return new LogosError('NOT_FOUND', `OpenShell does not know the gateway '${t.gateway}'.`, {
        hint: `Register it with \`logos gateway add <endpoint> --name ${t.gateway}\` or start a local one with \`logos gateway up ${t.gateway}\`.`,
        details,
      });
    }
    if (UNREACHABLE_RE.test(msg)) {
      return new LogosError('GATEWAY_UNREACHABLE', `Gateway '${t.gateway}' is not reachable (${action}): ${msg}`, {
        hint: `Check it with \`logos gateway status ${t.gateway}\`; a local gateway is started with \`logos gateway up ${t.gateway}\`.`,
        details,
      });
    }
    if (res.exitCode === 2) {
      return new LogosError('OPENSHELL_FAILED', `openshell rejected the command to ${action}: ${msg}`, {
        hint: 'This openshell may be older or newer than Logos expects (it is tested with 0.0.111); run `openshell -V` and upgrade if it is old.',
        details,
      });
    }
    return new LogosError('OPENSHELL_FAILED', `openshell failed to ${action}: ${msg}`, { details });
  }

  private async ok(t: OsTarget, args: string[], action: string, extra: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
    const res = await this.call(t, args, extra);
    if (res.exitCode !== 0) throw this.failure(res, action, t);
    return res;
  }

  private json<T>(res: RunResult, action: string, t: OsTarget): T {
    try {
      return JSON.parse(res.stdout) as T;
    } catch {
      throw new LogosError('OPENSHELL_FAILED', `openshell printed something that is not JSON while trying to ${action}.`, {
        hint: 'Run the same command by hand with -o json to see what it prints; the CLI version may not match.',
        details: { gateway: t.gateway, preview: stripAnsi(res.stdout).slice(0, 200) },
      });
    }
  }

  async version(): Promise<string> {
    if (this.cachedVersion) return this.cachedVersion;
    const bin = this.bin();
    let key: string | undefined;
    let mtimeMs = 0;
    try {
      key = realpathSync(bin);
      mtimeMs = statSync(key).mtimeMs;
    } catch {
      key = undefined;
    }
    if (key && this.opts.versionCache) {
      const hit = (await this.opts.versionCache.read().catch(() => undefined))?.entries?.[key];
      if (hit && hit.mtimeMs === mtimeMs) {
        this.cachedVersion = hit.version;
        return hit.version;
      }
    }
    const res = await this.call({ gateway: this.opts.defaultGateway }, ['-V'], { timeoutMs: 15_000 });
    const v = res.exitCode === 0 ? parseVersion(res.stdout) : undefined;
    if (!v) {
      throw new LogosError('OPENSHELL_FAILED', `Could not read the OpenShell CLI version (\`openshell -V\` exited ${res.exitCode}).`, { hint: OPENSHELL_INSTALL_HINT });
    }
    this.cachedVersion = v;
    if (key && this.opts.versionCache) {
      const k = key;
      await this.opts.versionCache
        .update((file) => {
          file.entries ??= {};
          file.entries[k] = { mtimeMs, version: v };
        })
        .catch(() => {});
    }
    return v;
  }

  async requireWorkspaces(): Promise<void> {
    const v = await this.version();
    if (compareVersions(v, MIN_WORKSPACE_VERSION) < 0) {
      throw new LogosError('OPENSHELL_TOO_OLD', `openshell ${v} has no workspaces; Logos needs ${MIN_WORKSPACE_VERSION} or newer to give each model route its own workspace.`, {
        hint: `Upgrade the OpenShell CLI (and its gateways) to ${MIN_WORKSPACE_VERSION} or newer, e.g. 0.0.111.`,
        details: { version: v },
      });
    }
  }

  async gatewayAdd(name: string, endpoint: string, opts: { local?: boolean; remote?: string } = {}): Promise<void> {
    const args = ['gateway', 'add', endpoint, '--name', name];
    if (opts.local) args.push('--local');
    if (opts.remote) args.push('--remote', opts.remote);
    const t = { gateway: name };
    if (this.opts.dryRun) {
      this.opts.dryRun([this.opts.binary, ...this.argv(t, args)]);
      return;
    }
    const res = await this.call(t, args);
    if (res.exitCode !== 0) {
      const msg = parseErrorText(res.stderr);
      if (/already exists/i.test(msg)) {
        throw new LogosError('ALREADY_EXISTS', `OpenShell already has a gateway named '${name}'.`, {
          hint: `Pick another --name, or remove the old registration with \`openshell gateway remove ${name}\`.`,
        });
      }
      throw this.failure(res, 'register the gateway', t);
    }
  }

  async gatewayRemove(name: string): Promise<'removed' | 'missing'> {
    const t = { gateway: name };
    if (this.opts.dryRun) {
      this.opts.dryRun([this.opts.binary, ...this.argv(t, ['gateway', 'remove', name])]);
      return 'removed';
    }
    const res = await this.call(t, ['gateway', 'remove', name]);
    if (res.exitCode === 0) return 'removed';
    if (/No gateway metadata found/i.test(parseErrorText(res.stderr))) return 'missing';
    throw this.failure(res, 'remove the gateway registration', t);
  }

  async gatewayList(): Promise<OsGatewayItem[]> {
    const t = { gateway: this.opts.defaultGateway };
    const res = await this.ok(t, ['gateway', 'list', '-o', 'json'], 'list gateways');
    return this.json<OsGatewayItem[]>(res, 'list gateways', t);
  }

  async status(gateway: string): Promise<OsStatus> {
    const t = { gateway };
    const res = await this.call(t, ['status', '-o', 'json'], { timeoutMs: 20_000 });
    if (res.exitCode === 0) {
      try {
        return JSON.parse(res.stdout) as OsStatus;
      } catch {
        // fall through: treat as an error report
      }
    }
    const msg = parseErrorText(res.stderr || res.stdout);
    if (/Unknown gateway/i.test(msg)) throw this.failure(res, 'read the gateway status', t);
    return { gateway, status: res.timedOut ? 'disconnected' : 'error', error: msg || `exit code ${res.exitCode}` };
  }

  async workspaceList(gateway: string): Promise<string[]> {
    const t = { gateway };
    const res = await this.ok(t, ['workspace', 'list', '-o', 'json'], 'list workspaces');
    return this.json<Array<{ name: string }>>(res, 'list workspaces', t).map((w) => w.name);
  }

  async workspaceCreate(gateway: string, name: string): Promise<'created' | 'exists'> {
    const t = { gateway };
    const res = await this.call(t, ['workspace', 'create', '--name', name]);
    if (res.exitCode === 0) return 'created';
    if (/already exists/i.test(parseErrorText(res.stderr))) return 'exists';
    throw this.failure(res, `create workspace '${name}'`, t);
  }

  async workspaceDelete(gateway: string, name: string): Promise<'deleted' | 'missing'> {
    const t = { gateway };
    const res = await this.call(t, ['workspace', 'delete', name]);
    if (res.exitCode === 0) return 'deleted';
    if (/not found/i.test(parseErrorText(res.stderr))) return 'missing';
    throw this.failure(res, `delete workspace '${name}'`, t);
  }

  async providerList(t: OsTarget): Promise<OsProviderItem[]> {
    const res = await this.ok(t, ['provider', 'list', '-o', 'json'], 'list providers');
    return this.json<OsProviderItem[]>(res, 'list providers', t);
  }

  private providerArgs(spec: OsProviderSpec): string[] {
    // `--credential KEY` (bare): openshell reads the value from its own environment.
    const args = ['--credential', spec.credentialKey];
    for (const [k, v] of Object.entries(spec.config)) args.push('--config', `${k}=${v}`);
    return args;
  }

  async providerCreate(t: OsTarget, spec: OsProviderSpec): Promise<'created' | 'exists'> {
    const res = await this.call(t, ['provider', 'create', '--name', spec.name, '--type', spec.type, ...this.providerArgs(spec)], {
      env: { [spec.credentialKey]: spec.secret },
    });
    if (res.exitCode === 0) return 'created';
    if (/already exists/i.test(parseErrorText(res.stderr))) return 'exists';
    throw this.failure(res, `create provider '${spec.name}'`, t);
  }

  async providerUpdate(t: OsTarget, spec: OsProviderSpec): Promise<void> {
    await this.ok(t, ['provider', 'update', spec.name, ...this.providerArgs(spec)], `update provider '${spec.name}'`, {
      env: { [spec.credentialKey]: spec.secret },
    });
  }

  async providerDelete(t: OsTarget, name: string): Promise<'deleted' | 'missing'> {
    const res = await this.call(t, ['provider', 'delete', name]);
    if (res.exitCode === 0) return 'deleted';
    if (/not found/i.test(parseErrorText(res.stderr))) return 'missing';
    throw this.failure(res, `delete provider '${name}'`, t);
  }

  async inferenceSet(t: OsTarget, route: { provider: string; model: string; timeoutSec: number }): Promise<void> {
    await this.ok(
      t,
      ['inference', 'set', '--provider', route.provider, '--model', route.model, '--no-verify', '--timeout', String(route.timeoutSec)],
      'set the inference route',
    );
  }

  async inferenceGet(t: OsTarget): Promise<OsInferenceRoute | undefined> {
    const res = await this.ok(t, ['inference', 'get'], 'read the inference route');
    const v = parseInferenceGet(res.stdout);
    return v.inference ? { provider: v.inference.provider, model: v.inference.model, ...(v.inference.timeout ? { timeout: v.inference.timeout } : {}) } : undefined;
  }

  async inferenceDelete(t: OsTarget): Promise<void> {
    const res = await this.call(t, ['inference', 'delete']);
    if (res.exitCode !== 0 && !/not (found|configured)/i.test(parseErrorText(res.stderr))) throw this.failure(res, 'delete the inference route', t);
  }

  async sandboxCreate(t: OsTarget, spec: { name: string; from: string; policyFile?: string; command: string[] }): Promise<void> {
    const args = ['sandbox', 'create', '--name', spec.name, '--from', spec.from, '--no-auto-providers', '--no-tty'];
    if (spec.policyFile) args.push('--policy', spec.policyFile);
    // The trailing command is the sandbox's main process; it must live forever.
    args.push('--', ...spec.command);
    const res = await this.call(t, args, { timeoutMs: 15 * 60_000 });
    if (res.exitCode === 0) return;
    const msg = parseErrorText(res.stderr);
    if (/already exists/i.test(msg)) {
      throw new LogosError('ALREADY_EXISTS', `Sandbox '${spec.name}' already exists on gateway '${t.gateway}'.`, { hint: 'Adopt it or pick another name.' });
    }
    throw this.failure(res, `create sandbox '${spec.name}'`, t);
  }

  async sandboxGet(t: OsTarget, name: string): Promise<OsSandbox | undefined> {
    const res = await this.call(t, ['sandbox', 'get', name, '-o', 'json']);
    if (res.exitCode === 0) return this.json<OsSandbox>(res, `read sandbox '${name}'`, t);
    if (/not found/i.test(parseErrorText(res.stderr))) return undefined;
    throw this.failure(res, `read sandbox '${name}'`, t);
  }

  async sandboxList(t: OsTarget): Promise<OsSandbox[]> {
    const res = await this.ok(t, ['sandbox', 'list', '-o', 'json'], 'list sandboxes');
    return this.json<OsSandbox[]>(res, 'list sandboxes', t);
  }

  async sandboxCount(gateway: string): Promise<number> {
    const t = { gateway };
    const res = await this.ok(t, ['sandbox', 'list', '--all-workspaces', '-o', 'json'], 'count sandboxes');
    return this.json<OsSandbox[]>(res, 'count sandboxes', t).length;
  }

  async sandboxDelete(t: OsTarget, name: string): Promise<'deleted' | 'missing'> {
    const res = await this.call(t, ['sandbox', 'delete', name]);
    if (res.exitCode === 0) return 'deleted';
    if (/not found/i.test(parseErrorText(res.stderr))) return 'missing';
    throw this.failure(res, `delete sandbox '${name}'`, t);
  }

  async sandboxUpload(t: OsTarget, name: string, localPath: string, dest: string, opts: { noGitIgnore?: boolean } = {}): Promise<void> {
    // Positional: NAME LOCAL [DEST] (there is no --name).
    const args = ['sandbox', 'upload', name, localPath, dest];
    // Inside a git work tree the git-aware upload treats DEST as a directory; this keeps it an exact path.
    if (opts.noGitIgnore) args.push('--no-git-ignore');
    await this.ok(t, args, `upload to sandbox '${name}'`, { timeoutMs: 5 * 60_000 });
  }

  async sandboxDownload(t: OsTarget, name: string, sandboxPath: string, dest: string): Promise<void> {
    // Positional: NAME SANDBOX_PATH [DEST]; the source must lie inside the sandbox workdir.
    const res = await this.call(t, ['sandbox', 'download', name, sandboxPath, dest], { timeoutMs: 5 * 60_000 });
    if (res.exitCode === 0) return;
    const msg = parseErrorText(res.stderr);
    if (/sandbox not found|is not ready/i.test(msg)) {
      throw new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${name}' could not be read: ${msg}`, { hint: `Check it with \`logos sandbox show ${name}\`.` });
    }
    if (/does not exist|no such file|not found/i.test(msg)) {
      throw new LogosError('NOT_FOUND', `No file '${sandboxPath}' in sandbox '${name}'.`, { hint: 'Check the path; files a task wrote are below /sandbox.', details: { message: msg } });
    }
    throw this.failure(res, `download from sandbox '${name}'`, t);
  }

  sandboxExec(t: OsTarget, name: string, spec: OsExecSpec): OsExecHandle {
    const args = ['sandbox', 'exec', '--name', name, '--no-tty'];
    if (spec.timeoutSec > 0) args.push('--timeout', String(spec.timeoutSec));
    for (const [k, v] of Object.entries(spec.env ?? {})) args.push('--env', `${k}=${v}`);
    args.push('--', ...spec.command);
    let bin: string;
    try {
      bin = this.bin();
    } catch {
      return {
        result: Promise.resolve({ exitCode: null, signal: null, timedOut: false, cancelled: false, stderrTail: '', durationMs: 0, notFound: true }),
        kill() {},
      };
    }
    const proc = spawnProcess(bin, this.argv(t, args), {
      // stdin is read to EOF by `sandbox exec` before the command starts: write the task and close it.
      input: spec.input,
      ...(spec.killAfterMs ? { timeoutMs: spec.killAfterMs } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
      killGraceMs: 1000,
      logger: this.opts.logger.child({ source: 'openshell', gateway: t.gateway, sandbox: name }),
      onStdoutLine: spec.onStdoutLine,
      onOversizedLine: spec.onOversizedLine,
      onStderrLine: spec.onStderrLine,
      ...(spec.onStdoutEnd ? { onStdoutEnd: spec.onStdoutEnd } : {}),
    });
    return {
      result: proc.result.then((r) => ({ ...outcomeOf(r), notFound: r.notFound })),
      kill: proc.kill,
      pauseOutput: proc.pauseStdout,
      resumeOutput: proc.resumeStdout,
    };
  }
}
