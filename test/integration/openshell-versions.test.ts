import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { jsonLines } from '../helpers/logos.js';
import { bare, expectGatewayOnEveryCall, expectNoSecretOnArgv, makeOsHome, workspaceOf, type OsHome } from '../helpers/openshell-home.js';

/**
 * Which OpenShell releases Logos drives, how it moves with a user from the 0.0.x line to 0.1.x,
 * package-managed gateways, the 0.1.x dry run, Anthropic routes on 0.1.x, and `logos image`.
 */

let model: FakeModelServer;
let os: OsHome;
beforeAll(async () => {
  model = await startFakeOpenAI();
});
afterAll(async () => {
  await model.close();
});
beforeEach(() => {
  os = makeOsHome();
  os.writeConfig({ imageMinFreeDiskBytes: 0, imageMinFreeMemBytes: 0 });
  model.setScenario('plain');
});
afterEach(() => {
  expectGatewayOnEveryCall(os);
  os.cleanup();
});

/** The CLI was replaced by another release: its cached `openshell -V` is stale (a real upgrade changes the binary's mtime). */
function switchCli(version: string): NodeJS.ProcessEnv {
  rmSync(join(os.home.env.LOGOS_HOME as string, 'state', 'openshell-version.json'), { force: true });
  return { FAKE_OPENSHELL_VERSION: version };
}

describe('supported releases', () => {
  it.each([
    ['0.0.110', 'OPENSHELL_TOO_OLD'],
    ['0.0.117', 'OPENSHELL_UNSUPPORTED'],
    ['0.1.11', 'OPENSHELL_UNSUPPORTED'],
    ['0.1.11-dev.3+g1234567', 'OPENSHELL_UNSUPPORTED'],
    ['0.2.0', 'OPENSHELL_UNSUPPORTED'],
  ])('openshell %s → %s, naming the supported range', async (version, code) => {
    const r = await os.home.run(['gateway', 'up', '--json'], { env: { FAKE_OPENSHELL_VERSION: version } });
    expect(r.code, r.stdout).toBe(5);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe(code);
    expect(err.message).toContain('0.0.111–0.0.116 or 0.1.0–0.1.10');
    expect(os.dockerCalls()).toEqual([]);
    if (version.startsWith('0.1.11')) expect(err.hint).toContain('logos config set openshellAllowNewer true');
  });

  it('openshellAllowNewer drives a newer 0.1.x as 0.1.10', async () => {
    os.writeConfig({ imageMinFreeDiskBytes: 0, imageMinFreeMemBytes: 0, openshellAllowNewer: true });
    const env = { FAKE_OPENSHELL_VERSION: '0.1.11' };
    const up = await os.home.run(['gateway', 'up', '--json'], { env });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).gateway).toMatchObject({ line: '0.1', image: 'quay.io/ai-openshell/gateway:0.1.11' });
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url, '--json'], { env })).code).toBe(0);
    // 0.0.x has no such door
    const old = await os.home.run(['route', 'add', 'lmstudio/m2', '--endpoint', model.url, '--json'], { env: switchCli('0.0.117') });
    expect(old.code).toBe(5);
    expect(JSON.parse(old.stdout).error.code).toBe('OPENSHELL_UNSUPPORTED');
  });
});

describe('upgrading from 0.0.x to 0.1.x', () => {
  it('status says what to recreate; old sandboxes are refused with how; gateway up and route sync move over', async () => {
    const env00 = { FAKE_OPENSHELL_VERSION: '0.0.116', OPENAI_BASE_URL: model.url };
    expect((await os.home.run(['gateway', 'up'], { env: env00 })).code).toBe(0);
    expect((await os.home.run(['route', 'add', 'custom/fake-model', '--endpoint', model.url, '--name', 'm'], { env: env00 })).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'], { env: env00 })).code).toBe(0);
    expect((await os.home.run(['run', '--sandbox', 'work', '--json', 'before'], { env: env00 })).code).toBe(0);

    // The user installs OpenShell 0.1.10; the gateway container still runs 0.0.116.
    const env = switchCli('0.1.10');
    const st = await os.home.run(['gateway', 'status', 'logos', '--json'], { env });
    const entry = JSON.parse(st.stdout).items[0];
    expect(entry).toMatchObject({ version: '0.0.116', cli_version: '0.1.10' });
    expect(entry.advice[0]).toMatch(/^CLI 0\.1\.10, gateway 0\.0\.116: recreate/);
    expect(entry.advice[0]).toContain('logos gateway up logos');
    expect(entry.advice[1]).toContain('work');
    const human = await os.home.run(['gateway', 'status', 'logos'], { env });
    expect(human.stdout).toContain('CLI 0.1.10, gateway 0.0.116: recreate');

    const stale = await os.home.run(['run', '--sandbox', 'work', '--json', 'x'], { env });
    expect(stale.code).toBe(7);
    const err = jsonLines(stale.stdout).at(-1) as { error: { code: string; message: string; hint: string } };
    expect(err.error.code).toBe('SANDBOX_UNAVAILABLE');
    expect(err.error.message).toContain('OpenShell 0.0.x');
    expect(err.error.hint).toContain('logos sandbox delete work');

    const up = await os.home.run(['gateway', 'up', '--json'], { env });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ recreated: expect.stringContaining('0.0.116'), gateway: { line: '0.1', port: 17670 } });

    expect((await os.home.run(['image', 'build'], { env })).code).toBe(0);
    const sync = await os.home.run(['route', 'sync', 'm', '--json'], { env });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    // the 0.0.x provider (type openai) was replaced by one of the imported profile's type
    const provider = os.fake.readOpenshellState('logos')?.workspaces.m?.providers['logos-custom'];
    expect(provider?.type).toBe('logos-custom');
    expect((await os.home.run(['sandbox', 'delete', 'work'], { env })).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'], { env })).code).toBe(0);
    const run = await os.home.run(['run', '--sandbox', 'work', '--json', 'after'], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse((await os.home.run(['gateway', 'status', 'logos', '--json'], { env })).stdout).items[0].advice).toBeUndefined();
  }, 120_000);
});

describe('gateways Logos did not start', () => {
  it('adopts the package-managed gateway (https://127.0.0.1:17670, mTLS) with gateway add --local', async () => {
    const tls = join(os.fake.env.XDG_STATE_HOME as string, 'openshell', 'tls');
    mkdirSync(join(tls, 'client'), { recursive: true });
    for (const f of ['ca.crt', 'client/tls.crt', 'client/tls.key']) writeFileSync(join(tls, f), 'pem');
    const env = { FAKE_OPENSHELL_VERSION: '0.1.10', XDG_STATE_HOME: os.fake.env.XDG_STATE_HOME };
    const add = await os.home.run(['gateway', 'add', 'https://127.0.0.1:17670', '--local', '--json'], { env });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ gateway: { name: 'openshell', kind: 'local', managed: false }, reachable: true });
    expect(os.openshellCalls().map(bare)).toContain('gateway add https://127.0.0.1:17670 --name openshell --local');
    const list = JSON.parse((await os.home.run(['gateway', 'list', '--json'], { env })).stdout);
    expect(list.gateways).toEqual([expect.objectContaining({ name: 'openshell', registered: true })]);
    const route = await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url, '--gateway', 'openshell', '--json'], { env });
    expect(route.code, route.stdout + route.stderr).toBe(0);
    expect(os.openshellCalls().filter((a) => a[1] === 'openshell' && workspaceOf(a) === 'm').map(bare)).toContain(
      'provider create --name logos-lmstudio --type logos-lmstudio --credential OPENAI_API_KEY',
    );
    // Logos started no container for it
    expect(os.dockerCalls().filter((a) => a[0] === 'run')).toEqual([]);
  });

  it('a remote 0.1.x gateway cannot use a local build: IMAGE_MISSING says to push one', async () => {
    const env = { FAKE_OPENSHELL_VERSION: '0.1.10' };
    expect((await os.home.run(['gateway', 'add', 'https://gw.lab.example:17670', '--name', 'lab', '--remote', 'ops@gw.lab.example'], { env })).code).toBe(0);
    expect((await os.home.run(['route', 'add', 'openrouter/x/y', '--gateway', 'lab'], { env: { ...env, OPENROUTER_API_KEY: 'sk-or-canary-0001' } })).code).toBe(0);
    const sb = await os.home.run(['sandbox', 'create', 'work', '--json'], { env: { ...env, OPENROUTER_API_KEY: 'sk-or-canary-0001' } });
    expect(sb.code).toBe(5);
    expect(JSON.parse(sb.stdout).error).toMatchObject({ code: 'IMAGE_MISSING', hint: expect.stringContaining('logos image push') });
    expectNoSecretOnArgv(os, ['sk-or-canary-0001']);
  });
});

describe('0.1.x details', () => {
  it('gateway up --dry-run shows the schema-v2 gateway.toml and writes nothing', async () => {
    const r = await os.home.run(['gateway', 'up', '--dry-run', '--json'], { env: { FAKE_OPENSHELL_VERSION: '0.1.10' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.config.text).toContain('[openshell.gateway.auth]\n# Required since 0.1.6');
    expect(body.config.text).toContain('allow_unauthenticated_users = true');
    expect(body.config.text).toContain('supervisor_image = "quay.io/ai-openshell/supervisor:0.1.10"');
    expect(existsSync(body.config.path)).toBe(false);
    const run = body.commands.find((c: string[]) => c[1] === 'run') as string[];
    expect(run).toEqual(expect.arrayContaining(['-e', `XDG_DATA_HOME=${join(body.config.path, '..', 'data')}`]));
    expect(body.notes[0]).toContain('puts the user');
    expect(os.dockerCalls()).toEqual([]);
  });

  it('without Logos’ image, a 0.1.x sandbox is refused before anything is created', async () => {
    const env = { FAKE_OPENSHELL_VERSION: '0.1.10' };
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url], { env })).code).toBe(0);
    const r = await os.home.run(['sandbox', 'create', 'work', '--json'], { env });
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'IMAGE_MISSING', hint: expect.stringContaining('logos image build') });
    expect(os.openshellCalls().map(bare).some((c) => c.startsWith('sandbox create'))).toBe(false);
  });

  it('a "deletion accepted" delete is waited out, so the name and the workspace are free again', async () => {
    const env = { FAKE_OPENSHELL_VERSION: '0.1.10' };
    expect((await os.home.run(['image', 'build'], { env })).code).toBe(0);
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url], { env })).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'], { env })).code).toBe(0);
    const slow = { ...env, FAKE_OPENSHELL_DELETE_PENDING_MS: '1500' };
    const del = await os.home.run(['sandbox', 'delete', 'work', '--json'], { env: slow });
    expect(del.code, del.stdout + del.stderr).toBe(0);
    expect(os.openshellCalls().map(bare).filter((c) => c === 'sandbox get work -o json').length).toBeGreaterThan(0);
    expect((await os.home.run(['sandbox', 'create', 'work'], { env: slow })).code).toBe(0);
    const rm = await os.home.run(['route', 'remove', 'm', '--force', '--json'], { env: slow });
    expect(rm.code, rm.stdout + rm.stderr).toBe(0);
    expect(os.fake.readOpenshellState('logos')?.workspaces.m).toBeUndefined();
    // deleting a sandbox the gateway no longer has is fine on 0.1.x
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url], { env })).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'gone'], { env })).code).toBe(0);
    const { execFileSync } = await import('node:child_process');
    execFileSync('openshell', ['-g', 'logos', '--workspace', 'm', 'sandbox', 'delete', 'gone'], { env: { ...os.fake.env, ...env } });
    expect((await os.home.run(['sandbox', 'delete', 'gone'], { env })).code).toBe(0);
  }, 120_000);

  it('an Anthropic route: x-api-key swapped at api host only, model id and base URL from the route', async () => {
    const anth = await startFakeAnthropic();
    try {
      const env = { FAKE_OPENSHELL_VERSION: '0.1.10' };
      const key = 'sk-ant-CANARY-0123456789';
      expect((await os.home.run(['image', 'build'], { env })).code).toBe(0);
      expect((await os.home.run(['creds', 'set', 'anthropic', '--key-stdin'], { input: key, env })).code).toBe(0);
      const add = await os.home.run(['route', 'add', 'anthropic/claude-test', '--endpoint', anth.url, '--name', 'a', '--json'], { env });
      expect(add.code, add.stdout + add.stderr).toBe(0);
      const run = await os.home.run(['run', '--route', 'a', '--json', 'hi'], { env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const req = anth.requests.findLast((q) => q.path.endsWith('/messages'));
      expect(req?.headers['x-api-key']).toBe(key);
      expect((req?.body as { model?: string }).model).toBe('claude-test');
      const create = os.openshellCalls().map(bare).find((c) => c.startsWith('sandbox create')) as string;
      expect(create).toContain(`--provider logos-anthropic --env ANTHROPIC_BASE_URL=http://host.openshell.internal:${anth.port}/v1`);
      expectNoSecretOnArgv(os, [key]);
      expect(os.home.logText()).not.toContain(key);
    } finally {
      await anth.close();
    }
  });
});

describe('logos image', () => {
  it('refuses to build or pull with too little disk or memory, with the numbers', async () => {
    os.writeConfig({ imageMinFreeDiskBytes: 2 ** 52, imageMinFreeMemBytes: 0 });
    const disk = await os.home.run(['image', 'build', '--json']);
    expect(disk.code).toBe(5);
    const err = JSON.parse(disk.stdout).error;
    expect(err.code).toBe('INSUFFICIENT_RESOURCES');
    expect(err.message).toMatch(/only [\d.]+ [KMGT]?i?B free disk under \S+ \(needs 4096 TiB\)/);
    expect(err.details.disk_needed_bytes).toBe(2 ** 52);
    os.writeConfig({ imageMinFreeDiskBytes: 0, imageMinFreeMemBytes: 2 ** 52 });
    const mem = await os.home.run(['image', 'pull', 'registry.example.org/x/logos-sandbox:1', '--json']);
    expect(JSON.parse(mem.stdout).error.message).toMatch(/of memory available \(needs 4096 TiB\)/);
    expect(os.dockerCalls().filter((a) => a[0] === 'pull' || a[0] === 'build')).toEqual([]);
  });

  it('believes a build only when the image exists (an OOM-killed builder reported success)', async () => {
    const r = await os.home.run(['image', 'build', '--json'], { env: { FAKE_DOCKER_BUILD_OOM: '1' } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'DOCKER_FAILED', hint: expect.stringContaining('out of memory') });
    const fail = await os.home.run(['image', 'build', '--json'], { env: { FAKE_DOCKER_BUILD_FAIL: '1' } });
    expect(JSON.parse(fail.stdout).error.message).toContain('did not complete successfully');
  });

  it('build, push pins the digest, pull pins the digest; status and list say what is used', async () => {
    const build = await os.home.run(['image', 'build', '--json']);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    const ref = JSON.parse(build.stdout).image as string;
    const docker = os.log('docker').map((e) => e.argv).find((a) => a[0] === 'build') as string[];
    expect(docker.slice(0, 5)).toEqual(['build', '--progress', 'plain', '-t', ref]);
    expect(docker.at(-2)).toMatch(/templates\/sandbox\.Dockerfile$/);
    // progress is for a terminal only
    expect(build.stderr).toBe('');
    const status0 = JSON.parse((await os.home.run(['image', 'status', '--json'])).stdout);
    expect(status0).toMatchObject({ sandbox_image: null, local_build: { image: ref, present: true }, uses: { '0.1': ref } });

    const push = await os.home.run(['image', 'push', 'registry.example.org/team/logos-sandbox:test', '--json']);
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const pinned = JSON.parse(push.stdout).pinned as string;
    expect(pinned).toMatch(/^registry\.example\.org\/team\/logos-sandbox@sha256:[0-9a-f]{64}$/);
    expect(JSON.parse((await os.home.run(['config', 'get', 'sandboxImage', '--json'])).stdout)).toMatchObject({ value: pinned });

    const pull = await os.home.run(['image', 'pull', 'registry.example.org/other/img:2', '--json']);
    expect(pull.code, pull.stdout + pull.stderr).toBe(0);
    expect(JSON.parse(pull.stdout).pinned).toMatch(/^registry\.example\.org\/other\/img@sha256:[0-9a-f]{64}$/);
    const status = JSON.parse((await os.home.run(['image', 'status', '--json'])).stdout);
    expect(status).toMatchObject({ pinned: true, uses: { '0.0': JSON.parse(pull.stdout).pinned, '0.1': JSON.parse(pull.stdout).pinned } });
    const list = JSON.parse((await os.home.run(['image', 'list', '--json'])).stdout);
    expect(list.images.map((i: { ref: string }) => i.ref)).toContain(ref);
    const human = await os.home.run(['image', 'list']);
    expect(human.stdout).toContain('New OpenShell sandboxes use registry.example.org/other/img@sha256:');
    expect(readFileSync(join(os.home.env.LOGOS_HOME as string, 'config', 'config.json'), 'utf8')).toContain('"sandboxImage"');
  });
});

describe('--route by provider/model', () => {
  it('runs on the route added with that spec, and says which routes when it is ambiguous', async () => {
    const env = { OPENAI_BASE_URL: model.url };
    expect((await os.home.run(['route', 'add', 'custom/fake-model', '--endpoint', model.url, '--name', 'first'], { env })).code).toBe(0);
    const run = await os.home.run(['run', '--route', 'custom/fake-model', '--json', 'spec'], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(jsonLines(run.stdout).at(-1)).toMatchObject({ type: 'task_result', status: 'ok' });
    expect((JSON.parse((await os.home.run(['sandbox', 'list', '--json'])).stdout) as { items: unknown[] }).items[0]).toMatchObject({ name: 'first', route: 'first' });
    expect((await os.home.run(['route', 'add', 'custom/fake-model', '--endpoint', model.url, '--name', 'second'], { env })).code).toBe(0);
    const amb = await os.home.run(['run', '--route', 'custom/fake-model', '--json', 'x'], { env });
    expect(amb.code).toBe(2);
    expect(JSON.parse(amb.stdout).error).toMatchObject({ code: 'INVALID_ARGUMENT', message: '2 routes use custom/fake-model: first, second.' });
  });
});
