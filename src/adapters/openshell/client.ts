import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../core/context.js';
import { LogosError } from '../../core/errors.js';
import {
  checkOpenShellVersion,
  type OpenShell,
  type OsCli,
  type OsExecHandle,
  type OsExecSpec,
  type OsGatewayItem,
  type OsInferenceRoute,
  type OsProfile,
  type OsProviderItem,
  type OsProviderSpec,
  type OsSandbox,
  type OsSandboxSpec,
  type OsStatus,
  type OsTarget,
} from '../../core/openshell.js';
import type { Records } from '../../core/ports.js';
import { outcomeOf } from '../../core/sandboxes.js';
import { runProcess, spawnProcess, type RunResult } from '../exec/runner.js';
import { findExecutable } from '../exec/which.js';
import { parseErrorText, parseInferenceGet, parseListPage, parseVersion, stripAnsi } from './parse.js';

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
  /** With --dry-run: what happens besides the commands (e.g. the active gateway being put back). */
  dryRunNote?: (text: string) => void;
  /** Drive a 0.1.x CLI newer than the tested one (config `openshellAllowNewer`). */
  allowNewer?: boolean;
  /** openshell's config directory (its `active_gateway` file); see store/paths.ts openshellConfigDir. */
  configDir?: string;
  /** How long to wait for a 0.1.x "deletion accepted" sandbox to be gone (default 120 s). */
  deleteWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Variables of the user's shell that would override `-g` / `--workspace` in a child
 * openshell (openshell-cli.md §13.7): removed from every child's environment.
 */
const SCRUBBED_ENV: Record<string, undefined> = {
  OPENSHELL_GATEWAY: undefined,
  OPENSHELL_GATEWAY_ENDPOINT: undefined,
  OPENSHELL_GATEWAY_INSECURE: undefined,
  OPENSHELL_WORKSPACE: undefined,
  OPENSHELL_SANDBOX_POLICY: undefined,
};

/** Where in an openshell error a missing workspace shows (as opposed to a missing sandbox). */
const WORKSPACE_MISSING_RE = /workspace '([^']*)' not found/i;

export const OPENSHELL_INSTALL_HINT =
  'Install the OpenShell CLI (see the NVIDIA OpenShell installation guide) so that `openshell` is on PATH, or set binaries.openshell in config.json. Without it, use the local driver: `--driver local`.';

const UNREACHABLE_RE = /failed to connect to gateway|not reachable|connection refused|transport error|dns error|tcp connect error|Unavailable|deadline has elapsed/i;

export class OpenShellClient implements OpenShell {
  private cachedVersion: string | undefined;
  private cachedCli: OsCli | undefined;

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
      env: { ...SCRUBBED_ENV, ...extra.env },
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
        hint: `This openshell (${this.cachedVersion ?? 'unknown version'}) does not take this command as Logos sent it; run \`openshell -V\` and see README "OpenShell versions".`,
        details,
      });
    }
    if (/code: 'Operation is not implemented|Unimplemented/i.test(msg)) {
      return new LogosError('OPENSHELL_FAILED', `Gateway '${t.gateway}' does not speak this openshell's API (${action}): ${msg}`, {
        hint: `The CLI and the gateway must be the same release: see \`logos gateway status ${t.gateway}\` and README "OpenShell versions".`,
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

  async cli(): Promise<OsCli> {
    if (this.cachedCli) return this.cachedCli;
    const v = await this.version();
    this.cachedCli = checkOpenShellVersion(v, { allowNewer: !!this.opts.allowNewer });
    return this.cachedCli;
  }

  private async line(): Promise<OsCli['line']> {
    return (await this.cli()).line;
  }

  /** openshell's `active_gateway` as it is now (undefined: none), read without following its CLI. */
  private readActive(): string | undefined {
    if (!this.opts.configDir) return undefined;
    try {
      return readFileSync(join(this.opts.configDir, 'active_gateway'), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** `gateway add` makes the new gateway the active one: put the user's choice back. */
  private restoreActive(before: string | undefined, added: string): void {
    if (!this.opts.configDir) return;
    const file = join(this.opts.configDir, 'active_gateway');
    const now = this.readActive();
    if (now === before) return;
    try {
      if (before === undefined) {
        if (now?.trim() === added) unlinkSync(file);
      } else writeFileSync(file, before);
      this.opts.logger.debug('restored the active openshell gateway', { gateway: added, active: before?.trim() ?? null });
    } catch (err) {
      this.opts.logger.warn('could not restore the active openshell gateway', { error: (err as Error).message });
    }
  }

  async gatewayAdd(name: string, endpoint: string, opts: { local?: boolean; remote?: string } = {}): Promise<void> {
    const args = ['gateway', 'add', endpoint, '--name', name];
    if (opts.local) args.push('--local');
    if (opts.remote) args.push('--remote', opts.remote);
    const t = { gateway: name };
    const before = this.readActive();
    if (this.opts.dryRun) {
      this.opts.dryRun([this.opts.binary, ...this.argv(t, args)]);
      const was = before?.trim() ? `'${before.trim()}'` : 'none';
      this.opts.dryRunNote?.(`openshell makes '${name}' its active gateway; Logos puts the user's active gateway back right after (now: ${was})`);
      return;
    }
    const res = await this.call(t, args);
    this.restoreActive(before, name);
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
    return parseListPage<OsGatewayItem>(this.json<unknown>(res, 'list gateways', t), 'gateways').items;
  }

  async status(gateway: string): Promise<OsStatus> {
    const t = { gateway };
    const res = await this.call(t, ['status', '-o', 'json'], { timeoutMs: 20_000 });
    if (res.exitCode === 0) {
      let parsed: OsStatus | undefined;
      try {
        parsed = JSON.parse(res.stdout) as OsStatus;
      } catch {
        // fall through: treat as an error report
      }
      // An unknown gateway is not an error to `status`: it says not_configured and exits 0.
      if (parsed?.status === 'not_configured') {
        throw new LogosError('NOT_FOUND', `OpenShell does not know the gateway '${gateway}'.`, {
          hint: `Register it with \`logos gateway add <endpoint> --name ${gateway}\` or start a local one with \`logos gateway up ${gateway}\`.`,
          details: { gateway },
        });
      }
      if (parsed) return { ...parsed, gateway: parsed.gateway ?? gateway };
    }
    const msg = parseErrorText(res.stderr || res.stdout);
    if (/Unknown gateway/i.test(msg)) throw this.failure(res, 'read the gateway status', t);
    return { gateway, status: res.timedOut ? 'disconnected' : 'error', error: msg || `exit code ${res.exitCode}` };
  }

  async workspaceList(gateway: string): Promise<string[]> {
    const t = { gateway };
    const res = await this.ok(t, ['workspace', 'list', '-o', 'json'], 'list workspaces');
    return parseListPage<{ name: string }>(this.json<unknown>(res, 'list workspaces', t), 'workspaces').items.map((w) => w.name);
  }

  /** Every item of a list command, following 0.1.x page tokens (0.0.x prints one array). */
  private async listAll<T>(t: OsTarget, args: string[], key: string, action: string): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await this.ok(t, [...args, '-o', 'json', ...(token ? ['--page-token', token] : [])], action);
      const p = parseListPage<T>(this.json<unknown>(res, action, t), key);
      out.push(...p.items);
      if (!p.next || p.next === token) return out;
      token = p.next;
    }
    return out;
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
    return this.listAll<OsProviderItem>(t, ['provider', 'list'], 'providers', 'list providers');
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

  /** `openshell inference` exists on the 0.0 line only. */
  private async needLine(line: OsCli['line'], what: string): Promise<void> {
    const have = await this.line();
    if (have !== line) throw new LogosError('INTERNAL', `${what} is an OpenShell ${line}.x command, but openshell ${this.cachedVersion} is ${have}.x.`);
  }

  async inferenceSet(t: OsTarget, route: { provider: string; model: string; timeoutSec: number }): Promise<void> {
    await this.needLine('0.0', 'inference set');
    await this.ok(
      t,
      ['inference', 'set', '--provider', route.provider, '--model', route.model, '--no-verify', '--timeout', String(route.timeoutSec)],
      'set the inference route',
    );
  }

  async inferenceGet(t: OsTarget): Promise<OsInferenceRoute | undefined> {
    await this.needLine('0.0', 'inference get');
    const res = await this.ok(t, ['inference', 'get'], 'read the inference route');
    const v = parseInferenceGet(res.stdout);
    return v.inference ? { provider: v.inference.provider, model: v.inference.model, ...(v.inference.timeout ? { timeout: v.inference.timeout } : {}) } : undefined;
  }

  async inferenceDelete(t: OsTarget): Promise<void> {
    await this.needLine('0.0', 'inference delete');
    const res = await this.call(t, ['inference', 'delete']);
    if (res.exitCode !== 0 && !/not (found|configured)/i.test(parseErrorText(res.stderr))) throw this.failure(res, 'delete the inference route', t);
  }

  /** A profile as a YAML file the CLI can read, for the duration of `fn`. */
  private async withProfileFile<T>(profile: OsProfile, fn: (file: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), 'logos-profile-'));
    const file = join(dir, `${profile.id}.yaml`);
    // yaml loads here, not with every command (only 0.1.x provider profiles need it).
    const { stringify: toYaml } = await import('yaml');
    writeFileSync(file, `# Provider profile written by Logos (openshell profile import -f).\n${toYaml(profile)}`, { mode: 0o600 });
    try {
      return await fn(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async profileGet(t: OsTarget, id: string): Promise<OsProfile | undefined> {
    await this.needLine('0.1', 'profile export');
    const res = await this.call(t, ['profile', 'export', id, '-o', 'json']);
    if (res.exitCode === 0) return this.json<OsProfile>(res, `read profile '${id}'`, t);
    const msg = parseErrorText(res.stderr);
    if (/not found/i.test(msg) && !WORKSPACE_MISSING_RE.test(msg)) return undefined;
    throw this.failure(res, `read profile '${id}'`, t);
  }

  async profileImport(t: OsTarget, profile: OsProfile): Promise<void> {
    await this.needLine('0.1', 'profile import');
    await this.withProfileFile(profile, async (file) => {
      // Lint first: its report names the field that is wrong; import only says it failed.
      const lint = await this.call(t, ['profile', 'lint', '-f', file]);
      if (lint.exitCode !== 0) {
        const said = stripAnsi(`${lint.stdout}\n${lint.stderr}`).split('\n').map((l) => l.trim()).filter((l) => /\u2717|error/i.test(l));
        throw new LogosError('OPENSHELL_FAILED', `openshell refused Logos' provider profile '${profile.id}': ${said.join(' ') || parseErrorText(lint.stderr)}`, {
          hint: 'This is a bug in Logos or an OpenShell release it does not know; see `openshell -V` and README "OpenShell versions".',
          details: { gateway: t.gateway, workspace: t.workspace, profile: profile.id },
        });
      }
      await this.ok(t, ['profile', 'import', '-f', file], `import profile '${profile.id}'`);
    });
  }

  async profileUpdate(t: OsTarget, profile: OsProfile): Promise<void> {
    await this.needLine('0.1', 'profile update');
    await this.withProfileFile(profile, (file) => this.ok(t, ['profile', 'update', profile.id, '-f', file], `update profile '${profile.id}'`));
  }

  async profileDelete(t: OsTarget, id: string): Promise<'deleted' | 'missing'> {
    await this.needLine('0.1', 'profile delete');
    const res = await this.call(t, ['profile', 'delete', id]);
    if (res.exitCode === 0) return 'deleted';
    if (/not found/i.test(parseErrorText(res.stderr))) return 'missing';
    throw this.failure(res, `delete profile '${id}'`, t);
  }

  async sandboxCreate(t: OsTarget, spec: OsSandboxSpec): Promise<void> {
    const line = await this.line();
    // --from takes the full image reference: a bare name is tried as a path first (0.0.x) or
    // used verbatim (0.1.x).
    const args = ['sandbox', 'create', '--name', spec.name, '--from', spec.from, '--no-auto-providers', '--no-tty'];
    for (const p of spec.providers ?? []) args.push('--provider', p);
    for (const [k, v] of Object.entries(spec.env ?? {})) args.push('--env', `${k}=${v}`);
    if (spec.policyFile) args.push('--policy', spec.policyFile);
    // The trailing command is the main process and lives forever: --detach returns at Ready on
    // every release (0.1.x runs a trailing command in the foreground otherwise).
    args.push('--detach', '--', ...spec.command);
    const res = await this.call(t, args, { timeoutMs: 15 * 60_000 });
    if (res.exitCode === 0) return;
    const msg = parseErrorText(res.stderr);
    if (/already exists/i.test(msg)) {
      throw new LogosError('ALREADY_EXISTS', `Sandbox '${spec.name}' already exists on gateway '${t.gateway}'.`, { hint: 'Adopt it or pick another name.' });
    }
    if (line === '0.1' && /profile/i.test(msg) && /not imported|import it/i.test(msg)) {
      throw new LogosError('ROUTE_NOT_READY', `Gateway '${t.gateway}' lacks the provider profile for sandbox '${spec.name}': ${msg}`, {
        hint: 'Run `logos route sync <route>` to import it, then try again.',
      });
    }
    throw this.failure(res, `create sandbox '${spec.name}'`, t);
  }

  /** A missing workspace is not a missing sandbox: say so instead of "not found". */
  private workspaceMissing(res: RunResult, t: OsTarget): LogosError | undefined {
    const m = WORKSPACE_MISSING_RE.exec(parseErrorText(res.stderr));
    if (!m) return undefined;
    return new LogosError('NOT_FOUND', `The workspace '${m[1]}' does not exist on gateway '${t.gateway}'.`, {
      hint: 'Run `logos route sync <route>` to recreate it (a gateway rebuilt without its state volume loses its workspaces).',
      details: { gateway: t.gateway, workspace: m[1] },
    });
  }

  async sandboxGet(t: OsTarget, name: string): Promise<OsSandbox | undefined> {
    const res = await this.call(t, ['sandbox', 'get', name, '-o', 'json']);
    if (res.exitCode === 0) return this.json<OsSandbox>(res, `read sandbox '${name}'`, t);
    const ws = this.workspaceMissing(res, t);
    if (ws) throw ws;
    if (/not found/i.test(parseErrorText(res.stderr))) return undefined;
    throw this.failure(res, `read sandbox '${name}'`, t);
  }

  async sandboxList(t: OsTarget): Promise<OsSandbox[]> {
    return this.listAll<OsSandbox>(t, ['sandbox', 'list'], 'sandboxes', 'list sandboxes');
  }

  async sandboxCount(gateway: string): Promise<number> {
    return (await this.listAll<OsSandbox>({ gateway }, ['sandbox', 'list', '--all-workspaces'], 'sandboxes', 'count sandboxes')).length;
  }

  async sandboxDelete(t: OsTarget, name: string): Promise<'deleted' | 'missing'> {
    const res = await this.call(t, ['sandbox', 'delete', name]);
    if (res.exitCode === 0) {
      const said = stripAnsi(res.stdout);
      // 0.1.x: deleting a missing sandbox succeeds, and "accepted" means cleanup is still running.
      if (/already deleted/i.test(said)) return 'missing';
      if (/deletion accepted/i.test(said)) await this.waitGone(t, name);
      return 'deleted';
    }
    if (this.workspaceMissing(res, t)) {
      this.opts.logger.warn('the workspace of the sandbox is gone, so the sandbox is too', { sandbox: name, gateway: t.gateway, workspace: t.workspace });
      return 'missing';
    }
    if (/not found/i.test(parseErrorText(res.stderr))) return 'missing';
    throw this.failure(res, `delete sandbox '${name}'`, t);
  }

  /** Poll until the name is free again (a new sandbox of the same name must not meet the old one). */
  private async waitGone(t: OsTarget, name: string): Promise<void> {
    const deadline = Date.now() + (this.opts.deleteWaitMs ?? 120_000);
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (;;) {
      if (!(await this.sandboxGet(t, name).catch(() => undefined))) return;
      if (Date.now() > deadline) {
        throw new LogosError('SANDBOX_UNAVAILABLE', `Sandbox '${name}' on gateway '${t.gateway}' is still being deleted.`, {
          hint: `Check it with \`openshell -g ${t.gateway}${t.workspace ? ` --workspace ${t.workspace}` : ''} sandbox get ${name}\` and try again later.`,
        });
      }
      await sleep(500);
    }
  }

  async sandboxUpload(t: OsTarget, name: string, localPath: string, dest: string, _opts: { noGitIgnore?: boolean } = {}): Promise<void> {
    // Positional: NAME LOCAL [DEST] (there is no --name). Without --no-git-ignore a file inside a
    // git work tree is uploaded "into" DEST as if it were a directory.
    await this.ok(t, ['sandbox', 'upload', name, localPath, dest, '--no-git-ignore'], `upload to sandbox '${name}'`, { timeoutMs: 5 * 60_000 });
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
    // 0.1.x: `bash -c` instead of a login shell, so no profile script can print onto the frames.
    if (this.cachedCli?.line === '0.1') args.push('--no-login-shell');
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
      env: { ...SCRUBBED_ENV },
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
