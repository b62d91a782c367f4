import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { runCli } from '../helpers/fake-cli.js';
import { ROOT, jsonLines } from '../helpers/logos.js';
import { bare, expectGatewayOnEveryCall, makeOsHome, workspaceOf, type OsHome } from '../helpers/openshell-home.js';

/**
 * The places where a source audit of OpenShell v0.0.111 found the real CLI and gateway
 * behaving differently from what Logos assumed (openshell-cli.md "Correction" notes and
 * §13). Each test here failed on the Logos before the fix, against fakes that follow the
 * corrected reference.
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
  model.setScenario('plain');
});
afterEach(() => {
  expectGatewayOnEveryCall(os);
  os.cleanup();
});

/**
 * A gateway registered as Logos' default one without a container, so that a test about one
 * finding does not depend on the container fix (the fake treats it as reachable).
 */
async function registerGateway(): Promise<void> {
  const r = await os.home.run(['gateway', 'add', 'http://127.0.0.1:18555', '--name', 'logos', '--local']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

const creates = (): string[] => os.openshellCalls().map(bare).filter((c) => c.startsWith('sandbox create'));
const activeGateway = (): string | undefined => {
  const f = join(os.fake.env.XDG_CONFIG_HOME as string, 'openshell', 'active_gateway');
  return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
};

describe('sandbox names follow the server rule (at most 19, [a-z0-9-])', () => {
  beforeEach(registerGateway);

  it('refuses a user name OpenShell would reject, with the rule in the hint, before calling it', async () => {
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url])).code).toBe(0);
    for (const name of ['twenty-characters-xy', 'with.dot', 'double--dash']) {
      const r = await os.home.run(['sandbox', 'create', name, '--json']);
      expect(r.code, `${name}: ${r.stdout}${r.stderr}`).toBe(2);
      const err = JSON.parse(r.stdout).error;
      expect(err.code).toBe('INVALID_NAME');
      expect(err.hint).toContain('at most 19 characters');
    }
    expect(creates()).toEqual([]);
    // 19 is fine
    expect((await os.home.run(['sandbox', 'create', 'nineteen-characters'])).code).toBe(0);
  });

  it('gives the sandbox of a long route name a short stable name, and runs there', async () => {
    const add = await os.home.run(['route', 'add', 'custom/meta-llama/llama-3.1-8b-instruct', '--endpoint', model.url, '--json']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const route = JSON.parse(add.stdout).route.name as string;
    expect(route.length).toBeGreaterThan(19);
    const env = { OPENAI_BASE_URL: model.url };
    const run = await os.home.run(['run', '--json', 'hello'], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(jsonLines(run.stdout).at(-1)).toMatchObject({ type: 'task_result', status: 'ok' });
    const sandboxes = (JSON.parse((await os.home.run(['sandbox', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ name: string; route: string }>;
    expect(sandboxes).toHaveLength(1);
    const name = sandboxes[0]?.name as string;
    expect(name.length).toBeLessThanOrEqual(19);
    expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(sandboxes[0]?.route).toBe(route);
    // the next run uses the same sandbox
    expect((await os.home.run(['run', '--json', 'again'], { env })).code).toBe(0);
    expect(creates()).toHaveLength(1);
  });
});

describe('sandbox create', () => {
  beforeEach(registerGateway);

  it('passes the full image reference: a `base` directory in the working directory does not matter', async () => {
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url])).code).toBe(0);
    const cwd = mkdtempSync(join(tmpdir(), 'logos-cwd-'));
    try {
      mkdirSync(join(cwd, 'base'));
      const r = await os.home.run(['sandbox', 'create', 'work', '--json'], { cwd });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    expect(creates()[0]).toContain(' --from ghcr.io/nvidia/openshell-community/sandboxes/base:latest ');
  });

  it('detaches from the main process, and refuses OpenShell releases before 0.0.111 where create waited for it', async () => {
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url])).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
    expect(creates()[0]).toMatch(/ --detach -- sleep infinity$/);

    const old = makeOsHome({ FAKE_OPENSHELL_VERSION: '0.0.110' });
    try {
      expect((await old.home.run(['gateway', 'add', 'http://127.0.0.1:18555', '--name', 'logos', '--local'])).code).toBe(0);
      const r = await old.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url, '--json']);
      expect(r.code, r.stdout).toBe(5);
      const err = JSON.parse(r.stdout).error;
      expect(err.code).toBe('OPENSHELL_TOO_OLD');
      expect(err.message).toContain('0.0.111');
      expect(old.dockerCalls()).toEqual([]);
    } finally {
      old.cleanup();
    }
  });

  it('uploads the worker to its exact path even when the bundle sits in a git work tree', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'logos-repo-'));
    try {
      execFileSync('git', ['init', '-q', repo]);
      const worker = join(repo, 'worker-copy.mjs');
      copyFileSync(join(ROOT, 'dist', 'worker', 'logos-worker.mjs'), worker);
      os.writeConfig({ workerFile: worker });
      expect((await os.home.run(['route', 'add', 'custom/fake-model', '--endpoint', model.url, '--name', 'm'])).code).toBe(0);
      const env = { OPENAI_BASE_URL: model.url, LOGOS_WORKER_FILE: worker };
      expect((await os.home.run(['sandbox', 'create', 'work'], { env })).code).toBe(0);
      const run = await os.home.run(['run', '--sandbox', 'work', '--json', 'hello'], { env });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(jsonLines(run.stdout).at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: hello' });
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe("the user's active openshell gateway stays theirs", () => {
  it('gateway up and gateway add put back the active gateway openshell switches', async () => {
    const mine = await runCli(os.fake, 'openshell', ['-g', 'mine', 'gateway', 'add', 'https://gw.example.org:443', '--name', 'mine', '--remote', 'me@gw.example.org']);
    expect(mine.code, mine.stderr).toBe(0);
    expect(activeGateway()).toBe('mine');
    expect((await os.home.run(['gateway', 'add', 'https://lab.example.org:17670', '--name', 'lab', '--remote', 'ops@lab.example.org'])).code).toBe(0);
    expect(activeGateway()).toBe('mine');
    expect((await os.home.run(['gateway', 'up'])).code).toBe(0);
    expect(activeGateway()).toBe('mine');
  });

  it('with no active gateway before, there is none after', async () => {
    await registerGateway();
    expect(activeGateway()).toBeUndefined();
    expect(os.openshellCalls().map(bare)).toContain('gateway add http://127.0.0.1:18555 --name logos --local');
    expect((await os.home.run(['gateway', 'up', 'other'])).code).toBe(0);
    expect(activeGateway()).toBeUndefined();
  });
});

describe('status is read as the gateway means it', () => {
  it('an unknown gateway (status says not_configured, exit 0) is NOT_FOUND', async () => {
    const r = await os.home.run(['gateway', 'status', 'nope', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'NOT_FOUND', hint: expect.stringContaining('logos gateway add') });
  });

  it('connected_http (HTTP health answers, gRPC does not) is not reachable', async () => {
    await registerGateway();
    const r = await os.home.run(['gateway', 'status', 'logos', '--json'], { env: { FAKE_OPENSHELL_GRPC_DOWN: 'logos' } });
    expect(r.code).toBe(7);
    expect(JSON.parse(r.stdout).items[0]).toMatchObject({ name: 'logos', reachable: false, status: 'connected_http' });
  });

  it('a missing workspace does not read as a missing sandbox', async () => {
    await registerGateway();
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url])).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
    // The gateway lost the workspace (e.g. rebuilt without its state volume).
    const state = os.fake.readOpenshellState('logos');
    const file = join(os.fake.env.FAKE_OPENSHELL_STATE as string, 'servers', (state?.endpoint ?? '').replace(/[^A-Za-z0-9.-]+/g, '_'), 'state.json');
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    delete raw.workspaces.m;
    writeFileSync(file, JSON.stringify(raw));
    const show = await os.home.run(['sandbox', 'show', 'work', '--json']);
    expect(show.code, show.stdout + show.stderr).toBe(0);
    const status = JSON.parse(show.stdout).status;
    expect(status.phase).not.toBe('Missing');
    expect(status.detail).toContain("workspace 'm'");
  });
});

describe('child openshell processes', () => {
  beforeEach(registerGateway);

  it("do not inherit OPENSHELL_GATEWAY* / OPENSHELL_WORKSPACE from the user's shell", async () => {
    const env = { OPENSHELL_GATEWAY_ENDPOINT: 'http://127.0.0.1:9', OPENSHELL_GATEWAY: 'elsewhere', OPENSHELL_WORKSPACE: 'nope', FAKE_OPENSHELL_UNREACHABLE: 'http://127.0.0.1:9' };
    const add = await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url, '--json'], { env });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const sb = await os.home.run(['sandbox', 'create', 'work', '--json'], { env });
    expect(sb.code, sb.stdout + sb.stderr).toBe(0);
    expect(os.fake.readOpenshellState('logos')?.workspaces.m?.sandboxes.work).toBeDefined();
    for (const e of os.log('openshell')) {
      expect(e.env_names, e.argv.join(' ')).not.toEqual(expect.arrayContaining(['OPENSHELL_GATEWAY_ENDPOINT']));
      expect(e.env_names).not.toContain('OPENSHELL_GATEWAY');
      expect(e.env_names).not.toContain('OPENSHELL_WORKSPACE');
    }
    expect(os.openshellCalls().filter((a) => workspaceOf(a) === 'm').length).toBeGreaterThan(0);
  });
});

describe('the local gateway container can run sandboxes (§13)', () => {
  it('gateway up, then a sandbox reaches Ready on it', async () => {
    const up = await os.home.run(['gateway', 'up', '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url])).code).toBe(0);
    const sb = await os.home.run(['sandbox', 'create', 'work', '--json']);
    expect(sb.code, sb.stdout + sb.stderr).toBe(0);
    expect(JSON.parse((await os.home.run(['sandbox', 'show', 'work', '--json'])).stdout).status.phase).toBe('Ready');
  });

  it('replaces a container started the old way (port mapped to 8080, settings in env), keeping its state volume', async () => {
    // What an earlier Logos ran (with --user 0 added so that it starts at all).
    const sup = join(os.fake.dir, 'sup');
    mkdirSync(sup);
    const old = await runCli(os.fake, 'docker', [
      'run', '-d', '--name', 'logos-gw-logos', '--restart', 'unless-stopped', '--user', '0', '-p', '127.0.0.1:17670:8080',
      '-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${sup}:${sup}:ro`, '-v', 'logos-gw-logos-state:/var/openshell',
      '-e', 'OPENSHELL_DRIVERS=docker', '-e', `OPENSHELL_DOCKER_SUPERVISOR_BIN=${sup}/openshell-sandbox`, '-e', 'OPENSHELL_DB_URL=sqlite:/var/openshell/openshell.db',
      '--label', 'dev.logos.gateway=logos', 'ghcr.io/nvidia/openshell/gateway:0.0.111',
    ]);
    expect(old.code, old.stderr).toBe(0);
    const up = await os.home.run(['gateway', 'up', '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ already_running: false, gateway: { port: 17670 } });
    const running = os.fake.readDockerState().containers.filter((c) => c.State.Running);
    expect(running).toHaveLength(1);
    expect(Object.keys(os.fake.readDockerState().volumes)).toEqual(['logos-gw-logos-state']);
    expect((await os.home.run(['route', 'add', 'lmstudio/m', '--endpoint', model.url])).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
  });
});
