/**
 * Secret scrubbing for the worker's own log lines and error messages. The worker
 * cannot import src/core (it must stay dependency-free), so this is a small copy
 * of the patterns that matter here: keys read from the environment and key-like
 * strings an upstream might echo back ("Incorrect API key provided: sk-…").
 */

const known = new Set<string>();

/** Mask this exact value wherever it appears from now on. */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 6) known.add(secret);
}

export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '****';
  return `…${secret.slice(-4)}`;
}

const PATTERNS: RegExp[] = [
  /\b(?:sk-ant-|sk-or-|sk-proj-|sk-|nvapi-|gh[pousr]_|hf_|xai-)[A-Za-z0-9_-]{8,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{6,}/gi,
];

export function scrub(text: string): string {
  let out = text;
  for (const s of known) {
    if (out.includes(s)) out = out.split(s).join(maskSecret(s));
  }
  for (const re of PATTERNS) {
    out = out.replace(re, (m) => (/^Bearer\s/i.test(m) ? 'Bearer ****' : maskSecret(m)));
  }
  return out;
}

/** Collapse whitespace and cut to `max` characters (upstream messages can be whole HTML pages). */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
