import type { Clock, Logger } from './context.js';
import { LogosError } from './errors.js';
import { gatewayVisibleEndpoint, type OpenShell, type OsProviderSpec, type OsTarget } from './openshell.js';
import type { CredentialSource, Records } from './ports.js';
import { getProvider } from './providers.js';
import type { RouteRecord, RoutesFile } from './routes.js';
import { own } from './records.js';

/**
 * A model route on a gateway is an OpenShell workspace: one provider and one
 * inference route (provider + model) per workspace, so one gateway serves many
 * models. Every call carries `-g GATEWAY --workspace WORKSPACE`.
 */

export const WORKSPACE_MAX = 19;

/** Stable 32-bit FNV-1a, base36. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, '0').slice(-5);
}

/**
 * A DNS-1123 label of at most 19 characters derived from the route name: the name
 * itself when it fits, otherwise a prefix plus a short stable hash. `taken` are the
 * workspaces other routes already use on the same gateway.
 */
export function workspaceNameFor(routeName: string, taken: ReadonlySet<string> = new Set()): string {
  const clean = routeName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'route';
  const candidates = [clean.length <= WORKSPACE_MAX ? clean : undefined];
  for (let i = 0; i < 50; i++) {
    const h = shortHash(i === 0 ? clean : `${clean}#${i}`);
    const prefix = clean.slice(0, WORKSPACE_MAX - h.length - 1).replace(/-+$/, '');
    candidates.push(`${prefix || 'r'}-${h}`);
  }
  for (const c of candidates) if (c && !taken.has(c)) return c;
  throw new LogosError('INTERNAL', `Could not derive a free workspace name for route '${routeName}'.`);
}

/** The provider Logos creates in a route's workspace. */
export function providerNameFor(route: Pick<RouteRecord, 'provider'>): string {
  return `logos-${route.provider}`;
}

export interface GatewayRouteContext {
  routes: Records<RoutesFile>;
  openshell: OpenShell;
  credentials: CredentialSource;
  clock: Clock;
  logger: Logger;
  /** Is this gateway on this machine (so 127.0.0.1 must become host.openshell.internal)? */
  gatewayIsLocal: (gateway: string) => Promise<boolean>;
}

/** Placeholder for local servers that want no key; provider create still needs a credential. */
const NO_KEY_PLACEHOLDER = 'logos-no-key';

async function providerSpec(ctx: GatewayRouteContext, route: RouteRecord): Promise<OsProviderSpec> {
  const info = getProvider(route.provider);
  const cred = await ctx.credentials.get(info.id, info.keyEnv);
  if (!cred && info.needsKey) {
    throw new LogosError('NO_CREDENTIAL', `No key for ${info.label}; the gateway needs one for route '${route.name}'.`, {
      hint: `Store it with \`logos creds set ${info.id}\`${info.keyEnv ? ` (or set ${info.keyEnv})` : ''}, then \`logos route sync ${route.name}\`.`,
    });
  }
  const endpoint = gatewayVisibleEndpoint(route.endpoint, route.gateway ? await ctx.gatewayIsLocal(route.gateway) : false);
  const config: Record<string, string> = {};
  let credentialKey: string;
  if (info.openshellType === 'anthropic') {
    credentialKey = 'ANTHROPIC_API_KEY';
    if (info.defaultEndpoint !== route.endpoint) config.ANTHROPIC_BASE_URL = endpoint;
  } else {
    credentialKey = 'OPENAI_API_KEY';
    config.OPENAI_BASE_URL = endpoint;
  }
  return { name: providerNameFor(route), type: info.openshellType, credentialKey, secret: cred?.value ?? NO_KEY_PLACEHOLDER, config };
}

function target(route: RouteRecord): OsTarget {
  if (!route.gateway || !route.workspace) {
    throw new LogosError('INVALID_ARGUMENT', `Route '${route.name}' is not on a gateway.`, { hint: 'Gateway routes are added with `logos route add … --gateway NAME`.' });
  }
  return { gateway: route.gateway, workspace: route.workspace };
}

async function setStatus(ctx: GatewayRouteContext, name: string, status: RouteRecord['status'], detail?: string): Promise<void> {
  await ctx.routes.update((file) => {
    const r = own(file.routes, name);
    if (!r) return;
    r.status = status;
    if (detail) r.status_detail = detail;
    else delete r.status_detail;
  });
}

/** Run one provisioning step; on failure the route goes to error with the step's name. */
async function step<T>(ctx: GatewayRouteContext, route: RouteRecord, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err instanceof LogosError ? err : new LogosError('OPENSHELL_FAILED', (err as Error).message, { cause: err });
    await setStatus(ctx, route.name, 'error', `${name}: ${e.message}`);
    ctx.logger.error('route provisioning failed', { route: route.name, gateway: route.gateway, workspace: route.workspace, step: name, error: e.message });
    throw new LogosError(e.code, `Route '${route.name}' failed at "${name}": ${e.message}`, {
      hint: e.hint ?? `Fix the cause, then retry with \`logos route sync ${route.name}\`.`,
      details: { ...e.details, route: route.name, step: name },
      cause: e,
    });
  }
}

/** Create the workspace, the provider (or update it) and the inference route. provisioning → ready | error. */
export async function provisionRoute(ctx: GatewayRouteContext, route: RouteRecord): Promise<RouteRecord> {
  const t = target(route);
  await setStatus(ctx, route.name, 'provisioning');
  await step(ctx, route, 'check openshell', () => ctx.openshell.requireWorkspaces());
  const spec = await step(ctx, route, 'read the credential', () => providerSpec(ctx, route));
  await step(ctx, route, 'create workspace', () => ctx.openshell.workspaceCreate(t.gateway, t.workspace as string));
  await step(ctx, route, 'create provider', async () => {
    const r = await ctx.openshell.providerCreate(t, spec);
    if (r === 'exists') await ctx.openshell.providerUpdate(t, spec);
  });
  await step(ctx, route, 'set inference route', () => ctx.openshell.inferenceSet(t, { provider: spec.name, model: route.model, timeoutSec: route.timeout_sec }));
  await setStatus(ctx, route.name, 'ready');
  ctx.logger.info('route provisioned', { route: route.name, gateway: t.gateway, workspace: t.workspace });
  return { ...route, status: 'ready' };
}

/**
 * Re-push the credential and base URL into the route's workspace (stale keys and
 * URLs inside gateways broke dispatch before), and restore the inference route if it drifted.
 */
export async function syncRoute(ctx: GatewayRouteContext, route: RouteRecord): Promise<void> {
  const t = target(route);
  const spec = await step(ctx, route, 'read the credential', () => providerSpec(ctx, route));
  await step(ctx, route, 'update provider', async () => {
    let names: string[];
    try {
      names = (await ctx.openshell.providerList(t)).map((p) => p.name);
    } catch (err) {
      // The workspace itself is gone (e.g. a gateway rebuilt without its volume): recreate it.
      if (!(err instanceof LogosError) || !/workspace.*not found/i.test(err.message)) throw err;
      await ctx.openshell.workspaceCreate(t.gateway, t.workspace as string);
      names = [];
    }
    if (names.includes(spec.name)) await ctx.openshell.providerUpdate(t, spec);
    else await ctx.openshell.providerCreate(t, spec);
  });
  await step(ctx, route, 'check inference route', async () => {
    const cur = await ctx.openshell.inferenceGet(t);
    if (!cur || cur.provider !== spec.name || cur.model !== route.model) {
      await ctx.openshell.inferenceSet(t, { provider: spec.name, model: route.model, timeoutSec: route.timeout_sec });
    }
  });
  if (route.status !== 'ready') await setStatus(ctx, route.name, 'ready');
  ctx.logger.info('route synced', { route: route.name, gateway: t.gateway, workspace: t.workspace });
}

/**
 * Remove what the route has on its gateway: the inference route, the provider and
 * the workspace (its sandboxes are deleted first by the caller). A failed remote
 * call keeps the local record (marked error) so it can be retried, never forgotten.
 */
export async function unprovisionRoute(ctx: GatewayRouteContext, route: RouteRecord): Promise<void> {
  const t = target(route);
  await step(ctx, route, 'delete inference route', () => ctx.openshell.inferenceDelete(t));
  await step(ctx, route, 'delete provider', () => ctx.openshell.providerDelete(t, providerNameFor(route)));
  await step(ctx, route, 'delete workspace', () => ctx.openshell.workspaceDelete(t.gateway, t.workspace as string));
}
