/**
 * Secret masking, used by the log writer, error rendering, --json output and
 * anything else that could surface a key. Pure functions, no IO.
 */

/** Show at most a short prefix and the last 4 characters. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '****';
  const prefixMatch = /^(sk-ant-|sk-or-|sk-proj-|sk-|nvapi-|ghp_|gho_|hf_|xai-)/.exec(secret);
  const prefix = prefixMatch ? prefixMatch[1] : '';
  return `${prefix}…${secret.slice(-4)}`;
}

/** Each pattern has two groups: a label that is kept and a value that is masked. */
const PATTERNS: RegExp[] = [
  // Bearer tokens in headers or text
  /(Bearer\s+)([A-Za-z0-9._~+/=-]{6,})/gi,
  // well-known key shapes
  /()\b(sk-ant-[A-Za-z0-9_-]{6,})/g,
  /()\b(sk-[A-Za-z0-9_-]{12,})/g,
  /()\b(nvapi-[A-Za-z0-9_-]{8,})/g,
  /()\b(gh[pousr]_[A-Za-z0-9]{8,})/g,
  /()\b(hf_[A-Za-z0-9]{8,})/g,
  // the password of credentials inside a URL: https://user:secret@host
  /(\/\/[^\s/:@"']+:)([^\s@"'/]+)(?=@)/g,
  // KEY=value / TOKEN=value / SECRET=value / PASSWORD=value assignments
  /\b([A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)=)([^\s"',;]+)/g,
  // x-api-key / api_key / "apiKey": "..." in JSON or headers (not "Authorization: Bearer", handled above)
  /((?:x-api-key|api[_-]?key|authorization)"?\s*[:=]\s*"?)(?!Bearer\b)([^\s"',;]{6,})/gi,
];

/**
 * Secrets registered at run time (keys read from the vault or the environment)
 * are masked wherever they appear, whatever their shape. The registry belongs to the
 * process: a long-lived daemon keeps masking a key after it was rotated or removed
 * (its old value may still sit in a log line being served). Bounded: past
 * MAX_KNOWN the oldest is forgotten (the patterns below still mask key-shaped text).
 */
const known = new Set<string>();
const MAX_KNOWN = 1000;

export function registerSecret(secret: string | undefined | null): void {
  if (!secret || secret.length < 6 || known.has(secret)) return;
  known.add(secret);
  if (known.size > MAX_KNOWN) known.delete(known.values().next().value as string);
}

export function clearRegisteredSecrets(): void {
  known.clear();
}

export function redactText(text: string): string {
  let out = text;
  for (const s of known) {
    if (out.includes(s)) out = out.split(s).join(maskSecret(s));
  }
  for (const re of PATTERNS) {
    out = out.replace(re, (match: string, label: string, value: string) => {
      // Already masked (e.g. by a registered secret): leave it.
      if (value.includes('…') || value === '****') return match;
      return label + maskSecret(value);
    });
  }
  return out;
}

const SECRET_KEY_RE = /(key|token|secret|password|authorization|credential)s?$/i;

/** Deep-copy a value, masking secret-looking strings and values under secret-looking keys. */
export function redactValue<T>(value: T, depth = 0): T {
  if (depth > 8) return value;
  if (typeof value === 'string') return redactText(value) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1)) as unknown as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v === 'string' && SECRET_KEY_RE.test(k) && v.length > 0) out[k] = maskSecret(v);
      else out[k] = redactValue(v, depth + 1);
    }
    return out as T;
  }
  return value;
}

/** Redact an environment for logging: names are kept, values of secret-looking names are masked. */
export function redactEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    out[k] = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|AUTH/i.test(k) ? maskSecret(v) : redactText(v);
  }
  return out;
}
