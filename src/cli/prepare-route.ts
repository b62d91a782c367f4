import type { RouteRecord } from '../core/routes.js';
import type { SandboxRecord } from '../core/sandboxes.js';
import type { App } from './context.js';

/**
 * Work done before every dispatch, wired here so the core stays free of IO:
 * provider-specific readiness (e.g. LM Studio ensure-loaded) and gateway route sync.
 */
export async function prepareRoute(_app: App, _route: RouteRecord, _sandbox: SandboxRecord): Promise<void> {
  // Filled in by the provider and gateway features.
}
