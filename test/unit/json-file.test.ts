import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonFile, withLock } from '../../src/store/json-file.js';
import { LogosError } from '../../src/core/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logos-jf-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Counter {
  n: number;
}
const counter = (p: string) => new JsonFile<Counter>(p, { empty: () => ({ n: 0 }), validate: (v) => typeof (v as Counter).n === 'number' });

describe('JsonFile', () => {
  it('returns the empty value when the file is missing and writes atomically', async () => {
    const f = counter(join(dir, 'c.json'));
    expect(await f.read()).toEqual({ n: 0 });
    await f.update((v) => {
      v.n = 5;
    });
    expect(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8'))).toEqual({ n: 5 });
    // no temp or lock files are left behind
    expect(readdirSync(dir)).toEqual(['c.json']);
  });

  it('serialises concurrent updates under the lock (no lost writes)', async () => {
    const f = counter(join(dir, 'c.json'));
    await Promise.all(
      Array.from({ length: 25 }, () =>
        f.update(async (v) => {
          const seen = v.n;
          await new Promise((r) => setTimeout(r, 1));
          v.n = seen + 1;
        }),
      ),
    );
    expect((await f.read()).n).toBe(25);
  });

  it('moves a corrupt file aside and reports it, never empties it', async () => {
    const p = join(dir, 'c.json');
    writeFileSync(p, '{"n": 3, broken');
    const f = counter(p);
    const err = await f.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogosError);
    expect((err as LogosError).code).toBe('STATE_CORRUPT');
    const aside = (err as LogosError).details.moved_to as string;
    expect(readFileSync(aside, 'utf8')).toBe('{"n": 3, broken');
    expect((err as LogosError).hint).toContain(aside);
  });

  it('treats a file that parses but fails validation as corrupt', async () => {
    const p = join(dir, 'c.json');
    writeFileSync(p, '{"n":"three"}');
    await expect(counter(p).read()).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('an update whose callback throws leaves the file unchanged', async () => {
    const f = counter(join(dir, 'c.json'));
    await f.update((v) => {
      v.n = 1;
    });
    await expect(
      f.update((v) => {
        v.n = 99;
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    expect((await f.read()).n).toBe(1);
  });
});

describe('withLock', () => {
  it('breaks a stale lock left by a dead process', async () => {
    const p = join(dir, 'x.json');
    writeFileSync(`${p}.lock`, `999999 ${Date.now()}\n`);
    expect(await withLock(p, async () => 'got it', 2000)).toBe('got it');
  });

  it('times out with STATE_LOCKED while a live process holds it', async () => {
    const p = join(dir, 'x.json');
    writeFileSync(`${p}.lock`, `${process.pid} ${Date.now()}\n`);
    await expect(withLock(p, async () => 'never', 200)).rejects.toMatchObject({ code: 'STATE_LOCKED' });
  });
});
