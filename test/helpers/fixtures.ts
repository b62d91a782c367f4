import { buildSync } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './logos.js';

/**
 * A fixture worker (test/fixtures/workers/<name>.mjs) as the one file a sandbox runs,
 * bundled with what it imports. Use it as LOGOS_WORKER_FILE.
 */
const built = new Map<string, string>();
export function fixtureWorker(name: string): string {
  const cached = built.get(name);
  if (cached) return cached;
  const out = join(mkdtempSync(join(tmpdir(), 'logos-fixture-')), `${name}.mjs`);
  buildSync({ entryPoints: [join(ROOT, 'test', 'fixtures', 'workers', `${name}.mjs`)], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'silent' });
  built.set(name, out);
  return out;
}
