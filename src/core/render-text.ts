import { stripControls } from './text.js';

/**
 * Pure, colour-free formatting of a run for a person: one-line previews, a tool
 * call's argument preview, its outcome and duration. Shared by the CLI's run
 * renderer (src/cli/renderer.ts) and the TUI (src/tui), which may not import src/cli.
 */

/** One line of at most `max` characters, control characters removed, whitespace collapsed. */
export function oneLine(text: string, max: number): string {
  const flat = stripControls(text).replace(/\s+/g, ' ').trim();
  if (max <= 1) return flat.slice(0, Math.max(0, max));
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The argument fields worth showing for a tool call, in order of preference. */
const ARG_KEYS = ['command', 'path', 'pattern', 'query', 'file', 'url'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What a person wants to see of a tool call's arguments: `ls -la` rather than
 * `{"command":"ls -la"}`. The preview is at most 200 characters of JSON and may be
 * cut mid-way; then the first string value is shown as far as it goes.
 */
export function argPreview(preview: unknown): string {
  if (typeof preview !== 'string' || preview === '') return '';
  try {
    const v: unknown = JSON.parse(preview);
    if (typeof v === 'string') return v;
    if (isPlainObject(v)) {
      for (const k of ARG_KEYS) if (typeof v[k] === 'string') return v[k] as string;
      const first = Object.values(v).find((x) => typeof x === 'string');
      if (typeof first === 'string') return first;
    }
    return preview;
  } catch {
    const m = /^\s*\{\s*"[^"\\]*"\s*:\s*"((?:[^"\\]|\\.)*)/.exec(preview);
    if (m) {
      const raw = (m[1] as string).replace(/\\$/, '');
      try {
        return `${JSON.parse(`"${raw}"`) as string}…`;
      } catch {
        return `${raw}…`;
      }
    }
    return preview;
  }
}

export function formatDuration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** `✓ exit 0 · 0.4s`, `✗ exit 2 · 12ms`, `✗ 3ms` (a tool without an exit code). */
export function toolOutcome(end: { ok?: unknown; exit_code?: unknown; duration_ms?: unknown }): { ok: boolean; text: string } {
  const ok = end.ok === true;
  const exit = typeof end.exit_code === 'number' && Number.isSafeInteger(end.exit_code) ? `exit ${end.exit_code}` : '';
  const d = formatDuration(end.duration_ms);
  return { ok, text: [ok ? '✓' : '✗', [exit, d].filter(Boolean).join(' · ')].filter(Boolean).join(' ') };
}

/** The tool's name and its argument preview, each on one line, fitted to `width`. */
export function toolCallParts(tool: string, args: string, width: number): { name: string; args: string } {
  const name = oneLine(tool, 40) || 'tool';
  return { name, args: oneLine(args, Math.max(16, width - name.length - 8)) };
}

/** A tool call as one line (without colour): `▹ shell  ls -la`. */
export function toolCallLine(tool: string, args: string, width: number): string {
  const p = toolCallParts(tool, args, width);
  return p.args ? `▹ ${p.name}  ${p.args}` : `▹ ${p.name}`;
}
