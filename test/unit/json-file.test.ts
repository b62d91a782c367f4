import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonFile, withLock } from '../../src/store/json-file.js';
import { LogosError } from '../../src/core/errors.js';
import { lockName } from '../../src/store/lock.js';
import { ROOT } from '../helpers/logos.js';

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

describe('JsonFile writes only what changed', () => {
  it('an update that changes nothing creates no file and no directory', async () => {
    const p = join(dir, 'sub', 'c.json');
    await counter(p).update(() => undefined);
    expect(existsSync(join(dir, 'sub'))).toBe(false);
    await counter(p).update((v) => {
      v.n = 2;
    });
    const before = statSync(p).mtimeMs;
    const ino = statSync(p).ino;
    await counter(p).update((v) => {
      v.n = 2;
    });
    expect(statSync(p).ino).toBe(ino); // not replaced by a rename
    expect(statSync(p).mtimeMs).toBe(before);
  });

  it('creates missing directories with the requested mode', async () => {
    const p = join(dir, 'private', 'c.json');
    const f = new JsonFile<Counter>(p, { empty: () => ({ n: 0 }), mode: 0o600, dirMode: 0o700 });
    await f.update((v) => {
      v.n = 1;
    });
    expect(statSync(join(dir, 'private')).mode & 0o777).toBe(0o700);
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('removes temp files left by a writer that died mid-write, and keeps those of live ones', async () => {
    const p = join(dir, 'c.json');
    writeFileSync(join(dir, '.c.json.999999.abc.tmp'), 'half');
    writeFileSync(join(dir, `.c.json.${process.pid}.live.tmp`), 'ours');
    await counter(p).update((v) => {
      v.n = 1;
    });
    expect(readdirSync(dir).sort()).toEqual([`.c.json.${process.pid}.live.tmp`, 'c.json']);
  });
});

/** A separate process that takes the lock of `path` and holds it until it is killed. */
function holdInChild(path: string): Promise<ChildProcess> {
  const lockModule = pathToFileURL(join(ROOT, 'dist', 'store', 'lock.js')).href;
  const code = `const { withLock } = await import(${JSON.stringify(lockModule)});
await withLock(${JSON.stringify(path)}, () => { process.stdout.write('held\\n'); return new Promise(() => setInterval(() => {}, 1000)); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (c) => reject(new Error(`lock holder exited ${c}`)));
  });
}

describe('withLock', () => {
  it('is held across processes, and freed by the kernel the moment its holder is killed (no stale wait)', async () => {
    const p = join(dir, 'x.json');
    const child = await holdInChild(p);
    await expect(withLock(p, async () => 'never', 300)).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    expect(await withLock(p, async () => 'got it', 5000)).toBe('got it');
    // Nothing on disk: there is no lock file to leave behind or to break.
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ignores a lock file of the old kind (nothing to break, nothing to steal)', async () => {
    const p = join(dir, 'x.json');
    writeFileSync(`${p}.lock`, `${process.pid} ${Date.now()}\n`);
    expect(await withLock(p, async () => 'got it', 2000)).toBe('got it');
  });

  it('times out with STATE_LOCKED while another holder in this process keeps it', async () => {
    const p = join(dir, 'x.json');
    let release!: () => void;
    const holding = withLock(p, () => new Promise<void>((r) => (release = r)));
    await expect(withLock(p, async () => 'never', 200)).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    release();
    await holding;
    expect(await withLock(p, async () => 'next', 2000)).toBe('next');
  });

  it('names the same lock for two spellings of one path', () => {
    expect(lockName(join(dir, 'a', '..', 'x.json'))).toBe(lockName(join(dir, 'x.json')));
    expect(lockName(join(dir, 'x.json'))).not.toBe(lockName(join(dir, 'y.json')));
  });
});
