import { LogosError } from './errors.js';

/**
 * Route names are the sanitised model id: lowercase, runs of [^a-z0-9-] become '-',
 * repeats collapsed, '-' trimmed, at most 63 chars, 'unknown' when empty.
 * `qwen/qwen3.5-9b` → `qwen-qwen3-5-9b`.
 */
export function sanitizeModelId(model: string): string {
  const s = model
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  return s || 'unknown';
}

const SANDBOX_NAME_RE = /^[a-z0-9][a-z0-9.-]{0,62}$/;

/** OpenShell's server rule for sandbox names (validation.rs, since v0.0.96; unchanged in 0.1.x). */
export const OPENSHELL_NAME_MAX = 19;
const OPENSHELL_NAME_RULE = `lowercase letters, digits and single "-" between them, at most ${OPENSHELL_NAME_MAX} characters (no "." and no "-" at either end)`;

/** A routable DNS label as OpenShell's server accepts it: [a-z0-9-], at most 19, no leading/trailing/doubled "-". */
export function isOpenShellName(name: string): boolean {
  return name.length >= 1 && name.length <= OPENSHELL_NAME_MAX && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name);
}

/**
 * Sandbox names. Local sandboxes: DNS-1123 style, [a-z0-9.-], at most 63, starting
 * alphanumeric. OpenShell sandboxes: what its server accepts (isOpenShellName).
 */
export function validateSandboxName(name: string, driver: 'local' | 'openshell' = 'local'): string {
  if (driver === 'openshell') {
    if (!isOpenShellName(name)) {
      throw new LogosError('INVALID_NAME', `Invalid OpenShell sandbox name '${name}'.`, {
        hint: `OpenShell accepts ${OPENSHELL_NAME_RULE}, e.g. "work" or "review-1".`,
        details: { rule: OPENSHELL_NAME_RULE, length: name.length },
      });
    }
    return name;
  }
  if (!SANDBOX_NAME_RE.test(name) || name.endsWith('-') || name.endsWith('.')) {
    throw new LogosError('INVALID_NAME', `Invalid sandbox name '${name}'.`, {
      hint: 'Use lowercase letters, digits, "-" and ".", start and end with a letter or digit, at most 63 characters (e.g. "demo" or "work-1").',
    });
  }
  return name;
}

/** Stable 32-bit FNV-1a, base36, 5 characters. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, '0').slice(-5);
}

/**
 * A name OpenShell accepts, derived from a longer one: the name itself when it fits,
 * otherwise a prefix plus a short stable hash (`meta-llama-llama-3-1-8b` → `meta-llama-ll-1x2k9`).
 * Stable (the same input gives the same label) and different from every name in `taken`.
 */
export function shortOpenShellName(name: string, taken: ReadonlySet<string> = new Set()): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'route';
  const candidates = [clean.length <= OPENSHELL_NAME_MAX ? clean : undefined];
  for (let i = 0; i < 50; i++) {
    const h = shortHash(i === 0 ? clean : `${clean}#${i}`);
    const prefix = clean.slice(0, OPENSHELL_NAME_MAX - h.length - 1).replace(/-+$/, '');
    candidates.push(`${prefix || 'r'}-${h}`);
  }
  for (const c of candidates) if (c && !taken.has(c)) return c;
  throw new LogosError('INTERNAL', `Could not derive a free short name for '${name}'.`);
}

/** The sandbox a route's tasks use when none is named: the route name, made to fit OpenShell's rule there. */
export function sandboxNameForRoute(routeName: string, driver: 'local' | 'openshell'): string {
  return driver === 'openshell' ? shortOpenShellName(routeName) : routeName;
}

const ROUTE_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function validateRouteName(name: string): string {
  if (!ROUTE_NAME_RE.test(name)) {
    throw new LogosError('INVALID_NAME', `Invalid route name '${name}'.`, {
      hint: 'Use lowercase letters, digits and "-", start and end with a letter or digit, at most 63 characters.',
    });
  }
  return name;
}

/** A model id as a provider accepts it: printable, no whitespace or control characters. */
export function validateModelId(model: string): string {
  if (!model || model.length > 256 || /[\s\u0000-\u001f\u007f]/.test(model)) {
    throw new LogosError('INVALID_ARGUMENT', `Invalid model id '${model.replace(/[\u0000-\u001f\u007f]/g, '?')}'.`, {
      hint: 'A model id has no spaces or control characters, e.g. "openai/gpt-4o-mini" or "lmstudio/qwen/qwen3.5-9b".',
    });
  }
  return model;
}

/** Task ids: sortable by time, unique enough for one host. */
export function newTaskId(now: Date = new Date()): string {
  const ts = now.getTime().toString(36).padStart(9, '0');
  const rand = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  return `t_${ts}${rand}`;
}

/** The longest timer Node keeps (2^31-1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RangeOpts {
  /** The option being parsed, for the message (e.g. "--timeout"). */
  flag?: string;
  min?: number;
  max?: number;
}

function describeMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Parse a duration such as 600s, 10m, 2h, 1d, 1500ms or a bare number of
 * seconds, and check it is within [min, max] ms (default: 1 ms to 24 days, the
 * longest timer Node keeps).
 */
export function parseDuration(text: string, opts: RangeOpts = {}): number {
  const what = opts.flag ? `${opts.flag} ` : '';
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) {
    throw new LogosError('INVALID_ARGUMENT', `Invalid duration ${what}'${text}'.`, {
      hint: 'Use a number with a unit: 1500ms, 90s, 10m, 2h, 1d (a bare number means seconds).',
    });
  }
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1000;
  const ms = Math.round(n * mult);
  const min = opts.min ?? 1;
  const max = opts.max ?? 24 * 86_400_000;
  if (!(ms >= min && ms <= max)) {
    throw new LogosError('INVALID_ARGUMENT', `${what ? `${what}` : 'The duration '}'${text}' is out of range: use ${describeMs(min)} to ${describeMs(max)}.`, {
      hint: 'e.g. --timeout 90s, 10m or 2h.',
    });
  }
  return ms;
}

/** A whole number written in decimal digits only (no 1e21, 0x10, 1.0), within [min, max]. */
export function parseWholeNumber(text: string, opts: RangeOpts & { flag: string }): number {
  const n = /^\s*\d{1,16}\s*$/.test(text) ? Number(text) : NaN;
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new LogosError('INVALID_ARGUMENT', `${opts.flag} must be a whole number from ${min} to ${max}, got '${text}'.`);
  }
  return n;
}

/** A decimal number (digits, optional fraction; no exponent or hex), within [min, max]. */
export function parseDecimal(text: string, opts: RangeOpts & { flag: string }): number {
  const n = /^\s*\d{1,6}(\.\d{1,12})?\s*$/.test(text) ? Number(text) : NaN;
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new LogosError('INVALID_ARGUMENT', `${opts.flag} must be a number from ${min} to ${max}, got '${text}'.`);
  }
  return n;
}
