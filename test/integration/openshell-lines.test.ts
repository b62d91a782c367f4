import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { jsonLines, type LogosResult } from '../helpers/logos.js';
import { bare, expectGatewayOnEveryCall, expectNoSecretOnArgv, makeOsHome, workspaceOf, type OsHome } from '../helpers/openshell-home.js';

/**
 * Every flow on both OpenShell lines, through the real binary against the fakes: gateway up,
 * route add, sandbox create, run, route sync, key rotation, route remove, gateway down. The key
 * never leaves the gateway's provider store and the environment of the one openshell process
 * that sets it: not on an argv, not in Logos' log, not in any output, and (0.1.x) not inside
 * the sandbox, which only holds a placeholder the supervisor swaps at the profile's endpoint.
 */

const CANARY = `sk-CANARY-lines-$(touch /tmp/pwned)'";|&\`x\`-5150`;
const CANARY2 = 'sk-CANARY-rotated-lines-424242';
const LOGOS_VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

let model: FakeModelServer;
beforeAll(async () => {
  model = await startFakeOpenAI();
});
afterAll(async () => {
  await model.close();
});

describe.each([
  ['0.0.111', '0.0'],
  ['0.0.116', '0.0'],
  ['0.1.10', '0.1'],
  ['0.1.5', '0.1'],
] as const)('OpenShell %s', (version, line) => {
  let os: OsHome;
  const outputs: LogosResult[] = [];
  const run = async (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<LogosResult> => {
    // 0.0.x: the fake runs the worker on the host, where https://inference.local does not
    // resolve; the worker's OPENAI_BASE_URL override reaches the model instead. 0.1.x: nothing
    // of the kind, the sandbox's own environment and the supervisor proxy do it.
    const env = line === '0.0' ? { OPENAI_BASE_URL: model.url, ...opts.env } : { ...opts.env };
    const r = await os.home.run(args, { ...opts, env });
    outputs.push(r);
    return r;
  };
  const calls = (ws: string) =>
    os
      .openshellCalls()
      .filter((a) => workspaceOf(a) === ws)
      .map(bare);

  beforeEach(() => {
    // On 0.1.x, sandboxes reach the model only through the supervisor's proxy (as on a real gateway).
    os = makeOsHome({ FAKE_OPENSHELL_VERSION: version, ...(line === '0.1' ? { FAKE_OPENSHELL_EGRESS: 'strict' } : {}) });
    os.writeConfig({ imageMinFreeDiskBytes: 0, imageMinFreeMemBytes: 0 });
    outputs.length = 0;
    model.setScenario('plain');
    model.requests.length = 0;
  });
  afterEach(() => {
    expectGatewayOnEveryCall(os);
    expectNoSecretOnArgv(os, [CANARY, CANARY2]);
    for (const r of outputs) {
      expect(r.stdout + r.stderr).not.toContain('CANARY');
    }
    expect(os.home.logText()).not.toContain('CANARY');
    // the fake supervisor's proxy log records key names, never values
    const servers = join(os.fake.dir, 'openshell-state', 'servers');
    for (const d of existsSync(servers) ? readdirSync(servers) : []) {
      const log = join(servers, d, 'proxy.log');
      if (existsSync(log)) expect(readFileSync(log, 'utf8')).not.toContain('CANARY');
    }
    os.cleanup();
  });

  it('gateway up → route add → sandbox create → run → rotation → sync → route remove → gateway down', async () => {
    // gateway up
    const up = await run(['gateway', 'up', '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const gw = JSON.parse(up.stdout).gateway;
    expect(gw).toMatchObject({ name: 'logos', line, port: 17670 });
    const toml = readFileSync(gw.config, 'utf8');
    const registry = version === '0.1.10' ? 'quay.io/ai-openshell' : 'ghcr.io/nvidia/openshell';
    expect(gw.image).toBe(`${registry}/gateway:${version}`);
    if (line === '0.1') {
      expect(toml).toContain('version = 2');
      expect(toml).toContain('compute_driver = "docker"');
      expect(toml).toContain('allow_unauthenticated_users = true');
      expect(toml).toContain(`supervisor_image = "${registry}/supervisor:${version}"`);
      expect(toml).toContain(`sandbox_runtime_image = "${registry}/sandbox:${version}"`);
      const st = JSON.parse((await run(['gateway', 'status', 'logos', '--json'])).stdout).items[0];
      expect(st).toMatchObject({ reachable: true, version, cli_version: version });
      expect(st.auth).toContain('127.0.0.1 only');
      // 0.1.x sandboxes need Logos' image (the default one has no Node)
      const build = await run(['image', 'build', '--json']);
      expect(build.code, build.stdout + build.stderr).toBe(0);
      expect(JSON.parse(build.stdout).image).toBe(`logos-sandbox:${LOGOS_VERSION}`);
    } else {
      expect(toml).toContain('version = 1');
      expect(toml).not.toContain('allow_unauthenticated_users');
    }

    // route add (the key comes from the vault, through the child's environment)
    expect((await run(['creds', 'set', 'custom', '--key-stdin'], { input: CANARY })).code).toBe(0);
    const add = await run(['route', 'add', 'custom/fake-model', '--endpoint', model.url, '--name', 'm', '--json']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(JSON.parse(add.stdout).route).toMatchObject({ name: 'm', gateway: 'logos', workspace: 'm', status: 'ready' });
    const visible = `http://host.openshell.internal:${model.port}/v1`;
    const setup = calls('m');
    if (line === '0.1') {
      expect(setup.filter((c) => !c.startsWith('provider list'))).toEqual([
        'profile export logos-custom -o json',
        expect.stringMatching(/^profile lint -f \S+\/logos-custom\.yaml$/),
        expect.stringMatching(/^profile import -f \S+\/logos-custom\.yaml$/),
        'provider create --name logos-custom --type logos-custom --credential OPENAI_API_KEY',
      ]);
      const profile = JSON.parse((await import('node:child_process')).execFileSync('openshell', ['-g', 'logos', '--workspace', 'm', 'profile', 'export', 'logos-custom', '-o', 'json'], { env: { ...os.fake.env, FAKE_OPENSHELL_VERSION: version }, encoding: 'utf8' }));
      expect(profile).toMatchObject({
        endpoints: [{ host: 'host.openshell.internal', port: model.port, protocol: 'rest' }],
        binaries: ['/usr/local/bin/node', '/usr/bin/node'],
        credentials: [{ env_vars: ['OPENAI_API_KEY'], auth_style: 'bearer' }],
      });
      expect(os.openshellCalls().map(bare).some((c) => c.startsWith('inference'))).toBe(false);
    } else {
      expect(setup).toEqual([
        `provider create --name logos-custom --type openai --credential OPENAI_API_KEY --config OPENAI_BASE_URL=${visible}`,
        'inference set --provider logos-custom --model fake-model --no-verify --timeout 600',
      ]);
    }
    // the provider store has the key; the argv of that call does not (afterEach), its env does
    expect(os.fake.readSecrets('logos').m?.['logos-custom']?.OPENAI_API_KEY).toBe(CANARY);
    const create = os.log('openshell').find((e) => e.argv.includes('provider') && e.argv.includes('create'));
    expect(create?.env_names).toContain('OPENAI_API_KEY');

    // sandbox create
    const sb = await run(['sandbox', 'create', 'work', '--json']);
    expect(sb.code, sb.stdout + sb.stderr).toBe(0);
    expect(JSON.parse(sb.stdout).sandbox).toMatchObject({ name: 'work', os_line: line });
    const sbCreate = calls('m').find((c) => c.startsWith('sandbox create')) as string;
    if (line === '0.1') {
      expect(sbCreate).toMatch(
        new RegExp(
          `^sandbox create --name work --from logos-sandbox:${LOGOS_VERSION.replace(/\./g, '\\.')} --no-auto-providers --no-tty --provider logos-custom --env OPENAI_BASE_URL=${visible.replace(/[.:/]/g, '\\$&')} --policy \\S+ --detach -- sleep infinity$`,
        ),
      );
    } else {
      expect(sbCreate).toMatch(/^sandbox create --name work --from ghcr\.io\/nvidia\/openshell-community\/sandboxes\/base:latest --no-auto-providers --no-tty --policy \S+ --detach -- sleep infinity$/);
    }

    // run: the worker calls the model with the route's real model id
    const r1 = await run(['run', '--sandbox', 'work', '--json', 'hello lines']);
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    expect(jsonLines(r1.stdout).at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: hello lines' });
    const chat = model.requests.filter((q) => q.path.endsWith('/chat/completions'));
    expect((chat.at(-1)?.body as { model?: string }).model).toBe('fake-model');
    const exec = calls('m').findLast((c) => c.startsWith('sandbox exec')) as string;
    if (line === '0.1') {
      expect(exec).toBe(
        `sandbox exec --name work --no-tty --no-login-shell --timeout 600 --env OPENAI_BASE_URL=${visible} --env LOGOS_WORKER_LOG=.logos/worker.jsonl -- node /sandbox/.logos/worker.mjs`,
      );
      // the supervisor swapped the placeholder for the key at the profile's endpoint
      expect(chat.at(-1)?.headers.authorization).toBe(`Bearer ${CANARY}`);
      // inside the sandbox the worker had only the placeholder
      const logs = await run(['sandbox', 'logs', 'work', '--json']);
      expect(logs.stdout).not.toContain('CANARY');
    } else {
      expect(exec).toBe('sandbox exec --name work --no-tty --timeout 600 --env LOGOS_WORKER_LOG=.logos/worker.jsonl -- node /sandbox/.logos/worker.mjs');
    }

    // key rotation: the provider gets the new key; new tasks use it
    const rot = await run(['creds', 'set', 'custom', '--key-stdin', '--json'], { input: CANARY2 });
    expect(rot.code, rot.stdout + rot.stderr).toBe(0);
    expect(JSON.parse(rot.stdout)).toMatchObject({ ok: true, synced_routes: ['m'] });
    expect(os.fake.readSecrets('logos').m?.['logos-custom']?.OPENAI_API_KEY).toBe(CANARY2);
    const r2 = await run(['run', '--sandbox', 'work', '--json', 'after rotation']);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    if (line === '0.1') expect(model.requests.filter((q) => q.path.endsWith('/chat/completions')).at(-1)?.headers.authorization).toBe(`Bearer ${CANARY2}`);

    // route sync: idempotent, nothing to re-create
    const before = calls('m').length;
    const sync = await run(['route', 'sync', 'm', '--json']);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    const synced = calls('m').slice(before);
    if (line === '0.1') {
      expect(synced).toEqual(['provider list -o json', 'profile export logos-custom -o json', 'provider update logos-custom --credential OPENAI_API_KEY']);
    } else {
      expect(synced).toEqual(['provider list -o json', `provider update logos-custom --credential OPENAI_API_KEY --config OPENAI_BASE_URL=${visible}`, 'inference get']);
    }

    // route remove
    const rm = await run(['route', 'remove', 'm', '--force', '--json']);
    expect(rm.code, rm.stdout + rm.stderr).toBe(0);
    const seq = os.openshellCalls().map(bare);
    const i = seq.lastIndexOf('sandbox delete work');
    expect(seq.slice(i).filter((c) => c !== '-V')).toEqual(
      line === '0.1'
        ? ['sandbox delete work', 'provider delete logos-custom', 'profile delete logos-custom', 'workspace delete m']
        : ['sandbox delete work', 'inference delete', 'provider delete logos-custom', 'workspace delete m'],
    );
    expect(os.fake.readOpenshellState('logos')?.workspaces.m).toBeUndefined();
    expect(os.fake.readSecrets('logos').m).toBeUndefined();

    // gateway down
    const down = await run(['gateway', 'down', '--json']);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(os.fake.readDockerState().containers.filter((c) => c.State.Running)).toEqual([]);
  }, 120_000);
});
