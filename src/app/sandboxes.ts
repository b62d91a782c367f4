import { LogosError } from '../core/errors.js';
import type { ToolName } from '../core/protocol.js';
import { addRoute, resolveRoute } from '../core/routes.js';
import { createSandbox, deleteSandbox, listSandboxes, type DriverKind, type SandboxRecord, type SandboxStatus } from '../core/sandboxes.js';
import type { App } from './context.js';

/** Sandbox use cases shared by the CLI, the daemon and the dashboard. */

export interface CreateSandboxRequest {
  name: string;
  /** Default: the default route. */
  route?: string;
  /** Default: openshell for a route on a gateway, else local. */
  driver?: string;
  /** The tools tasks here get by default; `[]`: none; undefined: all. */
  tools?: ToolName[];
}

export function parseDriver(v: string | undefined): DriverKind | undefined {
  if (v === undefined) return undefined;
  if (v === 'local' || v === 'openshell') return v;
  throw new LogosError('INVALID_ARGUMENT', `Unknown driver '${v}'.`, { hint: 'Use --driver local (bubblewrap) or --driver openshell.' });
}

export async function createSandboxUseCase(a: App, req: CreateSandboxRequest): Promise<SandboxRecord> {
  const driver = parseDriver(req.driver);
  const route = await resolveRoute(a.routeCtx(), req.route);
  return createSandbox(a.sandboxCtx(), { name: req.name, driver: driver ?? a.driverForRoute(route), route, ...(req.tools ? { tools: req.tools } : {}) });
}

export async function deleteSandboxUseCase(a: App, name: string): Promise<SandboxRecord> {
  return deleteSandbox(a.sandboxCtx(), name);
}

/** Every sandbox with its measured phase (asked of its driver now). */
export async function sandboxesWithStatus(a: App): Promise<Array<SandboxRecord & { status: SandboxStatus }>> {
  const list = await listSandboxes(a.sandboxCtx());
  return Promise.all(list.map(async (s) => ({ ...s, status: await a.driver(s.driver).status(s).catch((e: Error): SandboxStatus => ({ phase: 'Unknown', detail: e.message })) })));
}

/** The demo's route (pointing at the demo server's URL) and its local sandbox, created when missing. */
export async function prepareDemo(a: App, serverUrl: string): Promise<void> {
  await addRoute(a.routeCtx(), { spec: 'custom/logos-demo', endpoint: serverUrl, name: 'demo', demo: true, replace: true });
  if (!Object.hasOwn((await a.sandboxes.read()).sandboxes, 'demo')) {
    const route = await resolveRoute(a.routeCtx(), 'demo');
    await createSandbox(a.sandboxCtx(), { name: 'demo', driver: 'local', route });
  }
}
