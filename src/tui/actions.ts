import type { DataSource, ErrorView } from './model.js';

/**
 * What the dashboard can change, each one call on the data source (the same
 * application-layer call the CLI makes). Destructive ones are confirmed first.
 */

export type Action =
  | { kind: 'startRun'; sandbox: string; message: string; session?: string }
  | { kind: 'cancelRun'; id: string }
  | { kind: 'createSandbox'; name: string; route: string }
  | { kind: 'deleteSandbox'; name: string }
  | { kind: 'syncRoute'; name: string }
  | { kind: 'removeRoute'; name: string }
  | { kind: 'gatewayUp'; name: string }
  | { kind: 'gatewayDown'; name: string }
  | { kind: 'refreshProviders' };

export interface ActionText {
  /** Asked before a destructive action; absent when none is needed. */
  confirm?: string;
  /** While it runs. */
  doing: string;
  /** When it worked. */
  done: string;
}

export function describeAction(a: Action): ActionText {
  switch (a.kind) {
    case 'startRun':
      return { doing: `Starting a run in ${a.sandbox}…`, done: `Run started in ${a.sandbox}` };
    case 'cancelRun':
      return { confirm: `Cancel run ${a.id}?`, doing: `Cancelling ${a.id}…`, done: `Run ${a.id} cancelled` };
    case 'createSandbox':
      return { doing: `Creating sandbox ${a.name}…`, done: `Sandbox ${a.name} created` };
    case 'deleteSandbox':
      return { confirm: `Delete sandbox ${a.name} and its files?`, doing: `Deleting sandbox ${a.name}…`, done: `Sandbox ${a.name} deleted` };
    case 'syncRoute':
      return { doing: `Syncing route ${a.name}…`, done: `Route ${a.name} synced` };
    case 'removeRoute':
      return { confirm: `Remove route ${a.name} (and its workspace on its gateway)?`, doing: `Removing route ${a.name}…`, done: `Route ${a.name} removed` };
    case 'gatewayUp':
      return { doing: `Starting gateway ${a.name}…`, done: `Gateway ${a.name} is up` };
    case 'gatewayDown':
      return { confirm: `Stop gateway ${a.name} and remove its container?`, doing: `Stopping gateway ${a.name}…`, done: `Gateway ${a.name} is down` };
    case 'refreshProviders':
      return { doing: 'Probing providers…', done: 'Provider status refreshed' };
  }
}

/** Call the data source. Returns the new run's id for startRun. */
export async function perform(source: DataSource, a: Action): Promise<{ runId?: string }> {
  switch (a.kind) {
    case 'startRun': {
      const r = await source.startRun({ sandbox: a.sandbox, message: a.message, ...(a.session ? { session: a.session } : {}) });
      return { runId: r.id };
    }
    case 'cancelRun':
      await source.cancelRun(a.id);
      break;
    case 'createSandbox':
      await source.createSandbox(a.name, a.route);
      break;
    case 'deleteSandbox':
      await source.deleteSandbox(a.name);
      break;
    case 'syncRoute':
      await source.syncRoute(a.name);
      break;
    case 'removeRoute':
      await source.removeRoute(a.name);
      break;
    case 'gatewayUp':
      await source.gatewayUp(a.name);
      break;
    case 'gatewayDown':
      await source.gatewayDown(a.name);
      break;
    case 'refreshProviders':
      await source.refreshProviders();
      break;
  }
  return {};
}

/** The reason code, message and hint of whatever an action threw (a LogosError, or an error from the daemon's API). */
export function errorView(err: unknown): ErrorView {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; hint?: unknown };
    const code = typeof e.code === 'string' && e.code ? e.code : 'INTERNAL';
    const message = typeof e.message === 'string' ? e.message : String(err);
    return typeof e.hint === 'string' && e.hint ? { code, message, hint: e.hint } : { code, message };
  }
  return { code: 'INTERNAL', message: String(err) };
}
