import type { EventBus, LogosEvent } from '../core/events.js';
import { LogosError } from '../core/errors.js';
import type { Frame } from '../core/protocol.js';
import { isObject } from '../core/records.js';
import { redactValue } from '../core/redact.js';
import { recordedResultFrame } from '../core/runs.js';
import type { Route } from './http.js';
import { serveSse } from './streams.js';

/**
 * The daemon's API (/v1/...): thin handlers over the application layer. What the
 * daemon can do is described by DaemonServices, which the app layer implements
 * with the same functions the CLI calls; nothing here knows how a run or a route
 * works.
 */

export interface RunRequest {
  message: string;
  sandbox?: string;
  route?: string;
  session?: string;
  system?: string;
  tools?: string[] | false;
  max_steps?: number;
  timeout?: string;
  persona?: string;
  params?: { max_tokens?: number; temperature?: number };
}

export interface StartedRun {
  id: string;
  /** Settles when the run has ended (its outcome is in the run record). */
  done: Promise<unknown>;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  cursor?: string;
}

export interface DaemonServices {
  version: string;
  status(): Promise<unknown>;
  /** The same as status(), as masked JSON text (cached: /v1/status is the busiest call). */
  statusJson?(): Promise<string>;
  ready(): Promise<{ ok: boolean; checks: Array<{ name: string; ok: boolean; detail?: string }> }>;
  listRoutes(): Promise<unknown[]>;
  listSandboxes(): Promise<unknown[]>;
  listGateways(): Promise<unknown[]>;
  listSessions(): Promise<unknown[]>;
  listRuns(opts: { limit: number; cursor?: string }): Promise<Page<unknown>>;
  getRun(id: string): Promise<unknown>;
  /** Start a run; frames go to onFrame; the promise resolves once the run is recorded. */
  startRun(req: RunRequest, hooks: { signal: AbortSignal; onFrame: (frame: Frame) => void }): Promise<StartedRun>;
  addRoute(body: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  syncRoute(name: string, signal: AbortSignal): Promise<unknown>;
  removeRoute(name: string, force: boolean, signal: AbortSignal): Promise<unknown>;
  createSandbox(body: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  deleteSandbox(name: string, signal: AbortSignal): Promise<unknown>;
  gatewayUp(name: string, body: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  gatewayDown(name: string, signal: AbortSignal): Promise<unknown>;
  /** Probe every provider now (not from the cache), publish what changed, and return the statuses. */
  refreshProviders(signal: AbortSignal): Promise<unknown[]>;
}

/** Runs this daemon started and has not finished: what cancel and the run event stream need. */
export class RunRegistry {
  private readonly live = new Map<string, { controller: AbortController; firstSeq: number }>();
  /** Runs this daemon started (the newest 1,000), whether or not they still run: the seq their events start after. */
  private readonly ours = new Map<string, number>();

  add(id: string, controller: AbortController, firstSeq: number): void {
    this.live.set(id, { controller, firstSeq });
    this.ours.set(id, firstSeq);
    if (this.ours.size > 1000) this.ours.delete(this.ours.keys().next().value as string);
  }

  startedHere(id: string): boolean {
    return this.ours.has(id);
  }

  /** The first event seq of a run this daemon started (its events may since have left the ring buffer). */
  firstSeqOf(id: string): number | undefined {
    return this.ours.get(id);
  }

  remove(id: string): void {
    this.live.delete(id);
  }

  get(id: string): { controller: AbortController; firstSeq: number } | undefined {
    return this.live.get(id);
  }

  get size(): number {
    return this.live.size;
  }

  abortAll(reason: string): void {
    for (const r of this.live.values()) r.controller.abort(new LogosError('CANCELLED', reason));
  }
}

function body(v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new LogosError('INVALID_ARGUMENT', 'The request body must be a JSON object.');
  return v;
}

function str(v: unknown, name: string, required = false): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw new LogosError('INVALID_ARGUMENT', `"${name}" is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new LogosError('INVALID_ARGUMENT', `"${name}" must be a string.`);
  return v;
}

export function parseRunRequest(v: unknown): RunRequest {
  const b = body(v);
  const req: RunRequest = { message: str(b.message, 'message', true) as string };
  for (const k of ['sandbox', 'route', 'session', 'system', 'timeout', 'persona'] as const) {
    const s = str(b[k], k);
    if (s !== undefined) req[k] = s;
  }
  if (b.tools !== undefined) {
    if (b.tools === false) req.tools = false;
    else if (Array.isArray(b.tools) && b.tools.every((t) => typeof t === 'string')) req.tools = b.tools as string[];
    else throw new LogosError('INVALID_ARGUMENT', '"tools" must be a list of tool names, or false.');
  }
  if (b.max_steps !== undefined) {
    if (typeof b.max_steps !== 'number' || !Number.isSafeInteger(b.max_steps) || b.max_steps < 1 || b.max_steps > 1000) {
      throw new LogosError('INVALID_ARGUMENT', '"max_steps" must be a whole number from 1 to 1000.');
    }
    req.max_steps = b.max_steps;
  }
  if (b.params !== undefined) {
    if (!isObject(b.params)) throw new LogosError('INVALID_ARGUMENT', '"params" must be an object ({max_tokens, temperature}).');
    const p = b.params;
    const params: NonNullable<RunRequest['params']> = {};
    if (p.max_tokens !== undefined) {
      if (typeof p.max_tokens !== 'number' || !Number.isSafeInteger(p.max_tokens) || p.max_tokens < 1) throw new LogosError('INVALID_ARGUMENT', '"params.max_tokens" must be a whole number of at least 1.');
      params.max_tokens = p.max_tokens;
    }
    if (p.temperature !== undefined) {
      if (typeof p.temperature !== 'number' || !(p.temperature >= 0 && p.temperature <= 2)) throw new LogosError('INVALID_ARGUMENT', '"params.temperature" must be a number from 0 to 2.');
      params.temperature = p.temperature;
    }
    if (Object.keys(params).length > 0) req.params = params;
  }
  return req;
}

function limitOf(q: URLSearchParams): number {
  const v = q.get('limit');
  if (v === null) return 50;
  const n = /^\d{1,4}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 1000)) throw new LogosError('INVALID_ARGUMENT', '"limit" must be a whole number from 1 to 1000.');
  return n;
}

/** Event types of one run, and whether one ends its stream. */
const RUN_END = new Set(['run.completed', 'run.failed']);

export function apiRoutes(services: DaemonServices, bus: EventBus, runs: RunRegistry, started: Date): Route[] {
  return [
    { method: 'GET', path: '/v1/health', public: true, handler: () => ({ body: { ok: true, version: services.version, uptime_s: Math.round((Date.now() - started.getTime()) / 1000) } }) },
    {
      method: 'GET',
      path: '/v1/ready',
      handler: async () => {
        const r = await services.ready();
        return { status: r.ok ? 200 : 503, body: r };
      },
    },
    { method: 'GET', path: '/v1/status', handler: async () => (services.statusJson ? { raw: await services.statusJson() } : { body: await services.status() }) },
    { method: 'GET', path: '/v1/routes', handler: async () => ({ body: { items: await services.listRoutes() } }) },
    { method: 'GET', path: '/v1/sandboxes', handler: async () => ({ body: { items: await services.listSandboxes() } }) },
    { method: 'GET', path: '/v1/gateways', handler: async () => ({ body: { items: await services.listGateways() } }) },
    { method: 'GET', path: '/v1/sessions', handler: async () => ({ body: { items: await services.listSessions() } }) },
    {
      method: 'GET',
      path: '/v1/runs',
      handler: async (c) => {
        const cursor = c.query.get('cursor') ?? undefined;
        return { body: await services.listRuns({ limit: limitOf(c.query), ...(cursor ? { cursor } : {}) }) };
      },
    },
    { method: 'GET', path: '/v1/runs/:id', handler: async (c) => ({ body: await services.getRun(c.params.id as string) }) },
    {
      method: 'POST',
      path: '/v1/runs',
      handler: async (c) => {
        const req = parseRunRequest(c.body);
        const controller = new AbortController();
        let runId = '';
        const pending: Frame[] = [];
        // Frames come numbered (`seq`) from startRun; until the run id is known they wait here.
        const onFrame = (frame: Frame): void => {
          if (!runId) pending.push(frame);
          else publishFrame(bus, runId, frame);
        };
        const firstSeq = bus.lastSeq + 1;
        const run = await services.startRun(req, { signal: controller.signal, onFrame });
        runId = run.id;
        runs.add(run.id, controller, firstSeq);
        bus.publish('run.started', { kind: 'run', id: run.id }, { sandbox: req.sandbox ?? null, route: req.route ?? null, session: req.session ?? null });
        for (const f of pending.splice(0)) publishFrame(bus, run.id, f);
        void run.done
          .then(
            async () => {
              const rec = (await services.getRun(run.id).catch(() => undefined)) as { status?: string } | undefined;
              bus.publish(rec?.status === 'ok' ? 'run.completed' : 'run.failed', { kind: 'run', id: run.id }, rec ?? {});
            },
            (err: unknown) => {
              bus.publish('run.failed', { kind: 'run', id: run.id }, { error: err instanceof LogosError ? err.toJSON() : { code: 'INTERNAL', message: String(err) } });
            },
          )
          .finally(() => runs.remove(run.id));
        return { status: 202, body: { ok: true, id: run.id, events: `/v1/runs/${run.id}/events` } };
      },
    },
    {
      method: 'POST',
      path: '/v1/runs/:id/cancel',
      handler: (c) => {
        const r = runs.get(c.params.id as string);
        if (!r) throw new LogosError('NOT_FOUND', `No run ${c.params.id} is in flight in this daemon.`, { hint: 'See `GET /v1/runs`; finished runs cannot be cancelled.' });
        r.controller.abort(new LogosError('CANCELLED', 'Cancelled through the daemon API.'));
        return { status: 202, body: { ok: true, id: c.params.id, cancelling: true } };
      },
    },
    {
      method: 'GET',
      path: '/v1/runs/:id/events',
      handler: async (c) => {
        const id = c.params.id as string;
        const live = runs.get(id);
        const lastId = Number(c.headers['last-event-id']);
        const first = runs.firstSeqOf(id);
        if (!live && first !== undefined && bus.replay(first - 1, (t) => t.startsWith('run.')).missed === 0) {
          // Started here and already ended: its events are still in the buffer, end event included.
          serveSse(c.res, (onReady) => bus.subscribe({ since: first - 1, types: ['run.*'], onReady }), {
            format: (ev: LogosEvent) => (ev.entity.id === id ? { event: ev.type, data: ev.payload } : undefined),
            endWhen: (ev) => ev.entity.id === id && RUN_END.has(ev.type),
          });
          return undefined;
        }
        if (!live) {
          // Finished (or never ran here): its outcome from the record, as one event.
          const rec = (await services.getRun(id)) as { status?: string };
          c.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
          c.res.end(`event: ${rec.status === 'ok' ? 'run.completed' : 'run.failed'}\ndata: ${JSON.stringify(redactValue(rec))}\n\n`);
          return undefined;
        }
        const since = Number.isSafeInteger(lastId) && lastId > 0 ? lastId : live.firstSeq - 1;
        serveSse(c.res, (onReady) => bus.subscribe({ since, types: ['run.*'], onReady }), {
          format: (ev: LogosEvent) => (ev.entity.id === id ? { event: ev.type, data: ev.payload } : undefined),
          endWhen: (ev) => ev.entity.id === id && RUN_END.has(ev.type),
        });
        return undefined;
      },
    },
    {
      // The frames of a run so far: from the event buffer for a run this daemon started
      // (each with its position `seq`), then its outcome from the record once it ended
      // (the reply itself is not kept, so a run whose frames left the buffer shows its outcome only).
      method: 'GET',
      path: '/v1/runs/:id/frames',
      handler: async (c) => {
        const id = c.params.id as string;
        const first = runs.firstSeqOf(id);
        const items: unknown[] = [];
        let missed = 0;
        if (first !== undefined) {
          const r = bus.replay(first - 1, (t) => t === 'run.frame' || t === 'run.tool');
          missed = r.missed;
          for (const ev of r.events) if (ev.entity.id === id) items.push(ev.payload);
        }
        if (!runs.get(id)) {
          const rec = (await services.getRun(id)) as Parameters<typeof recordedResultFrame>[0];
          const result = items.some((f) => isObject(f) && f.type === 'task_result') ? undefined : recordedResultFrame(rec);
          if (result) items.push(result);
        }
        return { body: { items, complete: first !== undefined && missed === 0 } };
      },
    },
    { method: 'POST', path: '/v1/providers/refresh', handler: async (c) => ({ body: { ok: true, providers: await services.refreshProviders(c.signal) } }) },
    { method: 'POST', path: '/v1/routes', handler: async (c) => ({ status: 201, body: await services.addRoute(body(c.body), c.signal) }) },
    { method: 'POST', path: '/v1/routes/:name/sync', handler: async (c) => ({ body: await services.syncRoute(c.params.name as string, c.signal) }) },
    { method: 'DELETE', path: '/v1/routes/:name', handler: async (c) => ({ body: await services.removeRoute(c.params.name as string, c.query.get('force') === '1', c.signal) }) },
    { method: 'POST', path: '/v1/sandboxes', handler: async (c) => ({ status: 201, body: await services.createSandbox(body(c.body), c.signal) }) },
    { method: 'DELETE', path: '/v1/sandboxes/:name', handler: async (c) => ({ body: await services.deleteSandbox(c.params.name as string, c.signal) }) },
    { method: 'POST', path: '/v1/gateways/:name/up', handler: async (c) => ({ body: await services.gatewayUp(c.params.name as string, body(c.body), c.signal) }) },
    { method: 'POST', path: '/v1/gateways/:name/down', handler: async (c) => ({ body: await services.gatewayDown(c.params.name as string, c.signal) }) },
  ];
}

/** A worker frame as an event: tool frames are `run.tool`, everything else `run.frame`. */
export function publishFrame(bus: EventBus, runId: string, frame: Frame): void {
  const type = frame.type === 'tool_start' || frame.type === 'tool_end' || frame.type === 'tool_output' ? 'run.tool' : 'run.frame';
  bus.publish(type, { kind: 'run', id: runId }, frame, 'worker');
}
