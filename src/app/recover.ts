import { findExecutable } from '../adapters/exec/which.js';
import { LogosError } from '../core/errors.js';
import { containerName, gatewayUp } from '../core/gateways.js';
import type { SandboxStatus } from '../core/sandboxes.js';
import type { App } from './context.js';

/**
 * After a reboot (or a crash of docker): the local gateways Logos started come back,
 * and the sandboxes on them are looked at again. Run by the daemon when it starts.
 *
 * - A gateway Logos started and did not take down (`state` not `down`) whose container
 *   is not running is brought up again through the same use case as `logos gateway up`
 *   (same port, its state volume kept, a restart policy on the new container).
 * - Sandboxes on those gateways keep their records whatever happens: each one's phase is
 *   asked again and reported; a sandbox the gateway no longer has is reported as
 *   `Missing`, never dropped (a list call that failed proves nothing).
 * - Nothing is done for gateways Logos did not start (remote ones) or took down.
 */

export interface RecoveredGateway {
  name: string;
  /** running: nothing to do; started: brought back; failed: could not (see detail). */
  action: 'running' | 'started' | 'failed';
  detail?: string;
}

export interface RecoveryReport {
  gateways: RecoveredGateway[];
  sandboxes: Array<{ name: string; gateway: string; phase: SandboxStatus['phase']; detail?: string }>;
}

export async function recoverAfterRestart(a: App): Promise<RecoveryReport> {
  const report: RecoveryReport = { gateways: [], sandboxes: [] };
  const file = await a.gateways.read();
  const managed = Object.values(file.gateways).filter((g) => g.managed && g.kind === 'local' && g.state !== 'down');
  if (managed.length === 0) return report;
  const log = a.logger.child({ source: 'daemon' });
  const ctx = a.gatewayCtx();
  const dockerThere = !!findExecutable(a.config.binaries.docker, a.env.PATH);
  const openshellThere = !!findExecutable(a.config.binaries.openshell, a.env.PATH);
  const brought = new Set<string>();
  for (const g of managed) {
    if (!dockerThere || !openshellThere) {
      report.gateways.push({ name: g.name, action: 'failed', detail: `${!dockerThere ? 'docker' : 'openshell'} is not installed` });
      continue;
    }
    try {
      const info = await ctx.docker.inspect(g.container ?? containerName(g.name));
      if (info?.running) {
        // Running: its sandboxes are the probe loop's business, as usual.
        report.gateways.push({ name: g.name, action: 'running' });
        continue;
      }
      log.info('bringing a local gateway back', { gateway: g.name, container: info ? info.status : 'missing' });
      await gatewayUp(ctx, { name: g.name, ...(g.port ? { port: g.port } : {}) });
      report.gateways.push({ name: g.name, action: 'started', detail: info ? `its container was ${info.status}` : 'its container was gone' });
      brought.add(g.name);
    } catch (err) {
      const detail = err instanceof LogosError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
      report.gateways.push({ name: g.name, action: 'failed', detail });
      log.warn('could not bring a local gateway back', { gateway: g.name, error: detail });
    }
  }
  // The sandboxes on the gateways brought back: their phases, records kept either way.
  const sandboxes = (await a.sandboxes.read()).sandboxes;
  for (const s of Object.values(sandboxes)) {
    if (s.driver !== 'openshell' || !s.gateway || !brought.has(s.gateway)) continue;
    const st = await a
      .driver(s.driver)
      .status(s)
      .catch((e: unknown) => ({ phase: 'Unknown' as const, detail: e instanceof Error ? e.message : String(e) }));
    report.sandboxes.push({ name: s.name, gateway: s.gateway, phase: st.phase, ...(st.detail ? { detail: st.detail } : {}) });
  }
  const started = report.gateways.filter((g) => g.action === 'started').map((g) => g.name);
  const failed = report.gateways.filter((g) => g.action === 'failed').map((g) => g.name);
  const notReady = report.sandboxes.filter((s) => s.phase !== 'Ready').map((s) => `${s.name} (${s.phase})`);
  log.info('recovery after start', { gateways_started: started, gateways_failed: failed, sandboxes_checked: report.sandboxes.length, sandboxes_not_ready: notReady });
  return report;
}
