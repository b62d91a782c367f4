import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { fixtureWorker } from '../helpers/fixtures.js';
import { jsonLines, makeHome, type Home } from '../helpers/logos.js';
import { bare, expectGatewayOnEveryCall, makeOsHome, workspaceOf } from '../helpers/openshell-home.js';

/**
 * `logos sandbox put|get`: files into and out of /sandbox, through the real binary.
 * The local driver writes and reads the sandbox directory from the host, so the
 * sandbox is treated as hostile: links it planted are never followed (the host files
 * they point at stay as they were), paths that leave /sandbox are refused. The
 * OpenShell driver goes through `sandbox upload` / `sandbox download` (the fake CLI).
 */

let openai: FakeModelServer;
let home: Home;

beforeAll(async () => {
  openai = await startFakeOpenAI();
});
afterAll(async () => {
  await openai.close();
});
beforeEach(async () => {
  home = makeHome();
  expect((await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'fake', '--default'])).code).toBe(0);
  expect((await home.run(['sandbox', 'create', 'sb'])).code).toBe(0);
});
afterEach(() => home.cleanup());

const sandboxDir = (): string => join(home.dir, 'logos', 'data', 'sandboxes', 'sb', 'workdir');
const local = (...p: string[]): string => join(home.dir, ...p);

function errorOf(stdout: string): { code: string; message: string; hint?: string } {
  return (JSON.parse(stdout) as { error: { code: string; message: string; hint?: string } }).error;
}

async function expectError(args: string[], exit: number, code: string, message?: RegExp): Promise<void> {
  const r = await home.run([...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(exit);
  const e = errorOf(r.stdout);
  expect(e.code).toBe(code);
  if (message) expect(e.message).toMatch(message);
}

describe('sandbox put / get (local driver)', () => {
  it('round trip: into /sandbox (directories made), readable by a task, and back out', async () => {
    writeFileSync(local('data.csv'), 'a,b\n1,2\n');
    const put = await home.run(['sandbox', 'put', 'sb', local('data.csv'), '--json']);
    expect(put.code, put.stderr).toBe(0);
    expect(JSON.parse(put.stdout)).toEqual({ ok: true, sandbox: 'sb', path: '/sandbox/data.csv', local: local('data.csv'), bytes: 8 });
    expect((await home.run(['sandbox', 'put', 'sb', local('data.csv'), 'in/deeper/'])).stdout).toContain('→ sb:/sandbox/in/deeper/data.csv (8 bytes)');
    expect((await home.run(['sandbox', 'put', 'sb', local('data.csv'), '/sandbox/attachments/renamed.csv'])).code).toBe(0);
    expect(readFileSync(join(sandboxDir(), 'in', 'deeper', 'data.csv'), 'utf8')).toBe('a,b\n1,2\n');

    // a task sees it
    const run = await home.run(['run', '--sandbox', 'sb', '--json', 'scenario:attach'], { env: { LOGOS_WORKER_FILE: fixtureWorker('agent') } });
    expect(jsonLines(run.stdout).at(-1)).toMatchObject({ final_response: 'renamed.csv=a,b\n1,2\n' });

    // replaced by a later put
    writeFileSync(local('data.csv'), 'v2');
    expect((await home.run(['sandbox', 'put', 'sb', local('data.csv'), 'in/deeper/data.csv'])).code).toBe(0);
    mkdirSync(local('out'));
    const get = await home.run(['sandbox', 'get', 'sb', '/sandbox/in/deeper/data.csv', local('out'), '--json']);
    expect(get.code, get.stderr).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ ok: true, path: '/sandbox/in/deeper/data.csv', local: local('out', 'data.csv'), bytes: 2 });
    expect(readFileSync(local('out', 'data.csv'), 'utf8')).toBe('v2');
    expect((await home.run(['sandbox', 'get', 'sb', 'data.csv', local('copy.csv')])).stdout).toContain(`sb:/sandbox/data.csv → ${local('copy.csv')}`);
    expect(readFileSync(local('copy.csv'), 'utf8')).toBe('a,b\n1,2\n');
    // no temp files left on either side
    expect(readdirSync(join(sandboxDir(), 'in', 'deeper'))).toEqual(['data.csv']);
    expect(readdirSync(local('out'))).toEqual(['data.csv']);
  });

  it.each([
    [['put', 'sb', 'LOCAL', '../escape.txt'], /leaves \/sandbox/],
    [['put', 'sb', 'LOCAL', 'a/../../escape.txt'], /leaves \/sandbox/],
    [['put', 'sb', 'LOCAL', '/etc/escape.txt'], /outside \/sandbox/],
    [['put', 'sb', 'LOCAL', '/sandbox/.logos/worker.jsonl'], /Logos' own files/],
    [['get', 'sb', '/etc/passwd', 'OUT'], /outside \/sandbox/],
    [['get', 'sb', '../../../config/credentials/credentials.json', 'OUT'], /leaves \/sandbox/],
    [['get', 'sb', '/sandbox', 'OUT'], /copies one file/],
  ])('refuses %j (INVALID_ARGUMENT, nothing written)', async (args, message) => {
    writeFileSync(local('f.txt'), 'x');
    const argv = args.map((a) => (a === 'LOCAL' ? local('f.txt') : a === 'OUT' ? local('out.txt') : a));
    await expectError(['sandbox', ...argv], 2, 'INVALID_ARGUMENT', message);
    expect(existsSync(join(home.dir, 'logos', 'data', 'sandboxes', 'escape.txt'))).toBe(false);
    expect(existsSync(join(home.dir, 'logos', 'data', 'sandboxes', 'sb', 'escape.txt'))).toBe(false);
    expect(existsSync(local('out.txt'))).toBe(false);
  });

  it('never follows a link the sandbox planted: the host files it points at stay as they were', async () => {
    const outside = local('outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'HOST-SECRET');
    const r = await home.run(['run', '--sandbox', 'sb', `aim:${outside}`], { env: { LOGOS_WORKER_FILE: fixtureWorker('plant-put-links') } });
    expect(r.code, r.stderr).toBe(0);
    // the links are really there, pointing at the host directory
    expect(readFileSync(join(sandboxDir(), 'link.txt'), 'utf8')).toBe('HOST-SECRET');

    writeFileSync(local('evil.txt'), 'PWNED');
    for (const dest of ['drop/evil.txt', 'drop/new/evil.txt', 'deep/x/evil.txt', 'link.txt']) {
      await expectError(['sandbox', 'put', 'sb', local('evil.txt'), dest], 7, 'SANDBOX_UNAVAILABLE', /Refusing to write/);
    }
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('HOST-SECRET');

    for (const src of ['link.txt', 'drop/secret.txt', 'deep/x/secret.txt']) {
      const g = await home.run(['sandbox', 'get', 'sb', src, local('got.txt')]);
      expect(g.code, src).toBe(7);
      expect(g.stderr).toContain('Refusing to read');
      expect(g.stdout + g.stderr).not.toContain('HOST-SECRET');
      expect(existsSync(local('got.txt'))).toBe(false);
    }
  });

  it('get: missing → NOT_FOUND, a directory → INVALID_ARGUMENT, a FIFO refused at once, over 100 MiB refused', async () => {
    await expectError(['sandbox', 'get', 'sb', 'nope.txt', local('x')], 3, 'NOT_FOUND', /No file '\/sandbox\/nope.txt' in sandbox 'sb'/);
    mkdirSync(join(sandboxDir(), 'dir'));
    await expectError(['sandbox', 'get', 'sb', 'dir', local('x')], 2, 'INVALID_ARGUMENT', /is a directory/);
    execFileSync('mkfifo', [join(sandboxDir(), 'fifo')]);
    await expectError(['sandbox', 'get', 'sb', 'fifo', local('x')], 7, 'SANDBOX_UNAVAILABLE', /not a regular file/);
    const huge = join(sandboxDir(), 'huge.bin');
    writeFileSync(huge, '');
    truncateSync(huge, 100 * 1024 * 1024 + 1); // sparse: no real disk use
    await expectError(['sandbox', 'get', 'sb', 'huge.bin', local('huge.bin')], 2, 'INVALID_ARGUMENT', /larger than 100 MiB/);
    expect(readdirSync(home.dir).filter((n) => n.includes('huge'))).toEqual([]);
    await expectError(['sandbox', 'get', 'sb', 'dir/../x', local('nodir', 'x')], 2, 'INVALID_ARGUMENT');
  });

  it('put: a missing or non-regular local file, a directory in the way, an unknown sandbox', async () => {
    await expectError(['sandbox', 'put', 'sb', local('nope.txt')], 2, 'INVALID_ARGUMENT', /Cannot read .*nope.txt: ENOENT/);
    await expectError(['sandbox', 'put', 'sb', home.dir], 2, 'INVALID_ARGUMENT', /not a regular file/);
    writeFileSync(local('f.txt'), 'x');
    mkdirSync(join(sandboxDir(), 'docs'));
    const r = await home.run(['sandbox', 'put', 'sb', local('f.txt'), 'docs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'docs' is a directory in the sandbox");
    expect(r.stderr).toContain('End the destination with "/"');
    expect((await home.run(['sandbox', 'put', 'sb', local('f.txt'), 'docs/'])).code).toBe(0);
    await expectError(['sandbox', 'put', 'ghost', local('f.txt')], 3, 'NOT_FOUND');
    await expectError(['sandbox', 'get', 'ghost', 'f.txt', local('g')], 3, 'NOT_FOUND');
    await expectError(['sandbox', 'get', 'sb', 'docs/f.txt', local('missing-dir', 'g')], 2, 'INVALID_ARGUMENT', /does not exist/);
  });
});

describe('sandbox put / get (OpenShell driver)', () => {
  it('uses sandbox upload (to the exact path, its directory made first) and sandbox download', async () => {
    const os = makeOsHome();
    try {
      expect((await os.home.run(['creds', 'set', 'custom', '--key-stdin'], { input: 'sk-test-0123456789' })).code).toBe(0);
      expect((await os.home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'm'])).code).toBe(0);
      expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
      const file = join(os.home.dir, 'notes.md');
      writeFileSync(file, '# notes\n');
      const put = await os.home.run(['sandbox', 'put', 'work', file, 'docs/n.md', '--json']);
      expect(put.code, put.stdout + put.stderr).toBe(0);
      expect(JSON.parse(put.stdout)).toMatchObject({ path: '/sandbox/docs/n.md', bytes: 8 });
      const calls = os.openshellCalls().filter((a) => workspaceOf(a) === 'm').map(bare);
      const upload = calls.findIndex((c) => c.startsWith(`sandbox upload work ${file}`));
      expect(calls[upload]).toBe(`sandbox upload work ${file} /sandbox/docs/n.md --no-git-ignore`);
      expect(calls[upload - 1]).toBe('sandbox exec --name work --no-tty --timeout 60 -- mkdir -p /sandbox/docs');

      const out = join(os.home.dir, 'back.md');
      const get = await os.home.run(['sandbox', 'get', 'work', '/sandbox/docs/n.md', out, '--json']);
      expect(get.code, get.stdout + get.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe('# notes\n');
      const download = os.openshellCalls().map(bare).find((c) => c.startsWith('sandbox download'));
      expect(download).toMatch(new RegExp(`^sandbox download work /sandbox/docs/n.md ${os.home.dir}/\\.logos-get-\\w+$`));
      // the private download directory is gone
      expect(readdirSync(os.home.dir).filter((n) => n.startsWith('.logos-get-'))).toEqual([]);

      const missing = await os.home.run(['sandbox', 'get', 'work', 'nope.md', out, '--json']);
      expect(missing.code).toBe(3);
      expect(errorOf(missing.stdout).code).toBe('NOT_FOUND');
      const escape = await os.home.run(['sandbox', 'put', 'work', file, '../x', '--json']);
      expect(escape.code).toBe(2);
      expectGatewayOnEveryCall(os);
    } finally {
      os.cleanup();
    }
  });
});
