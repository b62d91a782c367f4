import { access, constants } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runProcess } from '../adapters/exec/runner.js';
import { findExecutable } from '../adapters/exec/which.js';
import { isLogosError } from '../core/errors.js';
import { gatewayStatus } from '../core/gateways.js';
import type { App } from './context.js';
import { getProviderStatuses } from './provider-status.js';

/**
 * `logos doctor`: every dependency and every piece of local state checked, each
 * with OK / WARN / FAIL, a reason code and the exact command that fixes it. `fix`
 * repairs what can be repaired safely (file modes); `network` also probes the
 * providers now instead of reading the cached results.
 */

export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  check: string;
  status: CheckStatus;
  code: string;
  message: string;
  fix?: string;
  fixed?: boolean;
}

export interface DoctorOptions {
  fix?: boolean;
  network?: boolean;
  /** The daemon as found by the caller (pid file, token mode). */
  daemon?: { running: boolean; tokenFile: string; tokenMode?: number; fixTokenMode?: () => boolean };
}

function ok(check: string, message: string): Check {
  return { check, status: 'OK', code: 'OK', message };
}

function versionAtLeast(v: string, min: [number, number, number]): boolean {
  const p = v.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const a = p[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

async function writable(dir: string): Promise<boolean> {
  // A directory not made yet counts when its nearest existing parent is writable.
  let d = dir;
  for (;;) {
    try {
      await access(d, constants.W_OK);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
      const up = dirname(d);
      if (up === d) return false;
      d = up;
    }
  }
}

export async function runDoctor(a: App, opts: DoctorOptions = {}): Promise<{ ok: boolean; checks: Check[] }> {
  const checks: Check[] = [];
  const path = a.env.PATH;

  const node = process.versions.node;
  checks.push(versionAtLeast(node, [20, 5, 0]) ? ok('node', `Node.js ${node}`) : { check: 'node', status: 'FAIL', code: 'NODE_TOO_OLD', message: `Node.js ${node} is older than 20.5.`, fix: 'Install Node.js 20.5 or newer (e.g. from nodejs.org or your distribution).' });

  const bwrap = findExecutable(a.config.binaries.bwrap, path);
  if (!bwrap) {
    checks.push({ check: 'bubblewrap', status: 'FAIL', code: 'BWRAP_MISSING', message: 'bubblewrap (bwrap) is not installed; local sandboxes cannot run.', fix: 'sudo apt-get install bubblewrap   (Fedora: sudo dnf install bubblewrap)' });
  } else {
    const r = await runProcess(bwrap, ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--', 'true'], { timeoutMs: 10_000, env: { PATH: '/usr/bin:/bin' }, extendEnv: false });
    checks.push(
      r.exitCode === 0
        ? ok('bubblewrap', `${bwrap} can make a sandbox`)
        : { check: 'bubblewrap', status: 'FAIL', code: 'BWRAP_FAILED', message: `bwrap cannot make a sandbox here: ${r.stderrTail.trim().split('\n').pop() ?? `exit ${r.exitCode}`}`, fix: 'Allow unprivileged user namespaces: sudo sysctl -w kernel.unprivileged_userns_clone=1 (Ubuntu 24.04+: an AppArmor profile for bwrap).' },
    );
  }

  const routes = Object.values((await a.routes.read()).routes);
  const needsGateway = routes.some((r) => r.gateway);
  const openshell = findExecutable(a.config.binaries.openshell, path);
  if (!openshell) {
    checks.push(needsGateway ? { check: 'openshell', status: 'FAIL', code: 'OPENSHELL_MISSING', message: 'Routes on gateways need the openshell CLI, which is not installed.', fix: 'Install OpenShell (see its documentation), or re-add those routes with --no-gateway.' } : { check: 'openshell', status: 'OK', code: 'OK', message: 'not installed (only needed for OpenShell gateways)' });
  } else {
    try {
      checks.push(ok('openshell', `openshell ${await a.openshell().version()}`));
    } catch (err) {
      checks.push({ check: 'openshell', status: 'FAIL', code: isLogosError(err) ? err.code : 'OPENSHELL_FAILED', message: err instanceof Error ? err.message : String(err), ...(isLogosError(err) && err.hint ? { fix: err.hint } : {}) });
    }
  }

  const docker = findExecutable(a.config.binaries.docker, path);
  const managed = Object.values((await a.gateways.read()).gateways).some((g) => g.managed);
  if (!docker) {
    checks.push(managed ? { check: 'docker', status: 'FAIL', code: 'DOCKER_MISSING', message: 'A local gateway needs docker, which is not installed.', fix: 'Install Docker Engine, or use a remote gateway (`logos gateway add`).' } : ok('docker', 'not installed (only needed for local gateways and images)'));
  } else {
    try {
      checks.push(ok('docker', `docker engine ${await a.docker().engineVersion()}`));
    } catch (err) {
      checks.push({ check: 'docker', status: managed ? 'FAIL' : 'WARN', code: isLogosError(err) ? err.code : 'DOCKER_FAILED', message: err instanceof Error ? err.message : String(err), fix: 'Start it: sudo systemctl start docker (needed for local gateways and images only).' });
    }
  }

  for (const [name, dir] of [
    ['state directory', a.paths.state],
    ['log directory', a.paths.logs],
    ['config directory', a.paths.config],
  ] as const) {
    checks.push((await writable(dir)) ? ok(name, `${dir} is writable`) : { check: name, status: 'FAIL', code: 'PATH_NOT_WRITABLE', message: `${dir} is not writable.`, fix: `Fix its owner or mode (ls -ld ${dir}), or set LOGOS_HOME to a directory you own.` });
  }

  try {
    await a.vault.checkPermissions();
    checks.push(ok('credentials file', 'private (0700 directory, no access for others)'));
  } catch (err) {
    if (!(isLogosError(err) && err.code === 'PERMISSION_NOT_600')) throw err;
    if (opts.fix) {
      const fixed = await a.vault.fixPermissions();
      checks.push({ check: 'credentials file', status: 'OK', code: 'OK', message: `modes repaired: ${fixed.join(', ')}`, fixed: true });
    } else checks.push({ check: 'credentials file', status: 'FAIL', code: 'PERMISSION_NOT_600', message: err.message, fix: 'logos creds fix-permissions   (or: logos doctor --fix)' });
  }

  const d = opts.daemon;
  if (d?.running) {
    if (d.tokenMode !== undefined && (d.tokenMode & 0o077) !== 0) {
      if (opts.fix && d.fixTokenMode?.()) checks.push({ check: 'daemon', status: 'OK', code: 'OK', message: `running; token mode repaired (${d.tokenFile})`, fixed: true });
      else checks.push({ check: 'daemon', status: 'FAIL', code: 'PERMISSION_NOT_600', message: `The daemon token ${d.tokenFile} is readable by others.`, fix: `chmod 600 ${d.tokenFile}   (or: logos doctor --fix)` });
    } else checks.push(ok('daemon', 'running, token private'));
  } else checks.push({ check: 'daemon', status: 'WARN', code: 'DAEMON_NOT_RUNNING', message: 'No daemon runs (optional: it serves the API, the dashboard and background probes).', fix: 'logos daemon start   (or logos daemon install for systemd)' });

  const gws = Object.keys((await a.gateways.read()).gateways);
  if (gws.length > 0 && openshell) {
    for (const g of await gatewayStatus(a.gatewayCtx(), gws).catch(() => [])) {
      checks.push(g.reachable ? ok(`gateway ${g.name}`, `reachable${g.version ? `, ${g.version}` : ''} (${g.latency_ms} ms)`) : { check: `gateway ${g.name}`, status: 'FAIL', code: 'GATEWAY_UNREACHABLE', message: `${g.name} is not reachable (${g.status}${g.error ? `: ${g.error}` : ''}).`, fix: `logos gateway status ${g.name}; a local one: logos gateway up ${g.name}` });
    }
  }

  const providers = await getProviderStatuses(a, opts.network ? { refresh: true } : { cacheOnly: true }).catch((err: unknown) => {
    checks.push({ check: 'providers', status: 'WARN', code: isLogosError(err) ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
    return [];
  });
  for (const p of providers) {
    const name = `provider ${p.provider}`;
    if (p.reason === 'OK') checks.push(ok(name, `${p.endpoint} answers${p.cached ? ` (checked ${p.checked_at})` : ''}`));
    else checks.push({ check: name, status: p.reason === 'STALE_REFRESH' ? 'WARN' : 'FAIL', code: p.reason, message: `${p.endpoint}: ${p.message ?? p.reason}`, fix: p.hint });
  }
  if (providers.length === 0 && routes.length === 0) checks.push({ check: 'routes', status: 'WARN', code: 'NO_DEFAULT_ROUTE', message: 'No model route yet.', fix: 'logos route add lmstudio/<model> --default   (or try: logos demo)' });

  return { ok: !checks.some((c) => c.status === 'FAIL'), checks };
}
