import type { Clock, Logger } from './context.js';
import { LogosError } from './errors.js';
import { sanitizeModelId, validateModelId, validateRouteName } from './names.js';
import type { Records } from './ports.js';
import type { RouteApi } from './protocol.js';
import { getProvider, normalizeEndpoint, parseProviderModel } from './providers.js';
import { workspaceNameFor } from './gateway-routes.js';
import { own } from './records.js';

/**
 * A model route pins one provider + model (+ endpoint). Sandboxes are bound to
 * one route for their whole life, as an OpenShell sandbox's workspace fixes its model.
 */
export type RouteStatus = 'ready' | 'provisioning' | 'error';

export interface RouteRecord {
  name: string;
  provider: string;
  model: string;
  api: RouteApi;
  endpoint: string;
  /** Per-request upstream timeout for the route (seconds). */
  timeout_sec: number;
  created_at: string;
  status: RouteStatus;
  status_detail?: string;
  /** Set when the route lives on an OpenShell gateway (issue: gateways). */
  gateway?: string;
  workspace?: string;
  /** True when Logos started the endpoint itself (`logos demo`). */
  demo?: boolean;
}

export interface RoutesFile {
  version: 1;
  default?: string;
  routes: Record<string, RouteRecord>;
}

export const emptyRoutes = (): RoutesFile => ({ version: 1, routes: {} });

export interface RouteContext {
  routes: Records<RoutesFile>;
  clock: Clock;
  logger: Logger;
  /** Finds a reachable local model server among candidate base URLs (first that answers). */
  discover?: (candidates: string[]) => Promise<string | undefined>;
}

export interface AddRouteInput {
  spec: string;
  endpoint?: string;
  name?: string;
  makeDefault?: boolean;
  timeoutSec?: number;
  demo?: boolean;
  /** Replace an existing route with the same name instead of failing. */
  replace?: boolean;
  /** Put the route on this OpenShell gateway (as its own workspace); it starts as provisioning. */
  gateway?: string;
}

export interface AddRouteResult {
  route: RouteRecord;
  isDefault: boolean;
  /** How the endpoint was chosen. */
  endpointSource: 'flag' | 'discovered' | 'default';
  /** Set when a local server was not reachable at add time. */
  warning?: string;
}

export async function addRoute(ctx: RouteContext, input: AddRouteInput): Promise<AddRouteResult> {
  const { provider: providerId, model } = parseProviderModel(input.spec);
  const provider = getProvider(providerId);
  validateModelId(model);
  const name = validateRouteName(input.name ?? sanitizeModelId(model));

  let endpoint: string;
  let endpointSource: AddRouteResult['endpointSource'];
  let warning: string | undefined;
  if (input.endpoint) {
    endpoint = normalizeEndpoint(input.endpoint);
    endpointSource = 'flag';
  } else if (!provider.defaultEndpoint) {
    throw new LogosError('INVALID_ARGUMENT', `Provider '${provider.id}' needs --endpoint.`, {
      hint: `For example: logos route add ${provider.id}/${model} --endpoint http://127.0.0.1:8000/v1`,
    });
  } else if (provider.local && ctx.discover) {
    const found = await ctx.discover([provider.defaultEndpoint]);
    if (found) {
      endpoint = normalizeEndpoint(found);
      endpointSource = 'discovered';
    } else {
      endpoint = provider.defaultEndpoint;
      endpointSource = 'default';
      warning = `${provider.label} is not answering at ${provider.defaultEndpoint} right now; the route was saved with that endpoint. Start ${provider.label}, or pass --endpoint.`;
    }
  } else {
    endpoint = provider.defaultEndpoint;
    endpointSource = 'default';
  }

  const route: RouteRecord = {
    name,
    provider: provider.id,
    model,
    api: provider.api,
    endpoint,
    timeout_sec: input.timeoutSec ?? 600,
    created_at: ctx.clock.now().toISOString(),
    status: 'ready',
  };
  if (input.demo) route.demo = true;
  if (input.gateway) {
    route.gateway = input.gateway;
    route.status = 'provisioning';
  }

  const isDefault = await ctx.routes.update((file) => {
    const existing = own(file.routes, name);
    if (existing && !input.replace) {
      const same = existing.provider === route.provider && existing.model === route.model;
      throw new LogosError('ALREADY_EXISTS', `A route named '${name}' already exists (${existing.provider}/${existing.model}).`, {
        hint: same
          ? `It is already set up. See it with \`logos route show ${name}\`, or remove it first with \`logos route remove ${name}\`.`
          : `Pick another name with --name, or remove it first with \`logos route remove ${name}\`.`,
      });
    }
    if (existing) route.created_at = existing.created_at;
    if (route.gateway) {
      // Unique and stable: keep the workspace a re-added route had, else derive a free one.
      const taken = new Set(
        Object.values(file.routes)
          .filter((r) => r.name !== name && r.gateway === route.gateway && r.workspace)
          .map((r) => r.workspace as string),
      );
      route.workspace = existing?.gateway === route.gateway && existing.workspace ? existing.workspace : workspaceNameFor(name, taken);
    }
    file.routes[name] = route;
    // The first route becomes the default; a demo route never does on its own (its server is gone after the demo).
    if (input.makeDefault || (!input.demo && (!file.default || !own(file.routes, file.default)))) file.default = name;
    return file.default === name;
  });
  ctx.logger.info('route added', { route: name, provider: route.provider, model: route.model, endpoint: route.endpoint });
  const result: AddRouteResult = { route, isDefault, endpointSource };
  if (warning) result.warning = warning;
  return result;
}

export async function listRoutes(ctx: Pick<RouteContext, 'routes'>): Promise<{ routes: RouteRecord[]; default?: string }> {
  const file = await ctx.routes.read();
  const routes = Object.values(file.routes).sort((a, b) => a.name.localeCompare(b.name));
  return file.default ? { routes, default: file.default } : { routes };
}

function notFound(name: string, known: string[]): LogosError {
  return new LogosError('NOT_FOUND', `No route named '${name}'.`, {
    hint: known.length > 0 ? `Known routes: ${known.join(', ')}. See \`logos route list\`.` : 'Add one with `logos route add <provider>/<model>`, e.g. `logos route add lmstudio/qwen/qwen3.5-9b`.',
  });
}

/**
 * A route by its name, or by the `provider/model` it was added with when exactly one
 * route has it (`logos run --route lmstudio/qwen/qwen3.5-9b`).
 */
export function findRoute(file: RoutesFile, nameOrSpec: string): RouteRecord {
  const byName = own(file.routes, nameOrSpec);
  if (byName) return byName;
  if (nameOrSpec.includes('/')) {
    const matches = Object.values(file.routes).filter((r) => `${r.provider}/${r.model}` === nameOrSpec);
    if (matches.length === 1) return matches[0] as RouteRecord;
    if (matches.length > 1) {
      const names = matches.map((r) => r.name).sort();
      throw new LogosError('INVALID_ARGUMENT', `${matches.length} routes use ${nameOrSpec}: ${names.join(', ')}.`, {
        hint: `Name one of them, e.g. \`--route ${names[0]}\`.`,
        details: { routes: names },
      });
    }
  }
  throw notFound(nameOrSpec, Object.keys(file.routes));
}

export async function getRoute(ctx: Pick<RouteContext, 'routes'>, name: string): Promise<RouteRecord> {
  return findRoute(await ctx.routes.read(), name);
}

/** The named route (or `provider/model` spec), or the default one. */
export async function resolveRoute(ctx: Pick<RouteContext, 'routes'>, name?: string): Promise<RouteRecord> {
  const file = await ctx.routes.read();
  if (name) return findRoute(file, name);
  const d = file.default ? own(file.routes, file.default) : undefined;
  if (!d) {
    throw new LogosError('NO_DEFAULT_ROUTE', 'No default model route is set.', {
      hint: 'Add one with `logos route add <provider>/<model> --default` (e.g. `logos route add ollama/llama3.2 --default`), or try `logos demo`.',
    });
  }
  return d;
}

export async function setDefaultRoute(ctx: Pick<RouteContext, 'routes'>, name: string): Promise<void> {
  await ctx.routes.update((file) => {
    if (!own(file.routes, name)) throw notFound(name, Object.keys(file.routes));
    file.default = name;
  });
}

export async function removeRoute(
  ctx: Pick<RouteContext, 'routes' | 'logger'>,
  name: string,
  usedBy: string[],
  force: boolean,
): Promise<RouteRecord> {
  if (usedBy.length > 0 && !force) {
    throw new LogosError('IN_USE', `Route '${name}' is used by sandbox${usedBy.length > 1 ? 'es' : ''} ${usedBy.join(', ')}.`, {
      hint: `Delete ${usedBy.length > 1 ? 'them' : 'it'} first (\`logos sandbox delete ${usedBy[0]}\`), or pass --force.`,
      details: { sandboxes: usedBy },
    });
  }
  const removed = await ctx.routes.update((file) => {
    const r = own(file.routes, name);
    if (!r) throw notFound(name, Object.keys(file.routes));
    delete file.routes[name];
    if (file.default === name) {
      const next = Object.values(file.routes)
        .filter((x) => !x.demo)
        .map((x) => x.name)
        .sort()[0];
      if (next) file.default = next;
      else delete file.default;
    }
    return r;
  });
  ctx.logger.info('route removed', { route: name });
  return removed;
}
