import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { runCli } from '../helpers/fake-cli.js';
import { jsonLines } from '../helpers/logos.js';
import { bare, expectGatewayOnEveryCall, expectNoSecretOnArgv, makeOsHome, workspaceOf, type OsHome } from '../helpers/openshell-home.js';

/**
 * Model routes as workspaces on a gateway, credentials pushed through the child's
 * environment, sandboxes and dispatch through `openshell sandbox exec` — against the
 * fake openshell/docker and a fake model server, via the real binary.
 */

// A key with shell metacharacters, quotes and a newline: passed intact, never on argv.
const CANARY = `sk-CANARY-gw-$(touch /tmp/pwned)'";|&\`x\`\nline2-9876`;
const CANARY2 = 'sk-CANARY-rotated-0123456789ABCD';

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
  model.setScenario('plain');
});
afterEach(() => {
  expectGatewayOnEveryCall(os);
  expectNoSecretOnArgv(os, [CANARY, CANARY2]);
  os.cleanup();
});

async function setKey(provider: string, key: string): Promise<void> {
  const r = await os.home.run(['creds', 'set', provider, '--key-stdin'], { input: key });
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

function workspaceCalls(ws: string): string[] {
  return os
    .openshellCalls()
    .filter((a) => workspaceOf(a) === ws)
    .map(bare);
}

describe('route add on a gateway', () => {
  it('creates workspace, provider (secret via env) and inference route; starts the default gateway on demand', async () => {
    await setKey('custom', CANARY);
    const r = await os.home.run(['route', 'add', 'custom/qwen/qwen3.5-9b', '--endpoint', model.url, '--timeout', '15m', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const route = JSON.parse(r.stdout).route;
    expect(route).toMatchObject({ name: 'qwen-qwen3-5-9b', gateway: 'logos', workspace: 'qwen-qwen3-5-9b', status: 'ready', timeout_sec: 900 });

    // the local gateway was started first (openshell installed → routes go to the managed gateway)
    expect(os.dockerCalls().some((a) => a[0] === 'run')).toBe(true);
    const calls = os.openshellCalls().map(bare);
    const ws = calls.indexOf('workspace create --name qwen-qwen3-5-9b');
    expect(ws).toBeGreaterThan(calls.indexOf('gateway add http://127.0.0.1:17670 --name logos --local'));
    const port = new URL(model.url).port;
    expect(workspaceCalls('qwen-qwen3-5-9b')).toEqual([
      `provider create --name logos-custom --type openai --credential OPENAI_API_KEY --config OPENAI_BASE_URL=http://host.openshell.internal:${port}/v1`,
      'inference set --provider logos-custom --model qwen/qwen3.5-9b --no-verify --timeout 900',
    ]);
    // the secret travelled in the environment of exactly that call, and arrived intact
    const create = os.log('openshell').find((e) => e.argv.includes('create') && e.argv.includes('provider'));
    expect(create?.env_names).toContain('OPENAI_API_KEY');
    expect(os.fake.readSecrets('logos')['qwen-qwen3-5-9b']?.['logos-custom']?.OPENAI_API_KEY).toBe(CANARY);
    expect(os.home.logText()).not.toContain('CANARY-gw');
  });

  it('one gateway serves many models: each route is its own workspace', async () => {
    await os.home.run(['gateway', 'up']);
    for (const m of ['alpha-model', 'beta-model']) {
      expect((await os.home.run(['route', 'add', `lmstudio/${m}`, '--endpoint', model.url])).code).toBe(0);
    }
    const state = os.fake.readOpenshellState('logos');
    expect(state?.workspaces['alpha-model']?.inference.user).toMatchObject({ provider: 'logos-lmstudio', model: 'alpha-model' });
    expect(state?.workspaces['beta-model']?.inference.user).toMatchObject({ provider: 'logos-lmstudio', model: 'beta-model' });
    // only one gateway container
    expect(os.fake.readDockerState().containers.filter((c) => c.State.Running)).toHaveLength(1);
  });

  it('updates a provider that already exists instead of failing', async () => {
    await os.home.run(['gateway', 'up']);
    // An earlier, interrupted run (or a person) already made the workspace and the provider.
    const pre = [
      ['-g', 'logos', 'workspace', 'create', '--name', 'r1'],
      ['-g', 'logos', '--workspace', 'r1', 'provider', 'create', '--name', 'logos-lmstudio', '--type', 'openai', '--credential', 'OPENAI_API_KEY'],
    ];
    for (const args of pre) {
      const r = await runCli(os.fake, 'openshell', args, { env: { OPENAI_API_KEY: 'old-value' } });
      expect(r.code, r.stderr).toBe(0);
    }
    const add = await os.home.run(['route', 'add', 'lmstudio/m1', '--endpoint', model.url, '--name', 'r1', '--json']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(JSON.parse(add.stdout).route.status).toBe('ready');
    const seq = workspaceCalls('r1');
    const port = new URL(model.url).port;
    expect(seq.slice(-4)).toEqual([
      `provider create --name logos-lmstudio --type openai --credential OPENAI_API_KEY --config OPENAI_BASE_URL=http://host.openshell.internal:${port}/v1`,
      'provider list -o json',
      `provider update logos-lmstudio --credential OPENAI_API_KEY --config OPENAI_BASE_URL=http://host.openshell.internal:${port}/v1`,
      'inference set --provider logos-lmstudio --model m1 --no-verify --timeout 600',
    ]);
    const provider = os.fake.readOpenshellState('logos')?.workspaces.r1?.providers['logos-lmstudio'];
    expect(provider?.config).toEqual({ OPENAI_BASE_URL: `http://host.openshell.internal:${port}/v1` });
  });

  it('a failing inference set puts the route in error with the step, never success', async () => {
    const r = await os.home.run(['route', 'add', 'lmstudio/m2', '--endpoint', model.url, '--json'], { env: { FAKE_OPENSHELL_FAIL: 'inference set' } });
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('OPENSHELL_FAILED');
    expect(err.message).toContain('set inference route');
    expect(err.message).toContain('database is locked');
    expect(err.hint).toContain('logos route sync m2');
    const show = JSON.parse((await os.home.run(['route', 'show', 'm2', '--json'])).stdout);
    expect(show.status).toBe('error');
    expect(show.status_detail).toMatch(/^set inference route: /);
    const human = await os.home.run(['route', 'add', 'lmstudio/m3', '--endpoint', model.url], { env: { FAKE_OPENSHELL_FAIL: 'inference set' } });
    expect(human.stdout).not.toContain('✓ Route');
    // fixed: sync brings it to ready
    const sync = await os.home.run(['route', 'sync', 'm2', '--json']);
    expect(sync.code, sync.stdout).toBe(0);
    expect(JSON.parse((await os.home.run(['route', 'show', 'm2', '--json'])).stdout).status).toBe('ready');
  });

  it('rejects invalid model ids and missing keys before touching the gateway', async () => {
    const bad = await os.home.run(['route', 'add', 'openai/bad model', '--gateway', 'logos', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe('INVALID_ARGUMENT');
    await os.home.run(['gateway', 'up']);
    const nokey = await os.home.run(['route', 'add', 'openai/gpt-4o-mini', '--json']);
    expect(nokey.code).toBe(3);
    expect(JSON.parse(nokey.stdout).error).toMatchObject({ code: 'NO_CREDENTIAL', hint: expect.stringContaining('logos creds set openai') });
    expect(os.openshellCalls().map(bare).some((c) => c.startsWith('provider create'))).toBe(false);
  });

  it('--no-gateway keeps a route local even with openshell installed', async () => {
    const r = await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url, '--no-gateway', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).route.gateway).toBeUndefined();
    expect(os.dockerCalls()).toEqual([]);
  });
});

describe('credentials follow the key', () => {
  it('creds set re-pushes the new key into every gateway route of that provider', async () => {
    await setKey('custom', CANARY);
    expect((await os.home.run(['route', 'add', 'custom/m', '--endpoint', model.url])).code).toBe(0);
    const r = await os.home.run(['creds', 'set', 'custom', '--key-stdin', '--json'], { input: CANARY2 });
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, synced_routes: ['m'] });
    expect(os.fake.readSecrets('logos').m?.['logos-custom']?.OPENAI_API_KEY).toBe(CANARY2);
    const update = os.log('openshell').filter((e) => e.argv.includes('update') && e.argv.includes('provider'));
    expect(update.length).toBeGreaterThan(0);
    expect(update.every((e) => e.env_names.includes('OPENAI_API_KEY'))).toBe(true);
  });

  it('route sync --all reports each route; a failing one makes the exit code 1', async () => {
    await os.home.run(['route', 'add', 'lmstudio/a', '--endpoint', model.url]);
    await os.home.run(['route', 'add', 'lmstudio/b', '--endpoint', model.url, '--no-gateway']);
    const ok = await os.home.run(['route', 'sync', '--all', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).results).toEqual([{ route: 'a', ok: true }]);
    const bad = await os.home.run(['route', 'sync', 'a', '--json'], { env: { FAKE_OPENSHELL_UNREACHABLE: 'logos' } });
    expect(bad.code).toBe(7);
    expect(JSON.parse(bad.stdout).error.code).toBe('GATEWAY_UNREACHABLE');
  });
});

describe('route remove', () => {
  it('refuses while sandboxes use it; --force removes sandboxes, inference, provider and workspace', async () => {
    await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url]);
    expect((await os.home.run(['sandbox', 'create', 'work', '--route', 'm'])).code).toBe(0);
    const refused = await os.home.run(['route', 'remove', 'm', '--json']);
    expect(refused.code).toBe(4);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'IN_USE', hint: expect.stringContaining('--force') });

    const forced = await os.home.run(['route', 'remove', 'm', '--force', '--json']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ ok: true, removed: 'm', deleted_sandboxes: ['work'] });
    const seq = os.openshellCalls().map(bare);
    const i = seq.lastIndexOf('sandbox delete work');
    expect(seq.slice(i)).toEqual(['sandbox delete work', 'inference delete', 'provider delete logos-lmstudio', 'workspace delete m']);
    expect(os.fake.readOpenshellState('logos')?.workspaces.m).toBeUndefined();
    expect((JSON.parse((await os.home.run(['route', 'list', '--json'])).stdout) as { items: unknown[] }).items).toEqual([]);
    expect((JSON.parse((await os.home.run(['sandbox', 'list', '--json'])).stdout) as { items: unknown[] }).items).toEqual([]);
  });

  it('keeps the local record (marked error) when the gateway cannot be reached', async () => {
    await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url]);
    const r = await os.home.run(['route', 'remove', 'm', '--json'], { env: { FAKE_OPENSHELL_UNREACHABLE: 'logos' } });
    expect(r.code).toBe(7);
    const show = JSON.parse((await os.home.run(['route', 'show', 'm', '--json'])).stdout);
    expect(show).toMatchObject({ name: 'm', status: 'error' });
    expect(show.status_detail).toContain('delete inference route');
    // once it is back, the removal completes
    expect((await os.home.run(['route', 'remove', 'm'])).code).toBe(0);
    expect(os.fake.readOpenshellState('logos')?.workspaces.m).toBeUndefined();
  });
});

describe('sandboxes and dispatch on OpenShell', () => {
  it('creates a sandbox in the route workspace, uploads the worker, and runs tasks through sandbox exec', async () => {
    await setKey('custom', CANARY);
    expect((await os.home.run(['route', 'add', 'custom/fake-model', '--endpoint', model.url, '--name', 'm'])).code).toBe(0);
    const c = await os.home.run(['sandbox', 'create', 'work', '--json']);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).sandbox).toMatchObject({ name: 'work', driver: 'openshell', route: 'm', gateway: 'logos', workspace: 'm' });
    const seq = workspaceCalls('m');
    const create = seq.find((x) => x.startsWith('sandbox create'));
    expect(create).toMatch(/^sandbox create --name work --from ghcr\.io\/nvidia\/openshell-community\/sandboxes\/base:latest --no-auto-providers --no-tty --policy \S+\/policies\/default\.yaml --detach -- sleep infinity$/);
    const upload = seq.findIndex((x) => x.startsWith('sandbox upload work '));
    expect(seq[upload]?.endsWith(' /sandbox/.logos/worker.mjs --no-git-ignore')).toBe(true);
    expect(seq[upload - 1]).toBe('sandbox exec --name work --no-tty --timeout 60 -- mkdir -p /sandbox/.logos');

    // The fake runs exec'd commands on the host, so the worker reaches the fake model server
    // through OPENAI_BASE_URL (which takes precedence over https://inference.local/v1).
    const run = await os.home.run(['run', '--sandbox', 'work', '--json', 'hello gateway'], { env: { OPENAI_BASE_URL: model.url } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const frames = jsonLines(run.stdout);
    expect(frames[0]).toMatchObject({ type: 'ready' });
    expect(frames.at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: hello gateway' });
    const after = workspaceCalls('m');
    const exec = after.findLast((x) => x.startsWith('sandbox exec'));
    expect(exec).toBe('sandbox exec --name work --no-tty --timeout 600 --env LOGOS_WORKER_LOG=.logos/worker.jsonl -- node /sandbox/.logos/worker.mjs');
    // credentials were re-synced right before the spawn
    const execAt = after.lastIndexOf(exec as string);
    expect(after.slice(0, execAt).findLast((x) => x.startsWith('provider update'))).toBeDefined();
    expect(after.slice(execAt - 4, execAt).some((x) => x.startsWith('provider update'))).toBe(true);
    // the task went in on stdin (the exec has no task on argv)
    expect(exec).not.toContain('hello gateway');
    const logs = await os.home.run(['sandbox', 'logs', 'work', '--json']);
    expect((JSON.parse(logs.stdout) as { items: unknown[] }).items.length).toBeGreaterThan(0);
  });

  it('a sandbox that goes to Error while provisioning is deleted remotely and not recorded', async () => {
    await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url]);
    const r = await os.home.run(['sandbox', 'create', 'bad', '--json'], { env: { FAKE_OPENSHELL_SANDBOX_ERROR: 'bad' } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toContain('error phase');
    expect(workspaceCalls('m').at(-1)).toBe('sandbox delete bad');
    expect((JSON.parse((await os.home.run(['sandbox', 'list', '--json'])).stdout) as { items: unknown[] }).items).toEqual([]);
  });

  it('adopts a Ready sandbox of the same name instead of creating a duplicate', async () => {
    await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url]);
    expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
    // forget it locally (e.g. a fresh machine), keep it remotely
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    writeFileSync(join(os.home.env.LOGOS_HOME as string, 'state', 'sandboxes.json'), '{"version":1,"sandboxes":{}}');
    const again = await os.home.run(['sandbox', 'create', 'work', '--json']);
    expect(again.code, again.stdout).toBe(0);
    expect(workspaceCalls('m').filter((x) => x.startsWith('sandbox create'))).toHaveLength(1);
  });

  it('the deadline ends the exec with 124 → TASK_TIMEOUT', async () => {
    await os.home.run(['route', 'add', 'custom/m', '--endpoint', model.url]);
    await os.home.run(['sandbox', 'create', 'work']);
    model.setScenario({ name: 'stall', stallAfter: 2 });
    const r = await os.home.run(['run', '--sandbox', 'work', '--json', '--timeout', '2s', 'x'], { env: { OPENAI_BASE_URL: model.url, LOGOS_IDLE_TIMEOUT_MS: '60000' } });
    expect(r.code).toBe(124);
    const last = jsonLines(r.stdout).at(-1) as { error?: { code: string } };
    expect(['TASK_TIMEOUT', 'TIMEOUT']).toContain(last.error?.code);
  });
});

describe('route sync repairs a gateway that lost its state', () => {
  it('recreates a missing workspace and its provider', async () => {
    await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url]);
    const del = await runCli(os.fake, 'openshell', ['-g', 'logos', '--workspace', 'm', 'inference', 'delete']);
    expect(del.code, del.stderr).toBe(0);
    for (const args of [
      ['-g', 'logos', '--workspace', 'm', 'provider', 'delete', 'logos-lmstudio'],
      ['-g', 'logos', 'workspace', 'delete', 'm'],
    ]) {
      const r = await runCli(os.fake, 'openshell', args);
      expect(r.code, r.stderr).toBe(0);
    }
    const sync = await os.home.run(['route', 'sync', 'm', '--json']);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(os.fake.readOpenshellState('logos')?.workspaces.m?.inference.user).toMatchObject({ provider: 'logos-lmstudio', model: 'm' });
  });
});

describe('worker upgrades', () => {
  it('uploads the current worker into a sandbox that has an older one, once', async () => {
    await os.home.run(['route', 'add', 'custom/fake-model', '--endpoint', model.url, '--name', 'm']);
    expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const file = join(os.home.env.LOGOS_HOME as string, 'state', 'sandboxes.json');
    const state = JSON.parse(readFileSync(file, 'utf8'));
    expect(state.sandboxes.work.worker_sha).toMatch(/^[0-9a-f]{64}$/);
    const current = state.sandboxes.work.worker_sha;
    state.sandboxes.work.worker_sha = 'from-an-older-logos';
    writeFileSync(file, JSON.stringify(state));
    const uploads = () => workspaceCalls('m').filter((c) => c.startsWith('sandbox upload')).length;
    const before = uploads();
    for (let i = 0; i < 2; i++) {
      const r = await os.home.run(['run', '--sandbox', 'work', '--json', 'hi'], { env: { OPENAI_BASE_URL: model.url } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    expect(uploads()).toBe(before + 1);
    expect(JSON.parse(readFileSync(file, 'utf8')).sandboxes.work.worker_sha).toBe(current);
  });
});
