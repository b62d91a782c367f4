import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './logos.js';

/**
 * test/fixtures/tui-entry.ts (the dashboard with the in-memory source) bundled into
 * one file the way scripts/build-cli.mjs bundles the CLI (ink and react included),
 * so a real terminal can run it with plain node, from the current sources.
 */
export async function buildTuiEntry(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'logos-tui-entry-'));
  await build({
    entryPoints: { 'tui-entry': join(ROOT, 'test', 'fixtures', 'tui-entry.ts') },
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // As in the CLI bundle: ink's devtools (DEV=true only) stay a chunk loaded on demand.
    splitting: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
      external: ['react-devtools-core'],
    // As the CLI bundle: React's production build.
    define: { 'process.env.NODE_ENV': '"production"' },
    banner: { js: "import { createRequire as __logosRequire } from 'node:module';\nconst require = __logosRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return join(dir, 'tui-entry.mjs');
}
