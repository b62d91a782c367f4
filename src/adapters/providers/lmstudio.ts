import type { Logger } from '../../core/context.js';
import { LogosError } from '../../core/errors.js';
import { parseLmStudioModels, serverRoot } from '../../core/provider-status.js';
import { authHeaders, httpJson, serverMessage } from './probe.js';

/**
 * LM Studio ensure-loaded: before a task goes to an LM Studio route, make sure
 * the route's model has a loaded instance (LM Studio 0.4 native REST API:
 * `GET /api/v1/models` → `models[*].key` + `loaded_instances`, then
 * `POST /api/v1/models/load {"model": key}`, which answers once it is loaded).
 * Reading the right fields matters: a wrong one made every chat reload the model.
 */

export interface EnsureLoadedOptions {
  apiKey?: string | undefined;
  logger: Logger;
  /** How long a load may take (default 300 s: big models are slow to load). */
  timeoutMs?: number;
  /** Timeout of the model list request (default 5 s). */
  listTimeoutMs?: number;
  signal?: AbortSignal;
}

export type EnsureLoadedResult = 'already-loaded' | 'loaded' | 'skipped';

export async function ensureLmStudioModelLoaded(
  route: { name?: string; endpoint: string; model: string },
  opts: EnsureLoadedOptions,
): Promise<EnsureLoadedResult> {
  const root = serverRoot(route.endpoint);
  const log = opts.logger.child({ source: 'lmstudio', ...(route.name ? { route: route.name } : {}) });
  const headers = authHeaders('lmstudio-native', opts.apiKey);
  const list = await httpJson(`${root}/api/v1/models`, { headers, timeoutMs: opts.listTimeoutMs ?? 5_000, ...(opts.signal ? { signal: opts.signal } : {}) });
  // Anything but a good list: leave it to the run, which reports the real error (NETWORK, AUTH, …).
  if (list.kind === 'network') {
    log.warn('LM Studio model list not reachable; not checking whether the model is loaded', { reason: list.reason, detail: list.message });
    return 'skipped';
  }
  if (list.status < 200 || list.status >= 300 || !list.json) {
    log.warn('LM Studio model list failed; not checking whether the model is loaded', { http_status: list.status, detail: serverMessage(list.body, list.json ? '' : list.text, opts.apiKey) });
    return 'skipped';
  }
  const parsed = parseLmStudioModels(list.body);
  if (!parsed.ok) {
    log.warn('LM Studio model list unreadable; not checking whether the model is loaded', { detail: parsed.message });
    return 'skipped';
  }

  const model = route.model;
  // The model may be named by its key or by a loaded instance's identifier.
  if (parsed.models.some((m) => m.instances.includes(model) || (m.key === model && m.instances.length > 0))) {
    log.debug('LM Studio model already loaded', { model });
    return 'already-loaded';
  }
  const entry = parsed.models.find((m) => m.key === model);
  if (!entry) {
    const keys = parsed.models.filter((m) => m.type !== 'embedding').map((m) => m.key);
    const some = keys.slice(0, 5).join(', ');
    throw new LogosError('MODEL_NOT_FOUND', `LM Studio at ${root} has no model '${model}'.`, {
      hint: `${keys.length > 0 ? `Models there: ${some}${keys.length > 5 ? `, … (${keys.length} in all)` : ''}. ` : 'LM Studio has no models yet. '}Download it with \`lms get ${model}\`, or add a route for one of these (\`logos route add lmstudio/<key>\`).`,
      details: { endpoint: route.endpoint, model, available: keys.slice(0, 20) },
    });
  }

  const timeoutMs = opts.timeoutMs ?? 300_000;
  log.info('loading LM Studio model', { model, timeout_ms: timeoutMs });
  const load = await httpJson(`${root}/api/v1/models/load`, {
    method: 'POST',
    headers,
    body: { model },
    timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (load.kind === 'network') {
    if (load.reason === 'TIMEOUT') {
      throw new LogosError('TIMEOUT', `LM Studio did not finish loading '${model}' within ${Math.round(timeoutMs / 1000)}s.`, {
        hint: `Load it by hand with \`lms load ${model}\` and watch LM Studio, then run the task again.`,
      });
    }
    throw new LogosError('NETWORK', `Lost LM Studio while loading '${model}': ${load.message}`, {
      hint: "Check that LM Studio's server is still running (`lms server status`), then run the task again.",
    });
  }
  const said = serverMessage(load.body, load.json ? '' : load.text, opts.apiKey);
  const body = (load.body ?? {}) as { status?: unknown; load_time_seconds?: unknown; instance_id?: unknown; model_instance_id?: unknown; error?: unknown };
  if (load.status < 200 || load.status >= 300 || body.error !== undefined || (body.status !== undefined && body.status !== 'loaded')) {
    throw new LogosError('ROUTE_NOT_READY', `LM Studio could not load '${model}'${said ? `: ${said}` : ` (HTTP ${load.status})`}.`, {
      hint: `Try \`lms load ${model}\` to see why (not enough memory is common), then run the task again.`,
      details: { http_status: load.status },
    });
  }
  log.info('LM Studio model loaded', {
    model,
    ...(typeof body.load_time_seconds === 'number' ? { load_time_seconds: body.load_time_seconds } : {}),
    ...(typeof (body.instance_id ?? body.model_instance_id) === 'string' ? { instance_id: body.instance_id ?? body.model_instance_id } : {}),
  });
  return 'loaded';
}
