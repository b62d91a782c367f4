import { LogosError } from '../core/errors.js';
import { provisionRoute, syncRoute, unprovisionRoute } from '../core/gateway-routes.js';
import { DEFAULT_GATEWAY, gatewayUp } from '../core/gateways.js';
import { own } from '../core/records.js';
import { addRoute, getRoute, listRoutes, removeRoute, type AddRouteResult, type RouteRecord } from '../core/routes.js';
import { deleteSandbox, sandboxesUsingRoute } from '../core/sandboxes.js';
import type { App } from './context.js';

/**
 * Route use cases, shared by `logos route …`, the daemon and the dashboard: plain
 * input, plain data out, progress through a callback.
 */

export interface Progress {
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface AddRouteRequest {
  spec: string;
  endpoint?: string;
  name?: string;
  makeDefault?: boolean;
  timeoutSec?: number;
  /** A gateway name; `false`: keep the route local; undefined: the default gateway when openshell is installed. */
  gateway?: string | false;
}

/** The gateway must exist; the default local one is started on demand. */
async function ensureGateway(a: App, name: string, p: Progress): Promise<void> {
  const rec = own((await a.gateways.read()).gateways, name);
  if (rec && rec.state !== 'down') return;
  const known = (await a.openshell().gatewayList()).some((g) => g.name === name);
  if (known && !rec) return;
  if (name !== DEFAULT_GATEWAY && !rec?.managed) {
    throw new LogosError('NOT_FOUND', `No gateway named '${name}'.`, {
      hint: `Start a local one with \`logos gateway up ${name}\` or register one with \`logos gateway add <endpoint> --name ${name}\`.`,
    });
  }
  p.onProgress?.(`Starting the local gateway ${name}`);
  try {
    await gatewayUp(a.gatewayCtx(p.onProgress ? { progress: p.onProgress } : {}), { name });
  } catch (err) {
    if (err instanceof LogosError && /^(DOCKER_|GATEWAY_|PORT_IN_USE)/.test(err.code)) {
      throw new LogosError(err.code, `${err.message} (needed to start the local gateway '${name}' for this route)`, {
        hint: `${err.hint ?? ''} Or keep the route local (bubblewrap sandboxes): add --no-gateway.`.trim(),
        details: err.details,
        cause: err,
      });
    }
    throw err;
  }
}

export async function addRouteUseCase(a: App, req: AddRouteRequest, p: Progress = {}): Promise<AddRouteResult> {
  const gateway = req.gateway === false ? undefined : (req.gateway ?? (a.openshellByDefault() ? DEFAULT_GATEWAY : undefined));
  if (gateway) await ensureGateway(a, gateway, p);
  const res = await addRoute(a.routeCtx(), {
    spec: req.spec,
    ...(req.endpoint ? { endpoint: req.endpoint } : {}),
    ...(req.name ? { name: req.name } : {}),
    ...(req.makeDefault ? { makeDefault: true } : {}),
    ...(req.timeoutSec !== undefined ? { timeoutSec: req.timeoutSec } : {}),
    ...(gateway ? { gateway } : {}),
  });
  if (!gateway) return res;
  p.onProgress?.(`Provisioning workspace ${res.route.workspace} on gateway ${gateway}`);
  return { ...res, route: await provisionRoute(a.gatewayRouteCtx(), res.route) };
}

export interface SyncResult {
  route: string;
  ok: boolean;
  skipped?: string;
  error?: ReturnType<LogosError['toJSON']>;
}

/** Re-push key and base URL of one route (errors thrown) or of every gateway route (errors collected). */
export async function syncRoutesUseCase(a: App, name: string | undefined): Promise<SyncResult[]> {
  const targets = name ? [await getRoute(a.routeCtx(), name)] : (await listRoutes(a.routeCtx())).routes.filter((r) => r.gateway);
  const results: SyncResult[] = [];
  for (const r of targets) {
    if (!r.gateway) {
      results.push({ route: r.name, ok: true, skipped: 'local route: the key is added by the host proxy at each run' });
      continue;
    }
    try {
      await syncRoute(a.gatewayRouteCtx(), r);
      results.push({ route: r.name, ok: true });
    } catch (err) {
      if (!(err instanceof LogosError) || targets.length === 1) throw err;
      results.push({ route: r.name, ok: false, error: err.toJSON() });
    }
  }
  return results;
}

/** Remove a route; with `force`, the sandboxes that use it first. The gateway side goes first, so a failure keeps the record. */
export async function removeRouteUseCase(a: App, name: string, force: boolean): Promise<{ removed: RouteRecord; deletedSandboxes: string[] }> {
  const r = await getRoute(a.routeCtx(), name);
  const used = await sandboxesUsingRoute(a.sandboxCtx(), name);
  if (used.length > 0 && !force) await removeRoute(a.routeCtx(), name, used, false); // throws IN_USE with the hint
  for (const sb of used) await deleteSandbox(a.sandboxCtx(), sb);
  if (r.gateway) await unprovisionRoute(a.gatewayRouteCtx(), r);
  const removed = await removeRoute(a.routeCtx(), name, [], true);
  return { removed, deletedSandboxes: used };
}

/** Push a new key into every gateway route of its provider (after `creds set`). */
export async function pushKeyToGateways(a: App, provider: string): Promise<{ synced: string[]; failed: Array<{ route: string; error: ReturnType<LogosError['toJSON']> }> }> {
  const onGateways = Object.values((await a.routes.read()).routes).filter((r) => r.provider === provider && r.gateway);
  const synced: string[] = [];
  const failed: Array<{ route: string; error: ReturnType<LogosError['toJSON']> }> = [];
  for (const r of onGateways) {
    try {
      await syncRoute(a.gatewayRouteCtx(), r);
      synced.push(r.name);
    } catch (err) {
      const e = err instanceof LogosError ? err : new LogosError('INTERNAL', String(err));
      failed.push({ route: r.name, error: e.toJSON() });
    }
  }
  return { synced, failed };
}
