import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, ROOT, type Home } from '../helpers/logos.js';

/** `logos dashboard` through the real CLI: it needs a terminal, and ink loads only when it draws. */

let home: Home;
beforeAll(() => {
  home = makeHome();
});
afterAll(() => home.cleanup());

describe('logos dashboard', () => {
  it('refuses without a terminal (NO_TTY, exit 2) and points at status --json and debug tail --follow', async () => {
    const r = await home.run(['dashboard']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('logos dashboard needs a terminal, and stdin is not one.');
    expect(r.stderr).toContain('`logos status --json`');
    expect(r.stderr).toContain('`logos debug tail --follow`');
    expect(r.stdout).toBe('');
    const j = await home.run(['dashboard', '--readonly', '--json']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'NO_TTY' } });
  });

  it('says what it does in --help', async () => {
    const r = await home.run(['dashboard', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--readonly');
    expect(r.stdout).toContain(':gateways :routes :sandboxes :runs :logs');
  });

  it('loads ink and react only when it draws (no static import in the command module, none in the CLI bundle)', () => {
    const text = readFileSync(join(ROOT, 'src', 'cli', 'commands', 'dashboard.ts'), 'utf8');
    const statics = [...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
    expect(statics.filter((s) => /(^|\/)(tui|ink|react)(\/|$)/.test(s ?? ''))).toEqual([]);
    expect(text).toContain("import('../load-tui.js')");
    expect(readFileSync(join(ROOT, 'src', 'cli', 'load-tui.ts'), 'utf8')).toContain("import('../tui/run.js')");
    // The CLI bundle holds none of it: the dashboard is its own bundle, imported when it draws.
    const sources = (JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'logos.cjs.map'), 'utf8')) as { sources: string[] }).sources;
    expect(sources.filter((s) => /node_modules\/(ink|react|react-reconciler|yoga-layout)\/|src\/tui\//.test(s))).toEqual([]);
    const tui = (JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'tui', 'run.js.map'), 'utf8')) as { sources: string[] }).sources;
    expect(tui.some((s) => s.endsWith('src/tui/run.tsx'))).toBe(true);
  });
});
