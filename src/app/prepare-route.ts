import { ensureLmStudioModelLoaded } from '../adapters/providers/lmstudio.js';
import { getProvider } from '../core/providers.js';
import type { RouteRecord } from '../core/routes.js';
import type { SandboxRecord } from '../core/sandboxes.js';
import type { App } from './context.js';

/**
 * Work done before every dispatch, wired here so the core stays free of IO:
 * provider-specific readiness (e.g. LM Studio ensure-loaded) and gateway route sync.
 */

/** How long LM Studio may take to load a model before the run fails (big models load slowly). */
export const LMSTUDIO_LOAD_TIMEOUT_MS = 300_000;

export async function prepareRoute(app: App, route: RouteRecord, sandbox: SandboxRecord, signal?: AbortSignal): Promise<void> {
  if (route.provider === 'lmstudio') {
    const key = await app.vault.get('lmstudio', getProvider('lmstudio').keyEnv);
    await ensureLmStudioModelLoaded(route, {
      apiKey: key?.value,
      logger: app.logger.child({ sandbox: sandbox.name }),
      timeoutMs: LMSTUDIO_LOAD_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  }
}
