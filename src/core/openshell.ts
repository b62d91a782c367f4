/**
 * What the core needs from OpenShell, as typed calls. src/adapters/openshell
 * implements it over the real `openshell` CLI; every call carries `-g GATEWAY`
 * (and `--workspace W` for objects that live in a workspace).
 */

import type { OutputHandlers } from './sandboxes.js';

/** Workspaces (and so one inference route per workspace) exist since this version. */
export const MIN_WORKSPACE_VERSION = '0.0.95';

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
  type: string;
  /** Environment variable name the credential is read from (`--credential KEY`). */
  credentialKey: string;
  /** The secret: passed in the child's environment, never on argv. */
  secret: string;
  config: Record<string, string>;
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
  /** Throws OPENSHELL_TOO_OLD when the CLI has no workspaces. */
  requireWorkspaces(): Promise<void>;
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
  inferenceSet(t: OsTarget, route: { provider: string; model: string; timeoutSec: number }): Promise<void>;
  inferenceGet(t: OsTarget): Promise<OsInferenceRoute | undefined>;
  inferenceDelete(t: OsTarget): Promise<void>;
  sandboxCreate(t: OsTarget, spec: { name: string; from: string; policyFile?: string; command: string[] }): Promise<void>;
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

/** Endpoints on this host must be given to a local gateway as host.openshell.internal. */
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
