import { access, constants } from 'node:fs/promises';
import { packageVersion } from '../adapters/assets.js';
import { findExecutable } from '../adapters/exec/which.js';
import type { App } from '../app/context.js';
import { addRouteUseCase, removeRouteUseCase, syncRoutesUseCase } from '../app/routes.js';
import { createSandboxUseCase, deleteSandboxUseCase } from '../app/sandboxes.js';
import { runSummary, type StatusReport } from '../app/status.js';
import { LogosError } from '../core/errors.js';
import { gatewayDown, gatewayUp } from '../core/gateways.js';
import { parseDuration } from '../core/names.js';
import { isObject } from '../core/records.js';
import { listRoutes } from '../core/routes.js';
import { runTask } from '../core/run-task.js';
import { listSandboxes } from '../core/sandboxes.js';
import { parseToolList } from '../core/tools.js';
import type { Frame } from '../core/protocol.js';
import type { DaemonServices, Page, RunRequest, StartedRun } from './api.js';

/**
 * DaemonServices over the application layer: the same use cases the CLI calls.
 * Status comes from a snapshot the daemon refreshes on its own (so /v1/status is
 * served from memory), everything else is read when asked.
 */

export interface ServicesOptions {
  /** The latest status snapshot (kept fresh by the daemon). */
  status: () => Promise<StatusReport>;
  statusJson?: () => Promise<string>;
  /** Probe every provider now and publish what changed (the daemon owns the probes and the event bus). */
  refreshProviders: () => Promise<unknown[]>;
}

function str(b: Record<string, unknown>, k: string): string | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new LogosError('INVALID_ARGUMENT', `"${k}" must be a string.`);
  return v;
}

export function daemonServices(a: App, opts: ServicesOptions): DaemonServices {
  return {
    version: packageVersion(),
    status: opts.status,
    ...(opts.statusJson ? { statusJson: opts.statusJson } : {}),

    async ready() {
      const checks: Array<{ name: string; ok: boolean; detail?: string }> = [];
      for (const [name, dir] of [
        ['state directory writable', a.paths.state],
        ['log directory writable', a.paths.logs],
      ] as const) {
        const ok = await access(dir, constants.W_OK).then(
          () => true,
          () => false,
        );
        checks.push({ name, ok, ...(ok ? {} : { detail: dir }) });
      }
      const sandboxes = await listSandboxes(a.sandboxCtx());
      if (sandboxes.some((s) => s.driver === 'local') || sandboxes.length === 0) {
        const bwrap = findExecutable(a.config.binaries.bwrap, a.env.PATH);
        checks.push({ name: 'bubblewrap installed', ok: !!bwrap, ...(bwrap ? {} : { detail: 'the local sandbox driver needs bwrap' }) });
      }
      return { ok: checks.every((c) => c.ok), checks };
    },

    async listRoutes() {
      const { routes, default: def } = await listRoutes(a.routeCtx());
      return routes.map((r) => ({ ...r, default: r.name === def }));
    },
    async listSandboxes() {
      return (await opts.status()).sandboxes;
    },
    async listGateways() {
      return (await opts.status()).gateways;
    },
    async listSessions() {
      const { sessions } = await a.sessions.list();
      return sessions.map((s) => ({ name: s.name, sandbox: s.sandbox, runs: s.runs, messages: s.messages.length, updated_at: s.updated_at }));
    },

    async listRuns({ limit, cursor }): Promise<Page<unknown>> {
      const page = await a.runs.page(limit, cursor);
      return { items: page.items.map(runSummary), total: page.total, limit, ...(page.next ? { cursor: page.next } : {}) };
    },
    async getRun(id) {
      const r = await a.runs.get(id);
      if (!r) throw new LogosError('NOT_FOUND', `No run with id '${id}'.`, { hint: 'See `GET /v1/runs`.' });
      return { ...r, ...runSummary(r) };
    },

    async startRun(req: RunRequest, hooks): Promise<StartedRun> {
      const timeoutMs = req.timeout ? parseDuration(req.timeout, { flag: 'timeout', min: 1000 }) : a.config.runTimeoutSec * 1000;
      const tools = req.tools === false ? [] : req.tools ? parseToolList(req.tools.join(','), 'tools') : undefined;
      if (!req.message.trim()) throw new LogosError('USAGE', 'The message is empty.');
      let position = 0;
      let started!: (id: string) => void;
      const recorded = new Promise<string>((r) => (started = r));
      const done = runTask(a.runCtx(), {
        message: req.message,
        ...(req.system !== undefined ? { system: req.system } : {}),
        ...(req.persona !== undefined ? { persona: req.persona } : {}),
        ...(req.params ? { params: req.params } : {}),
        ...(req.sandbox ? { sandbox: req.sandbox } : {}),
        ...(req.route ? { route: req.route } : {}),
        ...(req.session ? { session: req.session } : {}),
        ...(tools ? { tools } : {}),
        ...(req.max_steps !== undefined ? { maxSteps: req.max_steps } : {}),
        timeoutMs,
        signal: hooks.signal,
        // Each frame carries its position in the run (`seq`, from 0), so a client that fetched
        // the frames so far can drop the live ones it already has.
        onFrame: (f) => hooks.onFrame({ ...f, seq: position++ } as Frame),
        onStart: (r) => started(r.id),
      });
      // Until the run is recorded, a failure (no such sandbox, …) is the request's error.
      const id = await Promise.race([recorded, done.then(() => recorded)]);
      return { id, done: done.catch(() => undefined) };
    },

    async addRoute(b) {
      const spec = str(b, 'spec');
      if (!spec) throw new LogosError('INVALID_ARGUMENT', '"spec" (provider/model) is required.');
      const timeout = str(b, 'timeout');
      const gateway = b.gateway === false ? false : str(b, 'gateway');
      const endpoint = str(b, 'endpoint');
      const name = str(b, 'name');
      const res = await addRouteUseCase(a, {
        spec,
        ...(endpoint ? { endpoint } : {}),
        ...(name ? { name } : {}),
        ...(b.default === true ? { makeDefault: true } : {}),
        ...(timeout ? { timeoutSec: Math.ceil(parseDuration(timeout, { flag: 'timeout', min: 1000, max: 86_400_000 }) / 1000) } : {}),
        ...(gateway !== undefined ? { gateway } : {}),
      });
      return { ok: true, route: res.route, default: res.isDefault, ...(res.warning ? { warning: res.warning } : {}) };
    },
    async syncRoute(name) {
      return { ok: true, results: await syncRoutesUseCase(a, name) };
    },
    async removeRoute(name, force) {
      const r = await removeRouteUseCase(a, name, force);
      return { ok: true, removed: r.removed.name, deleted_sandboxes: r.deletedSandboxes };
    },
    async createSandbox(b) {
      const name = str(b, 'name');
      if (!name) throw new LogosError('INVALID_ARGUMENT', '"name" is required.');
      const route = str(b, 'route');
      const driver = str(b, 'driver');
      const tools = b.tools === false ? [] : Array.isArray(b.tools) ? parseToolList(b.tools.map(String).join(','), 'tools') : undefined;
      return { ok: true, sandbox: await createSandboxUseCase(a, { name, ...(route ? { route } : {}), ...(driver ? { driver } : {}), ...(tools ? { tools } : {}) }) };
    },
    async deleteSandbox(name) {
      return { ok: true, deleted: (await deleteSandboxUseCase(a, name)).name };
    },
    async gatewayUp(name, b) {
      const port = b.port;
      if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) throw new LogosError('INVALID_ARGUMENT', '"port" must be 1..65535.');
      return { ok: true, ...(await gatewayUp(a.gatewayCtx(), { name, ...(isObject(b) && typeof port === 'number' ? { port } : {}) })) };
    },
    async gatewayDown(name) {
      return { ok: true, gateway: await gatewayDown(a.gatewayCtx(), name) };
    },
    refreshProviders: () => opts.refreshProviders(),
  };
}
