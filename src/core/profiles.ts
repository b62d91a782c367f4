import type { OsProfile } from './openshell.js';
import { getProvider } from './providers.js';
import type { RouteRecord } from './routes.js';

/**
 * Provider profiles for OpenShell 0.1.x (openshell-0.1.md §5, §6). A 0.1.x gateway has no
 * built-in provider types: each route's workspace gets a profile that names the model
 * endpoint (host and port as the sandbox reaches it), how the key is sent, and the
 * binaries allowed to use it — the sandbox image's real `node`. The supervisor swaps the
 * placeholder key for the real one only at these endpoints.
 */

/** Where `node` lives in Logos' sandbox image (node:22 images) and in distro-packaged Node. */
export const SANDBOX_NODE_BINARIES = ['/usr/local/bin/node', '/usr/bin/node'];

export function profileIdFor(route: Pick<RouteRecord, 'provider'>): string {
  return `logos-${route.provider}`;
}

/** The environment variable that carries the route's key (a placeholder inside the sandbox). */
export function credentialKeyFor(route: Pick<RouteRecord, 'api'>): 'ANTHROPIC_API_KEY' | 'OPENAI_API_KEY' {
  return route.api === 'anthropic-messages' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY';
}

/** The environment variable the worker reads the base URL from. */
export function baseUrlVarFor(route: Pick<RouteRecord, 'api'>): 'ANTHROPIC_BASE_URL' | 'OPENAI_BASE_URL' {
  return route.api === 'anthropic-messages' ? 'ANTHROPIC_BASE_URL' : 'OPENAI_BASE_URL';
}

/**
 * The profile for a route whose endpoint the sandbox reaches at `visibleEndpoint`
 * (127.0.0.1 already turned into host.openshell.internal for a local gateway).
 */
export function profileFor(route: Pick<RouteRecord, 'provider' | 'api'>, visibleEndpoint: string): OsProfile {
  const info = getProvider(route.provider);
  const url = new URL(visibleEndpoint);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const anthropic = route.api === 'anthropic-messages';
  const key = credentialKeyFor(route);
  return {
    id: profileIdFor(route),
    display_name: `${info.label.replace(/ \(.*\)$/, '')} for Logos`,
    description: `The model endpoint of Logos routes using ${info.id} (${url.host}); written by Logos.`,
    category: 'inference',
    inference_capable: true,
    credentials: [
      {
        name: 'api_key',
        description: `${info.label.replace(/ \(.*\)$/, '')} API key (a placeholder inside the sandbox)`,
        env_vars: [key],
        required: true,
        auth_style: anthropic ? 'header' : 'bearer',
        header_name: anthropic ? 'x-api-key' : 'authorization',
      },
    ],
    endpoints: [{ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, protocol: 'rest', access: 'read-write', enforcement: 'enforce' }],
    binaries: [...SANDBOX_NODE_BINARIES],
  };
}

/** Does the gateway's copy say the same as ours (ignoring what the gateway adds)? */
export function sameProfile(a: OsProfile, b: OsProfile): boolean {
  const norm = (p: OsProfile) =>
    JSON.stringify({
      d: p.display_name,
      c: p.credentials.map((c) => [c.name, [...c.env_vars].sort(), !!c.required, c.auth_style, c.header_name]),
      e: p.endpoints.map((e) => [e.host, e.port, e.protocol, e.access, e.enforcement]),
      b: [...p.binaries].sort(),
    });
  return norm(a) === norm(b);
}
