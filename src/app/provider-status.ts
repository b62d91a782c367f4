import { join } from 'node:path';
import { DEFAULT_PROBE_TIMEOUT_MS, probeProvider, type ProbeOptions } from '../adapters/providers/probe.js';
import { lazyBuiltin } from '../core/builtins.js';
import { systemClock, type Clock } from '../core/context.js';
import { isLogosError } from '../core/errors.js';
import { validEntriesFile } from '../core/records.js';
import {
  configuredTargets,
  DEFAULT_STATUS_TTL_MS,
  emptyProviderStatus,
  isFresh,
  needsKeyButHasNone,
  statusKey,
  toStatus,
  type CachedProbe,
  type ProbeOutcome,
  type ProbeTarget,
  type ProviderStatus,
  type ProviderStatusFile,
} from '../core/provider-status.js';
import { PROVIDERS, providerKeyEnvs } from '../core/providers.js';
import { listRoutes } from '../core/routes.js';
import { JsonFile } from '../store/json-file.js';
import { envValue } from '../store/paths.js';
import type { App } from './context.js';

/**
 * Provider status with a shared cache (state/provider-status.json).
 * Many readers share one probe: a reader whose entries are all fresh returns
 * them without a lock; otherwise it takes the file's lock, re-reads, probes only
 * what is still stale, writes, and releases. A process that waited on the lock
 * then finds the fresh entries the first one wrote and probes nothing.
 */

export interface ProviderStatusOptions {
  /** Probe again even when the cache is fresh (entries written after this call began are still shared). */
  refresh?: boolean;
  /** Probe nothing: report the cached results, however old. */
  cacheOnly?: boolean;
  ttlMs?: number;
  probeTimeoutMs?: number;
  /** How long to wait for another process's probe (default: the probe timeout + 15 s). */
  lockTimeoutMs?: number;
  clock?: Clock;
  probe?: (target: ProbeTarget, opts: ProbeOptions) => Promise<ProbeOutcome>;
}

/** The parts of the App this needs. */
export type StatusApp = Pick<App, 'paths' | 'logger' | 'routes' | 'vault' | 'env'>;

export function providerStatusFile(app: Pick<App, 'paths'>, lockTimeoutMs?: number): JsonFile<ProviderStatusFile> {
  return new JsonFile<ProviderStatusFile>(join(app.paths.state, 'provider-status.json'), {
    empty: emptyProviderStatus,
    mode: 0o600,
    validate: validEntriesFile,
    ...(lockTimeoutMs ? { lockTimeoutMs } : {}),
  });
}

/** node:crypto loads only when there is a key to fingerprint. */
const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/** Identifies which key a cached probe used, without storing the key. */
function fingerprint(key: string | undefined): string | null {
  return key ? crypto().createHash('sha256').update(key).digest('hex').slice(0, 16) : null;
}

/** Providers with a key in the vault or the environment (env only when the vault cannot be read). */
async function keyedProviders(app: StatusApp): Promise<string[]> {
  try {
    return (await app.vault.list(providerKeyEnvs())).map((c) => c.provider);
  } catch (err) {
    if (isLogosError(err) && err.code === 'PERMISSION_NOT_600') return PROVIDERS.filter((p) => p.keyEnv && envValue(p.keyEnv, app.env)).map((p) => p.id);
    throw err;
  }
}

type Plan = { target: ProbeTarget; local: ProbeOutcome } | { target: ProbeTarget; apiKey: string | undefined; credential: string | null };

export async function getProviderStatuses(app: StatusApp, opts: ProviderStatusOptions = {}): Promise<ProviderStatus[]> {
  const clock = opts.clock ?? systemClock;
  const startedAt = clock.now();
  const ttlMs = opts.ttlMs ?? DEFAULT_STATUS_TTL_MS;
  const probeTimeoutMs = opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const probe = opts.probe ?? ((t: ProbeTarget, o: ProbeOptions) => probeProvider(t, o));
  const log = app.logger.child({ source: 'providers' });

  const { routes } = await listRoutes({ routes: app.routes });
  const targets = configuredTargets(routes, await keyedProviders(app));
  if (targets.length === 0) return [];

  // Credentials first: no key where one is needed, or an unsafe vault, is reported without probing.
  const plans: Plan[] = [];
  for (const target of targets) {
    const provider = PROVIDERS.find((p) => p.id === target.provider);
    let apiKey: string | undefined;
    try {
      apiKey = (await app.vault.get(target.provider, provider?.keyEnv))?.value;
    } catch (err) {
      if (!(isLogosError(err) && err.code === 'PERMISSION_NOT_600')) throw err;
      plans.push({ target, local: { reason: 'PERMISSION_NOT_600', message: err.message, latency_ms: null, checked_at: clock.now().toISOString() } });
      continue;
    }
    if (needsKeyButHasNone(target.provider, !!apiKey)) {
      const env = provider?.keyEnv;
      plans.push({ target, local: { reason: 'NO_CONFIG', message: `No key stored for ${target.provider}${env ? ` and ${env} is not set` : ''}.`, latency_ms: null, checked_at: clock.now().toISOString() } });
      continue;
    }
    plans.push({ target, apiKey, credential: fingerprint(apiKey) });
  }

  const fresh = (e: CachedProbe | undefined, credential: string | null, notBefore?: Date): e is CachedProbe =>
    !!e && isFresh(e, { now: clock.now(), ttlMs, credential, ...(notBefore ? { notBefore } : {}) });

  const render = (entries: Record<string, CachedProbe>, probed: Set<string>): ProviderStatus[] =>
    plans.map((p) => {
      if ('local' in p) return toStatus(p.target, p.local, false);
      const key = statusKey(p.target.provider, p.target.endpoint);
      const e = entries[key];
      if (!e) throw new Error(`no status for ${key}`);
      return toStatus(p.target, e, !probed.has(key));
    });

  const toProbe = plans.filter((p): p is Extract<Plan, { apiKey: string | undefined }> => !('local' in p));
  const file = providerStatusFile(app, opts.lockTimeoutMs ?? probeTimeoutMs + 15_000);

  if (opts.cacheOnly) {
    // What the last probes found, however old (the daemon probes on its own schedule).
    const cache = await readCache(file, log);
    return plans.map((p) => {
      if ('local' in p) return toStatus(p.target, p.local, false);
      const e = cache.entries[statusKey(p.target.provider, p.target.endpoint)];
      return e ? toStatus(p.target, e, true) : toStatus(p.target, { reason: 'STALE_REFRESH', message: 'Not probed yet.', latency_ms: null, checked_at: clock.now().toISOString() }, true);
    });
  }

  // Fast path: everything fresh, no lock needed (writes are atomic renames).
  if (!opts.refresh) {
    const cache = await readCache(file, log);
    if (toProbe.every((p) => fresh(cache.entries[statusKey(p.target.provider, p.target.endpoint)], p.credential))) return render(cache.entries, new Set());
  }

  const locked = async (): Promise<ProviderStatus[]> =>
    file.update(async (cache) => {
      const probed = new Set<string>();
      const notBefore = opts.refresh ? startedAt : undefined;
      await Promise.all(
        toProbe.map(async (p) => {
          const key = statusKey(p.target.provider, p.target.endpoint);
          if (fresh(cache.entries[key], p.credential, notBefore)) return;
          const outcome = await probe(p.target, { apiKey: p.apiKey, timeoutMs: probeTimeoutMs, clock });
          probed.add(key);
          cache.entries[key] = { ...outcome, provider: p.target.provider, endpoint: p.target.endpoint, credential: p.credential };
          log.info('provider probed', { provider: p.target.provider, endpoint: p.target.endpoint, reason: outcome.reason, latency_ms: outcome.latency_ms, detail: outcome.message });
        }),
      );
      // Forget endpoints no longer configured.
      const keep = new Set(toProbe.map((p) => statusKey(p.target.provider, p.target.endpoint)));
      for (const k of Object.keys(cache.entries)) if (!keep.has(k)) delete cache.entries[k];
      return render(cache.entries, probed);
    });

  try {
    return await locked();
  } catch (err) {
    if (isLogosError(err) && err.code === 'STATE_CORRUPT') {
      // A cache is not worth failing for: the damaged file was moved aside, start again from empty.
      log.warn('provider status cache was damaged; starting a new one', { details: err.details });
      return await locked();
    }
    if (isLogosError(err) && err.code === 'STATE_LOCKED') {
      log.warn('provider status lock busy; reporting without a refresh', { file: file.path });
      const cache = await readCache(file, log);
      return plans.map((p) => {
        if ('local' in p) return toStatus(p.target, p.local, false);
        const e = cache.entries[statusKey(p.target.provider, p.target.endpoint)];
        const last = e ? ` Last known: ${e.reason} at ${e.checked_at}.` : '';
        return toStatus(p.target, { reason: 'STALE_REFRESH', message: `Could not refresh: another logos process holds the lock of ${file.path}.${last}`, latency_ms: null, checked_at: e?.checked_at ?? clock.now().toISOString() }, true);
      });
    }
    throw err;
  }
}

async function readCache(file: JsonFile<ProviderStatusFile>, log: App['logger']): Promise<ProviderStatusFile> {
  try {
    return await file.read();
  } catch (err) {
    if (isLogosError(err) && err.code === 'STATE_CORRUPT') {
      log.warn('provider status cache was damaged; starting a new one', { details: err.details });
      return emptyProviderStatus();
    }
    throw err;
  }
}
