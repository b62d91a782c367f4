import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Script } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/logos.js';

/**
 * The launcher loads the CLI bundle with the V8 code cache the build made. A cache V8 does
 * not accept (another Node, other flags, a damaged file) or no cache at all must only cost
 * time, never a wrong or failed start.
 */

interface Loader {
  BUNDLE: string;
  CODE_CACHE: string;
  compileBundle(file: string, cachedData?: Buffer): Script;
  runBundle(script: Script, file: string): { main: unknown };
}
const loader = createRequire(import.meta.url)(join(ROOT, 'bin', 'load-bundle.js')) as Loader;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the package as installed: bin/, dist/, package.json (node_modules linked). */
function installCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'logos-install-'));
  dirs.push(dir);
  for (const part of ['bin', 'dist', 'templates', 'policies', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function logos(dir: string, args: string[], bin = join(dir, 'bin', 'logos.js')): string {
  const home = mkdtempSync(join(tmpdir(), 'logos-home-'));
  dirs.push(home);
  return execFileSync(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, LOGOS_HOME: home, HOME: home, NO_COLOR: '1' }, encoding: 'utf8' });
}

describe('the CLI bundle and its code cache', () => {
  it('the cache the build made is accepted by this Node', () => {
    const script = loader.compileBundle(loader.BUNDLE, readFileSync(loader.CODE_CACHE));
    expect(script.cachedDataRejected).toBe(false);
    expect(typeof loader.runBundle(script, loader.BUNDLE).main).toBe('function');
  });

  it('a damaged cache is rejected by V8 and the CLI works all the same', () => {
    const script = loader.compileBundle(loader.BUNDLE, Buffer.from('not a code cache at all'));
    expect(script.cachedDataRejected).toBe(true);
    expect(typeof loader.runBundle(script, loader.BUNDLE).main).toBe('function');
    const dir = installCopy();
    writeFileSync(join(dir, 'dist', 'bundle', 'logos.cjs.cache'), 'damaged');
    expect(JSON.parse(logos(dir, ['status', '--json']))).toMatchObject({ ok: true });
  });

  it('works without a cache, and through a symlinked launcher (as npm installs it)', () => {
    const dir = installCopy();
    rmSync(join(dir, 'dist', 'bundle', 'logos.cjs.cache'));
    expect(JSON.parse(logos(dir, ['runs', 'list', '--json']))).toEqual({ ok: true, items: [] });
    const link = join(dir, 'logos-link');
    symlinkSync(join(dir, 'bin', 'logos.js'), link);
    expect(logos(dir, ['--help'], link)).toContain('Usage: logos');
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(logos(dir, ['--version'], link)).toBe(`${version}\n`);
  });

  it('the bundle is ASCII and calls import() only through the launcher (checked by the build too)', () => {
    const text = readFileSync(loader.BUNDLE, 'latin1');
    expect(/[^\x00-\x7f]/.test(text)).toBe(false);
    expect(/\bimport\(/.test(text.replace(/__logosImport\(/g, ''))).toBe(false);
  });
});
