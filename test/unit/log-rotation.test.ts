import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logFiles } from '../../src/log/files.js';
import { createFileLogger, KEEP_FILES } from '../../src/log/logger.js';
import { ROOT, waitFor } from '../helpers/logos.js';

/** The unified log's files as pino-roll writes them: numbered, rolled by size, the oldest removed, shared by several processes. */

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'logos-roll-')), 'logs');
});
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const names = (): string[] => readdirSync(dir).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
async function records(): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (const f of await logFiles(dir)) {
    let text: string;
    try {
      text = readFileSync(f.path, 'utf8');
    } catch (err) {
      // pino-roll removes the oldest files beyond the count on its own time: one may go between listing and reading.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const l of text.split('\n').filter(Boolean)) out.push({ ...(JSON.parse(l) as Record<string, unknown>), file: f.n });
  }
  return out;
}
const PAD = 'x'.repeat(80);

describe('the rolling log', () => {
  it('starts a new number at the size limit and keeps the newest files, in order, with no gap', async () => {
    const log = createFileLogger(dir, { source: 'test', rotateBytes: 4096 });
    for (let i = 0; i < 400; i++) {
      log.info('record', { i, pad: PAD });
      if (i % 5 === 4) await turn(); // pino-roll moves to the next file once a write has drained
    }
    await waitFor(() => names().length === KEEP_FILES, `${KEEP_FILES} files`);
    const kept = names();
    expect(kept.every((n) => /^logos\.\d+\.jsonl$/.test(n))).toBe(true);
    expect(Number(kept[0]?.split('.')[1])).toBeGreaterThan(1); // the oldest were removed
    for (const n of kept) expect(statSync(join(dir, n)).size).toBeLessThan(4096 + 5 * 200);
    const is = (await records()).map((r) => r.i as number);
    expect(is.at(-1)).toBe(399);
    expect(is).toEqual(Array.from({ length: is.length }, (_, k) => 400 - is.length + k));
  });

  it('a writer that opened an older number joins the newest one another writer started', async () => {
    const busy = createFileLogger(dir, { source: 'busy', rotateBytes: 4096 });
    const quiet = createFileLogger(dir, { source: 'quiet', rotateBytes: 4096 });
    quiet.info('first', { pad: PAD });
    busy.info('first', { pad: PAD });
    await waitFor(() => names().length === 1, 'the first file');
    for (let i = 0; i < 100; i++) {
      busy.info('busy', { i, pad: PAD });
      if (i % 5 === 4) await turn();
    }
    await waitFor(() => names().length >= 3, 'busy to roll twice');
    // The quiet writer still counts its own few bytes in logos.1; after a limit's worth it looks again.
    for (let i = 0; i < 60; i++) {
      quiet.info('quiet', { i, pad: PAD });
      await turn();
    }
    const newest = (await logFiles(dir)).at(-1)?.n;
    const last = (await records()).filter((r) => r.source === 'quiet').at(-1);
    expect(last?.i).toBe(59);
    expect(last?.file).toBe(newest);
  });

  function child(script: string): Promise<number | null> {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: 'ignore' });
    return new Promise((r) => p.on('close', (code) => r(code)));
  }
  const logger = JSON.stringify(join(ROOT, 'dist', 'log', 'logger.js'));

  it('a process that exits at once still leaves its lines (written before pino-roll had opened the file)', async () => {
    const code = await child(`const { createFileLogger } = await import(${logger}); const l = createFileLogger(${JSON.stringify(dir)}, { source: 't' }); l.error('last words'); process.exit(3);`);
    expect(code).toBe(3);
    expect((await records()).map((r) => r.msg)).toEqual(['last words']);
  });

  it('four processes writing at once: every record once, no file far past the limit', async () => {
    const limit = 128 * 1024;
    const script = (w: number) =>
      `const { createFileLogger } = await import(${logger}); const l = createFileLogger(${JSON.stringify(dir)}, { source: 'w${w}', rotateBytes: ${limit} });` +
      `for (let i = 0; i < 400; i++) { l.info('r', { w: ${w}, i, pad: ${JSON.stringify(PAD)} }); if (i % 10 === 9) await new Promise((r) => setImmediate(r)); }`;
    expect(await Promise.all([0, 1, 2, 3].map((w) => child(script(w))))).toEqual([0, 0, 0, 0]);
    const all = await records();
    const seen = new Set(all.map((r) => `${String(r.w)}:${String(r.i)}`));
    expect(all.length).toBe(1600);
    expect(seen.size).toBe(1600);
    expect(names().length).toBeGreaterThan(1);
    for (const n of names()) expect(statSync(join(dir, n)).size).toBeLessThan(4 * limit);
  });
});
