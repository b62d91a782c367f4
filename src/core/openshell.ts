/**
 * What the core needs from OpenShell, as typed calls. src/adapters/openshell
 * implements it over the real `openshell` CLI; every call carries `-g GATEWAY`
 * (and `--workspace W` for objects that live in a workspace).
 *
 * Two release lines sit behind this port (see README "OpenShell versions"):
 * - 0.0.x (0.0.111–0.0.116): a model route is a workspace with a provider and an
 *   inference route; sandboxes call https://inference.local.
 * - 0.1.x (0.1.0–0.1.10): no inference routes; a provider backed by an imported
 *   profile is attached to each sandbox, which calls the model's own endpoint with
 *   a placeholder key the supervisor swaps at that profile's endpoints.
 * The core picks the flow from `cli().line`; the argv of each line stays in the adapter.
 */

import { LogosError } from './errors.js';
import type { OutputHandlers } from './sandboxes.js';

export type OsLine = '0.0' | '0.1';

/** The releases Logos is tested with, per line. */
export const SUPPORTED_OPENSHELL: Record<OsLine, { min: string; max: string }> = {
  '0.0': { min: '0.0.111', max: '0.0.116' },
  '0.1': { min: '0.1.0', max: '0.1.10' },
};

export const SUPPORTED_RANGE_TEXT = `${SUPPORTED_OPENSHELL['0.0'].min}–${SUPPORTED_OPENSHELL['0.0'].max} or ${SUPPORTED_OPENSHELL['0.1'].min}–${SUPPORTED_OPENSHELL['0.1'].max}`;

export interface OsCli {
  version: string;
  line: OsLine;
}

/** Compare the numeric core of two versions (pre-release and build parts ignored). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[-+]/)[0]?.split('.').map(Number) ?? [];
  const pb = b.split(/[-+]/)[0]?.split('.').map(Number) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function lineOf(version: string): OsLine | undefined {
  const m = /^(\d+)\.(\d+)\./.exec(version);
  if (!m) return undefined;
  if (m[1] === '0' && m[2] === '0') return '0.0';
  if (m[1] === '0' && m[2] === '1') return '0.1';
  return undefined;
}

/**
 * The line of a CLI version, or a refusal naming the supported range. Older than a
 * line's minimum: OPENSHELL_TOO_OLD. Newer than tested: OPENSHELL_UNSUPPORTED, except a
 * newer 0.1.x when `allowNewer` (config `openshellAllowNewer`) says to try it.
 */
export function checkOpenShellVersion(version: string, opts: { allowNewer?: boolean } = {}): OsCli {
  const line = lineOf(version);
  const upgrade = `Install OpenShell ${SUPPORTED_OPENSHELL['0.1'].max} (or ${SUPPORTED_OPENSHELL['0.0'].max} on the 0.0 line) and recreate its gateways: see README "OpenShell versions".`;
  if (!line) {
    if (compareVersions(version, '0.2.0') >= 0) {
      throw new LogosError('OPENSHELL_UNSUPPORTED', `openshell ${version} is newer than any line Logos supports (${SUPPORTED_RANGE_TEXT}).`, {
        hint: `Install OpenShell ${SUPPORTED_OPENSHELL['0.1'].max}, or a Logos release that supports ${version}.`,
        details: { version, supported: SUPPORTED_RANGE_TEXT },
      });
    }
    throw new LogosError('OPENSHELL_FAILED', `Could not make sense of the OpenShell version '${version}'.`, { hint: upgrade });
  }
  const { min, max } = SUPPORTED_OPENSHELL[line];
  if (compareVersions(version, min) < 0) {
    throw new LogosError('OPENSHELL_TOO_OLD', `openshell ${version} is older than Logos supports (${SUPPORTED_RANGE_TEXT}).`, {
      hint:
        line === '0.0'
          ? `Before ${min} a sandbox's main process kept \`sandbox create\` waiting and names were checked differently. ${upgrade}`
          : upgrade,
      details: { version, supported: SUPPORTED_RANGE_TEXT },
    });
  }
  if (compareVersions(version, max) > 0 && !(line === '0.1' && opts.allowNewer)) {
    throw new LogosError('OPENSHELL_UNSUPPORTED', `openshell ${version} is newer than Logos is tested with (${SUPPORTED_RANGE_TEXT}).`, {
      hint:
        line === '0.1'
          ? `To try it anyway as ${max}: \`logos config set openshellAllowNewer true\`. Or install OpenShell ${max}.`
          : `Install OpenShell ${max} (0.0 line) or ${SUPPORTED_OPENSHELL['0.1'].max} (0.1 line).`,
      details: { version, supported: SUPPORTED_RANGE_TEXT },
    });
  }
  return { version, line };
}

export interface OsTarget {
  gateway: string;
  workspace?: string;
}

export interface OsGatewayItem {
  name: string;
  endpoint: string;
  type: string;
  source?: string;
  auth?: string;
  active?: boolean;
  is_remote?: boolean;
}

export interface OsStatus {
  gateway: string;
  /** connected | connected_http | error | disconnected | not_configured */
  status: string;
  version?: string;
  error?: string;
  server?: string;
}

export interface OsSandbox {
  id?: string;
  name: string;
  workspace?: string;
  phase: string;
  created_at?: string;
}

export interface OsProviderItem {
  name: string;
  type: string;
  credential_keys?: string[] | number;
  config_keys?: string[] | number;
}

export interface OsProviderSpec {
  name: string;
  /** 0.0.x: a built-in type (openai, anthropic); 0.1.x: the id of an imported profile. */
  type: string;
  /** Environment variable name the credential is read from (`--credential KEY`). */
  credentialKey: string;
  /** The secret: passed in the child's environment, never on argv. */
  secret: string;
  config: Record<string, string>;
}

/** A provider profile (0.1.x, openshell-0.1.md §5): the endpoint, how its key is sent, which binaries may use it. */
export interface OsProfile {
  id: string;
  display_name: string;
  description: string;
  category: 'inference';
  inference_capable: boolean;
  credentials: Array<{ name: string; description: string; env_vars: string[]; required: boolean; auth_style: 'bearer' | 'header'; header_name: string }>;
  endpoints: Array<{ host: string; port: number; protocol: 'rest'; access: 'read-write'; enforcement: 'enforce' }>;
  binaries: string[];
  /** Set on what the gateway returns (`profile export`); needed to update it. */
  resource_version?: number;
}

export interface OsSandboxSpec {
  name: string;
  /** A full image reference (never a bare name, never a path). */
  from: string;
  policyFile?: string;
  /** The sandbox's main process; it must live forever. */
  command: string[];
  /** 0.1.x: providers attached at creation. */
  providers?: string[];
  /** Environment of every process in the sandbox (never secrets). */
  env?: Record<string, string>;
}

export interface OsInferenceRoute {
  provider: string;
  model: string;
  timeout?: string;
}

export interface OsExecSpec extends OutputHandlers {
  command: string[];
  input: string;
  timeoutSec: number;
  env?: Record<string, string>;
  signal?: AbortSignal;
  killAfterMs?: number;
}

export interface OsExecResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  stderrTail: string;
  durationMs: number;
  notFound: boolean;
}

export interface OpenShell {
  /** `openshell -V`, detected once and cached. */
  version(): Promise<string>;
  /** Version and line of the CLI; throws OPENSHELL_TOO_OLD / OPENSHELL_UNSUPPORTED outside the tested ranges. */
  cli(): Promise<OsCli>;
  /** Registers the gateway; the user's active gateway stays what it was (openshell would switch it). */
  gatewayAdd(name: string, endpoint: string, opts?: { local?: boolean; remote?: string }): Promise<void>;
  gatewayRemove(name: string): Promise<'removed' | 'missing'>;
  gatewayList(): Promise<OsGatewayItem[]>;
  status(gateway: string): Promise<OsStatus>;
  workspaceList(gateway: string): Promise<string[]>;
  workspaceCreate(gateway: string, name: string): Promise<'created' | 'exists'>;
  workspaceDelete(gateway: string, name: string): Promise<'deleted' | 'missing'>;
  providerList(t: OsTarget): Promise<OsProviderItem[]>;
  providerCreate(t: OsTarget, spec: OsProviderSpec): Promise<'created' | 'exists'>;
  providerUpdate(t: OsTarget, spec: OsProviderSpec): Promise<void>;
  providerDelete(t: OsTarget, name: string): Promise<'deleted' | 'missing'>;
  /** 0.0.x only. */
  inferenceSet(t: OsTarget, route: { provider: string; model: string; timeoutSec: number }): Promise<void>;
  inferenceGet(t: OsTarget): Promise<OsInferenceRoute | undefined>;
  inferenceDelete(t: OsTarget): Promise<void>;
  /** 0.1.x only: the profile as the gateway has it, or undefined. */
  profileGet(t: OsTarget, id: string): Promise<OsProfile | undefined>;
  /** 0.1.x only: `profile lint` then `profile import` (create-only). */
  profileImport(t: OsTarget, profile: OsProfile): Promise<void>;
  /** 0.1.x only: replace it; `profile.resource_version` must be the gateway's current one. */
  profileUpdate(t: OsTarget, profile: OsProfile): Promise<void>;
  profileDelete(t: OsTarget, id: string): Promise<'deleted' | 'missing'>;
  sandboxCreate(t: OsTarget, spec: OsSandboxSpec): Promise<void>;
  sandboxGet(t: OsTarget, name: string): Promise<OsSandbox | undefined>;
  sandboxList(t: OsTarget): Promise<OsSandbox[]>;
  /** Sandboxes on the gateway across all workspaces. */
  sandboxCount(gateway: string): Promise<number>;
  sandboxDelete(t: OsTarget, name: string): Promise<'deleted' | 'missing'>;
  /** `sandbox upload NAME LOCAL DEST`; noGitIgnore: a single file to an exact path (see openshell-cli.md). */
  sandboxUpload(t: OsTarget, name: string, localPath: string, dest: string, opts?: { noGitIgnore?: boolean }): Promise<void>;
  /** `sandbox download NAME SANDBOX_PATH DEST` (DEST an existing directory: the file lands in it). */
  sandboxDownload(t: OsTarget, name: string, sandboxPath: string, dest: string): Promise<void>;
  sandboxExec(t: OsTarget, name: string, spec: OsExecSpec): OsExecHandle;
}

/** Endpoints on this host must be given to a local gateway (and its sandboxes) as host.openshell.internal. */
export function gatewayVisibleEndpoint(endpoint: string, gatewayIsLocal: boolean): string {
  if (!gatewayIsLocal) return endpoint;
  const u = new URL(endpoint);
  if (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]' || u.hostname === '::1' || u.hostname === '0.0.0.0') {
    u.hostname = 'host.openshell.internal';
  }
  return u.toString().replace(/\/+$/, '');
}

/** A running `sandbox exec`. */
export interface OsExecHandle {
  result: Promise<OsExecResult>;
  kill(): void;
  /** Stop reading its output for now (a slow reader); resumeOutput continues. */
  pauseOutput?(): void;
  resumeOutput?(): void;
}
