import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/logos.js';

/** The layer rules of the house style, checked on the source tree (eslint checks the same imports). */

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(n) ? [p] : [];
  });
}

const SRC = join(ROOT, 'src');
const all = files(SRC).map((p) => ({ rel: relative(ROOT, p), text: readFileSync(p, 'utf8') }));

function imports(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] as string);
}

function offenders(pred: (f: { rel: string; text: string }) => boolean, bad: (spec: string) => boolean): string[] {
  return all.filter(pred).flatMap((f) => imports(f.text).filter(bad).map((s) => `${f.rel} imports ${s}`));
}

describe('layers', () => {
  it('has source files to check', () => {
    expect(all.length).toBeGreaterThan(20);
  });

  it('execa only in src/adapters/exec', () => {
    expect(offenders((f) => !f.rel.startsWith('src/adapters/exec/'), (s) => s === 'execa')).toEqual([]);
  });

  it('ink/react only in src/tui', () => {
    expect(offenders((f) => !f.rel.startsWith('src/tui/'), (s) => /^(ink|react)(\/|$)/.test(s))).toEqual([]);
  });

  it('commander only in src/cli', () => {
    expect(offenders((f) => !f.rel.startsWith('src/cli/'), (s) => s === 'commander')).toEqual([]);
  });

  it('core imports no adapters, store, log, app, cli, tui or daemon', () => {
    expect(offenders((f) => f.rel.startsWith('src/core/'), (s) => /(^|\/)(adapters|store|log|app|cli|tui|daemon)\//.test(s) || /^(execa|pino|conf|commander|ink|react)$/.test(s))).toEqual([]);
  });

  it('the application layer is called from cli, daemon and tui only, and calls none of them', () => {
    expect(offenders((f) => /^src\/(core|adapters|store|log|worker)\//.test(f.rel), (s) => /(^|\/)app\//.test(s))).toEqual([]);
    expect(offenders((f) => f.rel.startsWith('src/app/'), (s) => /(^|\/)(cli|daemon|tui)\//.test(s) || /^(execa|commander|ink|react)$/.test(s))).toEqual([]);
  });

  it('the worker is standalone: node builtins, its own files and core/protocol only', () => {
    expect(offenders((f) => f.rel.startsWith('src/worker/'), (s) => !(s.startsWith('node:') || /^\.\/[^/]+$/.test(s) || s === '../core/protocol.js'))).toEqual([]);
  });

  it('core/protocol.ts has no imports (the worker bundle includes it)', () => {
    expect(imports(all.find((f) => f.rel === 'src/core/protocol.ts')?.text ?? 'missing')).toEqual([]);
  });

  it('HOME, XDG_* and LOGOS_HOME are read only in src/store/paths.ts', () => {
    const bad = all
      .filter((f) => f.rel !== 'src/store/paths.ts' && !f.rel.startsWith('src/worker/'))
      .filter((f) => /process\.env\.(HOME|XDG_[A-Z_]+|LOGOS_HOME)\b|env\.(HOME|XDG_[A-Z_]+|LOGOS_HOME)\b|homedir\(\)/.test(f.text))
      .map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  it('process.exit only in src/cli (and the worker, which is its own program)', () => {
    const bad = all.filter((f) => !f.rel.startsWith('src/cli/') && !f.rel.startsWith('src/worker/') && /process\.exit\(/.test(f.text)).map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  it('the import scanner sees real imports (self-check)', () => {
    expect(imports("import { x } from 'execa';\nexport { y } from './y.js';\nconst m = await import('ink');")).toEqual(['execa', './y.js', 'ink']);
  });
});
