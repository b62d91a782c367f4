/**
 * Helpers for the name-indexed record maps kept in state files (routes,
 * sandboxes, gateways, keys). Names come from users and from files on disk, so
 * a lookup must only ever see the map's own entries: `routes["__proto__"]` or
 * `sandboxes["constructor"]` would otherwise find Object.prototype's members.
 * Also the shape checks applied when a state file is loaded, so a damaged file
 * is reported (STATE_CORRUPT, moved aside) instead of crashing later.
 */

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The entry stored under `key`, never an inherited member. */
export function own<T>(map: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

export function hasOwn(map: object, key: string): boolean {
  return Object.hasOwn(map, key);
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown): boolean => v === undefined || typeof v === 'string';
const optNum = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v));
const optBool = (v: unknown): boolean => v === undefined || typeof v === 'boolean';

/** A map of records, each an object whose `name` (when it has one) is its key. */
export function isRecordMap(v: unknown, entry: (e: Record<string, unknown>) => boolean, named = true): boolean {
  if (!isObject(v)) return false;
  for (const [k, e] of Object.entries(v)) {
    if (!isObject(e)) return false;
    if (named && e.name !== k) return false;
    if (!entry(e)) return false;
  }
  return true;
}

export function validRoutesFile(v: unknown): boolean {
  if (!isObject(v) || !optStr(v.default)) return false;
  return isRecordMap(
    v.routes,
    (r) =>
      isStr(r.provider) &&
      isStr(r.model) &&
      (r.api === 'openai-chat' || r.api === 'anthropic-messages') &&
      isStr(r.endpoint) &&
      typeof r.timeout_sec === 'number' &&
      isStr(r.created_at) &&
      (r.status === 'ready' || r.status === 'provisioning' || r.status === 'error') &&
      optStr(r.status_detail) &&
      optStr(r.gateway) &&
      optStr(r.workspace) &&
      optBool(r.demo),
  );
}

export function validSandboxesFile(v: unknown): boolean {
  if (!isObject(v)) return false;
  return isRecordMap(
    v.sandboxes,
    (s) =>
      (s.driver === 'local' || s.driver === 'openshell') &&
      isStr(s.route) &&
      isStr(s.created_at) &&
      optStr(s.dir) &&
      optStr(s.gateway) &&
      optStr(s.workspace) &&
      optStr(s.worker_sha) &&
      // Names are not checked against this version's tools: a newer Logos may know more.
      (s.tools === undefined || (Array.isArray(s.tools) && s.tools.every(isStr))),
  );
}

export function validGatewaysFile(v: unknown): boolean {
  if (!isObject(v)) return false;
  return isRecordMap(
    v.gateways,
    (g) =>
      isStr(g.endpoint) &&
      (g.kind === 'local' || g.kind === 'remote') &&
      typeof g.managed === 'boolean' &&
      isStr(g.created_at) &&
      (g.state === undefined || g.state === 'up' || g.state === 'down') &&
      optStr(g.container) &&
      optNum(g.port) &&
      optStr(g.image) &&
      optStr(g.volume),
  );
}

/** Cache files: `{[key]: {...}}` maps whose entries are objects (their fields are re-checked where used). */
export function validEntriesFile(v: unknown): boolean {
  return isObject(v) && isRecordMap(v.entries, () => true, false);
}
