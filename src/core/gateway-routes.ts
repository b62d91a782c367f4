import type { Clock, Logger } from './context.js';
import { LogosError } from './errors.js';
import { OPENSHELL_NAME_MAX, shortOpenShellName } from './names.js';
import { gatewayVisibleEndpoint, type OpenShell, type OsLine, type OsProviderItem, type OsProviderSpec, type OsTarget } from './openshell.js';
import { baseUrlVarFor, credentialKeyFor, profileFor, profileIdFor, sameProfile } from './profiles.js';
import type { CredentialSource, Records } from './ports.js';
import { getProvider } from './providers.js';
import type { RouteRecord, RoutesFile } from './routes.js';
import { own } from './records.js';

/**
 * A model route on a gateway is an OpenShell workspace, so one gateway serves many
 * models. Every call carries `-g GATEWAY --workspace WORKSPACE`. What lives in it:
 * - 0.0.x: a provider (type openai|anthropic, key and base URL) and the workspace's
 *   one inference route (provider + model) behind https://inference.local;
 * - 0.1.x: a provider profile for the model endpoint (imported, since a gateway has
 *   none built in) and a provider of that type holding the key; each sandbox of the
 *   route gets the provider attached and the endpoint's base URL in its environment.
 */

export const WORKSPACE_MAX = OPENSHELL_NAME_MAX;

/**
 * A DNS-1123 label of at most 19 characters derived from the route name: the name
 * itself when it fits, otherwise a prefix plus a short stable hash. `taken` are the
 * workspaces other routes already use on the same gateway.
 */
export function workspaceNameFor(routeName: string, taken: ReadonlySet<string> = new Set()): string {
  return shortOpenShellName(routeName, taken);
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

/** The route's endpoint as the gateway and its sandboxes reach it. */
async function visibleEndpoint(ctx: GatewayRouteContext, route: RouteRecord): Promise<string> {
  return gatewayVisibleEndpoint(route.endpoint, route.gateway ? await ctx.gatewayIsLocal(route.gateway) : false);
}

async function providerSpec(ctx: GatewayRouteContext, route: RouteRecord, line: OsLine): Promise<OsProviderSpec> {
  const info = getProvider(route.provider);
  const cred = await ctx.credentials.get(info.id, info.keyEnv);
  if (!cred && info.needsKey) {
    throw new LogosError('NO_CREDENTIAL', `No key for ${info.label}; the gateway needs one for route '${route.name}'.`, {
      hint: `Store it with \`logos creds set ${info.id}\`${info.keyEnv ? ` (or set ${info.keyEnv})` : ''}, then \`logos route sync ${route.name}\`.`,
    });
  }
  const endpoint = await visibleEndpoint(ctx, route);
  if (line === '0.1') {
    // The profile says where the key may go; the base URL is the sandbox's own setting.
    return { name: providerNameFor(route), type: profileIdFor(route), credentialKey: credentialKeyFor(route), secret: cred?.value ?? NO_KEY_PLACEHOLDER, config: {} };
  }
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

/** The profile on the gateway says what ours says: import it, or update the gateway's copy. */
async function ensureProfile(ctx: GatewayRouteContext, route: RouteRecord, t: OsTarget): Promise<void> {
  const want = profileFor(route, await visibleEndpoint(ctx, route));
  const have = await ctx.openshell.profileGet(t, want.id);
  if (!have) await ctx.openshell.profileImport(t, want);
  else if (!sameProfile(have, want)) await ctx.openshell.profileUpdate(t, { ...want, ...(have.resource_version !== undefined ? { resource_version: have.resource_version } : {}) });
}

/**
 * The provider exists, of the right type, with the current key (and, on 0.0.x, base URL).
 * A provider of another type is replaced: after an upgrade to 0.1.x the gateway keeps the
 * 0.0.x provider (type openai|anthropic), whose profile does not exist there.
 */
async function ensureProvider(ctx: GatewayRouteContext, t: OsTarget, spec: OsProviderSpec, known?: OsProviderItem[]): Promise<void> {
  if (!known) {
    const r = await ctx.openshell.providerCreate(t, spec);
    if (r === 'exists') await ensureProvider(ctx, t, spec, await ctx.openshell.providerList(t));
    return;
  }
  const cur = known.find((p) => p.name === spec.name);
  if (cur && cur.type !== spec.type) {
    ctx.logger.info('replacing a provider of another type', { gateway: t.gateway, workspace: t.workspace, provider: spec.name, had: cur.type, want: spec.type });
    await ctx.openshell.providerDelete(t, spec.name);
    await ctx.openshell.providerCreate(t, spec);
  } else if (cur) await ctx.openshell.providerUpdate(t, spec);
  else await ctx.openshell.providerCreate(t, spec);
}

/**
 * Create what the route needs on its gateway (see the top of this file); provisioning → ready | error.
 * Also records the OpenShell line it was provisioned for.
 */
export async function provisionRoute(ctx: GatewayRouteContext, route: RouteRecord): Promise<RouteRecord> {
  const t = target(route);
  await setStatus(ctx, route.name, 'provisioning');
  const { line } = await step(ctx, route, 'check openshell', () => ctx.openshell.cli());
  const spec = await step(ctx, route, 'read the credential', () => providerSpec(ctx, route, line));
  await step(ctx, route, 'create workspace', () => ctx.openshell.workspaceCreate(t.gateway, t.workspace as string));
  if (line === '0.1') {
    await step(ctx, route, 'import provider profile', () => ensureProfile(ctx, route, t));
    await step(ctx, route, 'create provider', () => ensureProvider(ctx, t, spec));
  } else {
    await step(ctx, route, 'create provider', () => ensureProvider(ctx, t, spec));
    await step(ctx, route, 'set inference route', () => ctx.openshell.inferenceSet(t, { provider: spec.name, model: route.model, timeoutSec: route.timeout_sec }));
  }
  await setStatus(ctx, route.name, 'ready');
  ctx.logger.info('route provisioned', { route: route.name, gateway: t.gateway, workspace: t.workspace, openshell_line: line });
  return { ...route, status: 'ready' };
}

/**
 * Re-push the credential and base URL into the route's workspace (stale keys and
 * URLs inside gateways broke dispatch before), and restore what drifted: a workspace
 * lost with a rebuilt gateway, the inference route (0.0.x), the profile (0.1.x).
 */
export async function syncRoute(ctx: GatewayRouteContext, route: RouteRecord): Promise<void> {
  const t = target(route);
  const { line } = await step(ctx, route, 'check openshell', () => ctx.openshell.cli());
  const spec = await step(ctx, route, 'read the credential', () => providerSpec(ctx, route, line));
  const names = await step(ctx, route, 'check workspace', async () => {
    try {
      return await ctx.openshell.providerList(t);
    } catch (err) {
      // The workspace itself is gone (e.g. a gateway rebuilt without its volume): recreate it.
      if (!(err instanceof LogosError) || !/workspace.*not found/i.test(err.message)) throw err;
      await ctx.openshell.workspaceCreate(t.gateway, t.workspace as string);
      return [];
    }
  });
  if (line === '0.1') {
    await step(ctx, route, 'import provider profile', () => ensureProfile(ctx, route, t));
    await step(ctx, route, 'update provider', () => ensureProvider(ctx, t, spec, names));
  } else {
    await step(ctx, route, 'update provider', () => ensureProvider(ctx, t, spec, names));
    await step(ctx, route, 'check inference route', async () => {
      const cur = await ctx.openshell.inferenceGet(t);
      if (!cur || cur.provider !== spec.name || cur.model !== route.model) {
        await ctx.openshell.inferenceSet(t, { provider: spec.name, model: route.model, timeoutSec: route.timeout_sec });
      }
    });
  }
  if (route.status !== 'ready') await setStatus(ctx, route.name, 'ready');
  ctx.logger.info('route synced', { route: route.name, gateway: t.gateway, workspace: t.workspace, openshell_line: line });
}

/**
 * Remove what the route has on its gateway: the inference route (0.0.x), the provider,
 * the profile (0.1.x) and the workspace (its sandboxes are deleted first by the caller).
 * A failed remote call keeps the local record (marked error) so it can be retried, never forgotten.
 */
export async function unprovisionRoute(ctx: GatewayRouteContext, route: RouteRecord): Promise<void> {
  const t = target(route);
  const { line } = await step(ctx, route, 'check openshell', () => ctx.openshell.cli());
  if (line === '0.0') await step(ctx, route, 'delete inference route', () => ctx.openshell.inferenceDelete(t));
  await step(ctx, route, 'delete provider', () => ctx.openshell.providerDelete(t, providerNameFor(route)));
  if (line === '0.1') await step(ctx, route, 'delete provider profile', () => ctx.openshell.profileDelete(t, profileIdFor(route)));
  await step(ctx, route, 'delete workspace', () => ctx.openshell.workspaceDelete(t.gateway, t.workspace as string));
}

/**
 * What a new OpenShell sandbox of this route needs on 0.1.x: the route's provider
 * attached, and the model's base URL in its environment (the worker sends the real
 * model id to it with the placeholder key). Nothing on 0.0.x (the workspace's
 * inference route does it).
 */
export async function routeSandboxSpec(ctx: GatewayRouteContext, route: RouteRecord, line: OsLine): Promise<{ providers: string[]; env: Record<string, string> }> {
  if (line === '0.0') return { providers: [], env: {} };
  return { providers: [providerNameFor(route)], env: { [baseUrlVarFor(route)]: await visibleEndpoint(ctx, route) } };
}
