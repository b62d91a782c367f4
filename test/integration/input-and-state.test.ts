import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { makeHome, type Home } from '../helpers/logos.js';

/**
 * Bad input and damaged or unwritable state: refused with a reason code and a
 * hint, before anything is written, and never "fixed" silently.
 */

let openai: FakeModelServer;
let home: Home;
beforeAll(async () => {
  openai = await startFakeOpenAI();
});
afterAll(async () => {
  await openai.close();
});
beforeEach(() => {
  home = makeHome();
  openai.requests.length = 0;
});
afterEach(() => home.cleanup());

const logosHome = (): string => join(home.dir, 'logos');
const errorOf = (stdout: string): { code: string; message: string; hint?: string } => (JSON.parse(stdout.trim().split('\n').at(-1) as string) as { error: { code: string; message: string } }).error;

async function addRoute(): Promise<void> {
  const r = await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'fake', '--default']);
  expect(r.code, r.stderr).toBe(0);
}

describe('keys', () => {
  it('`creds remove` on a fresh home writes nothing (no 0755 directory that breaks every later command)', async () => {
    const r = await home.run(['creds', 'remove', 'openai', '--json']);
    expect(r.code).toBe(3);
    expect(existsSync(join(logosHome(), 'config', 'credentials'))).toBe(false);
    const set = await home.run(['creds', 'set', 'openai', '--key-stdin'], { input: 'sk-fresh-0123456789abcdef' });
    expect(set.code, set.stderr).toBe(0);
    expect(statSync(join(logosHome(), 'config', 'credentials')).mode & 0o777).toBe(0o700);
    expect(statSync(join(logosHome(), 'config', 'credentials', 'credentials.json')).mode & 0o777).toBe(0o600);
    expect((await home.run(['creds', 'list'])).code).toBe(0);
  });

  it('a key over 64 KiB is refused whole, not stored cut', async () => {
    const r = await home.run(['creds', 'set', 'openai', '--key-stdin', '--json'], { input: 'k'.repeat(70_000) });
    expect(r.code).toBe(2);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('64 KiB') });
    expect(existsSync(join(logosHome(), 'config', 'credentials', 'credentials.json'))).toBe(false);
  });

  it('a 0400 credentials file is private enough', async () => {
    expect((await home.run(['creds', 'set', 'openai', '--key-stdin'], { input: 'sk-ro-0123456789abcdefgh' })).code).toBe(0);
    chmodSync(join(logosHome(), 'config', 'credentials', 'credentials.json'), 0o400);
    const r = await home.run(['creds', 'list', '--json']);
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).items).toHaveLength(1);
  });
});

describe('names that are not records', () => {
  it.each([
    [['route', 'set-default', '__proto__']],
    [['route', 'show', 'constructor']],
    [['route', 'remove', 'hasOwnProperty']],
    [['sandbox', 'show', 'constructor']],
    [['sandbox', 'delete', '__proto__']],
    [['creds', 'remove', 'constructor']],
    [['creds', 'remove', '__proto__']],
    [['run', '--sandbox', 'toString', 'hi']],
    [['run', '--route', '__proto__', 'hi']],
  ])('%j is NOT_FOUND, and changes nothing', async (args) => {
    await addRoute();
    const before = readFileSync(join(logosHome(), 'state', 'routes.json'), 'utf8');
    const r = await home.run([...args, '--json']);
    expect(r.code, r.stdout).toBe(3);
    expect(errorOf(r.stdout).code).toBe('NOT_FOUND');
    expect(readFileSync(join(logosHome(), 'state', 'routes.json'), 'utf8')).toBe(before);
    // Runs still work afterwards.
    expect((await home.run(['run', 'still fine'])).code).toBe(0);
  });
});

describe('numbers and durations', () => {
  it.each([
    [['run', '--timeout', '99999999d', 'hi'], '--timeout'],
    [['run', '--timeout', '0', 'hi'], '--timeout'],
    [['run', '--timeout', '0.1ms', 'hi'], '--timeout'],
    [['run', '--max-tokens', '1e21', 'hi'], '--max-tokens'],
    [['run', '--max-tokens', '0', 'hi'], '--max-tokens'],
    [['run', '--max-tokens', '99999999999', 'hi'], '--max-tokens'],
    [['run', '--temperature', '0x1', 'hi'], '--temperature'],
    [['run', '--temperature', '1e0', 'hi'], '--temperature'],
    [['run', '--temperature', '3', 'hi'], '--temperature'],
    [['route', 'add', 'custom/m', '--endpoint', 'http://127.0.0.1:9/v1', '--timeout', '0'], '--timeout'],
    [['runs', 'list', '-n', '1e3'], '--limit'],
    [['sandbox', 'logs', 'x', '-n', '-1'], '--lines'],
  ])('%j → INVALID_ARGUMENT (exit 2), and nothing is written', async (args, flag) => {
    const r = await home.run([...args, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(flag) });
    // A usage error leaves no trace: not even the log or state directory.
    expect(existsSync(logosHome())).toBe(false);
  });

  it('a deadline inside the range still works', async () => {
    await addRoute();
    const r = await home.run(['run', '--timeout', '24d', '--max-tokens', '100', '--temperature', '0.5', 'ok']);
    expect(r.code, r.stderr).toBe(0);
    expect(openai.requests.at(-1)?.body).toMatchObject({ max_tokens: 100, temperature: 0.5 });
  });
});

describe('input', () => {
  it('stdin over 4 MiB is TASK_TOO_LARGE, reported as such, with no run recorded', async () => {
    await addRoute();
    const r = await home.run(['run', '--json'], { input: 'a'.repeat(17 * 1024 * 1024) });
    expect(r.code).toBe(2);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'TASK_TOO_LARGE', message: expect.stringContaining('larger than 4 MiB') });
    expect((JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items).toEqual([]);
    expect(openai.requests).toHaveLength(0);
  });

  it('a message just under the limit but too big with its envelope is refused before a run record is written', async () => {
    await addRoute();
    const f = join(home.dir, 'big.txt');
    writeFileSync(f, 'b'.repeat(4 * 1024 * 1024 - 100));
    const r = await home.run(['run', '--json', '--file', f]);
    expect(errorOf(r.stdout).code).toBe('TASK_TOO_LARGE');
    expect((JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items).toEqual([]);
  });

  it('input that is not UTF-8 is reported, not replaced', async () => {
    await addRoute();
    const f = join(home.dir, 'latin1.txt');
    writeFileSync(f, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    const r = await home.run(['run', '--json', '--file', f]);
    expect(r.code).toBe(2);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('UTF-8') });
    const k = await home.run(['creds', 'set', 'openai', '--key-stdin', '--json'], { input: Buffer.from([0x73, 0x6b, 0x2d, 0xff, 0xfe, 0x41]) });
    expect(k.code).toBe(2);
    expect(errorOf(k.stdout)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('UTF-8') });
    const m = await home.run(['run', '--json'], { input: Buffer.from([0x68, 0x69, 0xc3]) });
    expect(errorOf(m.stdout).code).toBe('INVALID_ARGUMENT');
    expect((JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items).toEqual([]);
  });

  it.each([
    ['http://127.0.0.1:9/v1\nX', 'control characters'],
    ['http://127.0.0.1:9/v1\tX', 'control characters'],
    ['http://127.0.0.1:9/v1?api-version=2024-01-01', 'query string'],
    ['http://127.0.0.1:9/v1#frag', 'query string'],
  ])('endpoint %j is refused (%s)', async (endpoint) => {
    const r = await home.run(['route', 'add', 'custom/m', '--endpoint', endpoint, '--json']);
    expect(r.code).toBe(2);
    expect(errorOf(r.stdout).code).toBe('INVALID_ARGUMENT');
    expect(existsSync(join(logosHome(), 'state', 'routes.json'))).toBe(false);
  });
});

describe('damaged state', () => {
  it.each([
    ['routes.json', '{"version":1,"routes":null}', ['route', 'list']],
    ['routes.json', '{"version":1,"routes":{"a":{"name":"b"}}}', ['route', 'list']],
    ['sandboxes.json', '{"version":1,"sandboxes":[]}', ['sandbox', 'list']],
    ['gateways.json', '{"version":1,"gateways":{"g":42}}', ['gateway', 'list']],
  ])('%s with %s → STATE_CORRUPT (exit 6), moved aside', async (file, text, args) => {
    mkdirSync(join(logosHome(), 'state'), { recursive: true });
    writeFileSync(join(logosHome(), 'state', file), text);
    const r = await home.run([...args, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(6);
    expect(errorOf(r.stdout).code).toBe('STATE_CORRUPT');
    const aside = readdirSync(join(logosHome(), 'state')).find((n) => n.startsWith(`${file}.corrupt-`));
    expect(aside).toBeDefined();
    expect(readFileSync(join(logosHome(), 'state', aside as string), 'utf8')).toBe(text);
  });

  it('a vault entry whose value is not a string → STATE_CORRUPT, the file kept', async () => {
    const dir = join(logosHome(), 'config', 'credentials');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'credentials.json'), '{"version":1,"keys":{"openai":{"value":42,"updated_at":"x"}}}', { mode: 0o600 });
    const r = await home.run(['creds', 'list', '--json']);
    expect(r.code).toBe(6);
    expect(errorOf(r.stdout).code).toBe('STATE_CORRUPT');
    expect(readdirSync(dir).some((n) => n.startsWith('credentials.json.corrupt-'))).toBe(true);
  });
});

describe('unwritable places', () => {
  /** Make a directory refuse writes, even to root (chattr +i), and undo it afterwards. */
  function freeze(dir: string): () => void {
    if (process.getuid?.() === 0) {
      execFileSync('chattr', ['+i', dir]);
      return () => execFileSync('chattr', ['-i', dir]);
    }
    chmodSync(dir, 0o500);
    return () => chmodSync(dir, 0o755);
  }

  it('a state directory that refuses writes is PATH_NOT_WRITABLE (exit 5) with the path, not "a bug in Logos"', async () => {
    await addRoute();
    const state = join(logosHome(), 'state');
    const thaw = freeze(state);
    try {
      const r = await home.run(['route', 'add', 'custom/other', '--endpoint', openai.url, '--name', 'other', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(5);
      const e = errorOf(r.stdout);
      expect(e.code).toBe('PATH_NOT_WRITABLE');
      expect(e.message).toContain(state);
      expect(e.hint).toContain('LOGOS_HOME');
      const human = await home.run(['route', 'add', 'custom/other', '--endpoint', openai.url, '--name', 'other']);
      expect(human.stderr).not.toContain('bug in Logos');
    } finally {
      thaw();
    }
  });
});
