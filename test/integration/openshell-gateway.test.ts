import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bare, expectGatewayOnEveryCall, makeOsHome, type OsHome } from '../helpers/openshell-home.js';

/** `logos gateway …` against the fake openshell and docker (test/fakes/bin), via the real binary. */

let os: OsHome;
beforeEach(() => {
  os = makeOsHome();
});
afterEach(() => {
  // Every openshell call Logos made, in every test here, carried -g NAME.
  expectGatewayOnEveryCall(os);
  os.cleanup();
});

function listen(port = 0): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('logos gateway up', () => {
  it('starts the container as documented, registers it, and is idempotent', async () => {
    const r = await os.home.run(['gateway', 'up', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ ok: true, already_running: false, gateway: { name: 'logos', kind: 'local', managed: true, port: 17670, endpoint: 'http://127.0.0.1:17670' } });

    const docker = os.dockerCalls();
    const gwDir = join(os.home.env.LOGOS_HOME as string, 'data', 'gateways', 'logos');
    const supBin = join(gwDir, 'supervisor-0.0.111', 'openshell-sandbox');
    expect(docker.map((a) => a.slice(0, 2).join(' '))).toEqual(['create --name', 'cp ' + docker[1]?.[1], 'rm ' + docker[2]?.[1], 'volume create', 'pull ghcr.io/nvidia/openshell/gateway:0.0.111', 'run -d']);
    expect(docker[0]?.at(-1)).toBe('ghcr.io/nvidia/openshell/supervisor:0.0.111');
    expect(docker[1]?.[2]).toBe(supBin);
    const run = docker.at(-1) as string[];
    const flag = (f: string) => run.flatMap((a, i) => (a === f ? [run[i + 1] as string] : []));
    expect(flag('--name')).toEqual(['logos-gw-logos']);
    expect(flag('--restart')).toEqual(['unless-stopped']);
    expect(flag('--user')).toEqual(['0']);
    // Published at the port it listens on: sandboxes call back to host.openshell.internal:<that port>.
    expect(flag('-p')).toEqual(['127.0.0.1:17670:17670']);
    expect(flag('-v')).toEqual(['/var/run/docker.sock:/var/run/docker.sock', `${gwDir}:${gwDir}`, 'logos-gw-logos-state:/var/openshell']);
    expect(flag('--add-host')).toEqual(['host.openshell.internal:host-gateway', 'host.docker.internal:host-gateway']);
    expect(flag('-e')).toEqual([`OPENSHELL_GATEWAY_CONFIG=${gwDir}/gateway.toml`, 'OPENSHELL_DB_URL=sqlite:/var/openshell/openshell.db?mode=rwc']);
    expect(run.slice(-5)).toEqual(['ghcr.io/nvidia/openshell/gateway:0.0.111', '--bind-address', '0.0.0.0', '--port', '17670']);
    // The settings the gateway has read since v0.0.43: the TOML file, not OPENSHELL_* variables.
    const toml = readFileSync(join(gwDir, 'gateway.toml'), 'utf8');
    expect(toml).toContain('version = 1');
    expect(toml).toContain('bind_address = "0.0.0.0:17670"');
    expect(toml).toContain('compute_drivers = ["docker"]');
    expect(toml).toContain(`supervisor_bin = "${supBin}"`);
    expect(toml).toContain('grpc_endpoint = "http://host.openshell.internal:17670"');

    const osCalls = os.openshellCalls().map(bare);
    expect(osCalls).toContain('gateway add http://127.0.0.1:17670 --name logos --local');
    expect(osCalls.filter((c) => c === '-V')).toHaveLength(1);

    // Again: nothing is started or registered a second time.
    const before = { docker: os.dockerCalls().length, adds: osCalls.filter((c) => c.startsWith('gateway add')).length };
    const again = await os.home.run(['gateway', 'up', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ already_running: true });
    expect(os.dockerCalls().length).toBe(before.docker);
    expect(os.openshellCalls().map(bare).filter((c) => c.startsWith('gateway add'))).toHaveLength(before.adds);
    // the version was detected once and cached across invocations
    expect(os.openshellCalls().map(bare).filter((c) => c === '-V')).toHaveLength(1);
  });

  it('--dry-run prints the docker and openshell commands and changes nothing', async () => {
    const r = await os.home.run(['gateway', 'up', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.some((l) => l.startsWith('docker run -d --name logos-gw-logos'))).toBe(true);
    // the gateway.toml it would write is shown (as comments), and not written
    expect(lines[0]).toMatch(/^# .*\/gateways\/logos\/gateway\.toml$/);
    expect(lines).toContain('#   supervisor_bin = "' + join(os.home.env.LOGOS_HOME as string, 'data', 'gateways', 'logos', 'supervisor-0.0.111', 'openshell-sandbox') + '"');
    expect(lines.at(-2)).toBe('openshell -g logos gateway add http://127.0.0.1:17670 --name logos --local');
    expect(lines.at(-1)).toBe("# openshell makes 'logos' its active gateway; Logos puts the user's active gateway back right after (now: none)");
    expect(os.dockerCalls()).toEqual([]);
    expect(os.fake.readDockerState().containers).toEqual([]);
    expect(os.openshellCalls().map(bare).some((c) => c.startsWith('gateway add'))).toBe(false);
    const list = JSON.parse((await os.home.run(['gateway', 'list', '--json'])).stdout);
    expect(list.gateways).toEqual([]);
  });

  it('skips ports docker publishes or something else binds; refuses a taken --port', async () => {
    const taken = await listen();
    const base = taken.port;
    try {
      // another container publishes base+1
      const other = await os.home.run(['gateway', 'up', 'other', '--port', String(base + 1), '--json']);
      expect(other.code, other.stdout + other.stderr).toBe(0);
      os.writeConfig({ gatewayPortRange: [base, base + 3] });
      const r = await os.home.run(['gateway', 'up', 'main', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).gateway.port).toBe(base + 2);
      const busy = await os.home.run(['gateway', 'up', 'third', '--port', String(base), '--json']);
      expect(busy.code).toBe(4);
      expect(JSON.parse(busy.stdout).error).toMatchObject({ code: 'PORT_IN_USE', hint: expect.stringContaining('--port') });
      const published = await os.home.run(['gateway', 'up', 'fourth', '--port', String(base + 1), '--json']);
      expect(JSON.parse(published.stdout).error.code).toBe('PORT_IN_USE');
    } finally {
      taken.server.close();
    }
  });

  it('down removes the container and the registration, keeps the volume; up brings it back on the same port', async () => {
    expect((await os.home.run(['gateway', 'up', '--port', '17690'])).code).toBe(0);
    const down = await os.home.run(['gateway', 'down', '--json']);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(os.fake.readDockerState().containers.filter((c) => c.Name.includes('logos-gw-logos'))).toEqual([]);
    expect(Object.keys(os.fake.readDockerState().volumes)).toContain('logos-gw-logos-state');
    const calls = os.openshellCalls().map(bare);
    expect(calls).toContain('gateway remove logos');
    const list = JSON.parse((await os.home.run(['gateway', 'list', '--json'])).stdout);
    expect(list.gateways).toEqual([expect.objectContaining({ name: 'logos', state: 'down', registered: false, managed: true })]);
    const up = await os.home.run(['gateway', 'up', '--json']);
    expect(JSON.parse(up.stdout).gateway.port).toBe(17690);
  });
});

describe('gateway faults', () => {
  it('a container that exits during start-up → GATEWAY_START_FAILED with its logs', async () => {
    const r = await os.home.run(['gateway', 'up', '--json'], { env: { FAKE_DOCKER_EXIT_ON_START: 'logos-gw-logos' } });
    expect(r.code).toBe(7);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('GATEWAY_START_FAILED');
    expect(err.message).toContain('exited during start-up');
    expect(err.hint).toContain('docker logs logos-gw-logos');
    expect(Array.isArray(err.details.logs)).toBe(true);
    // not registered, no record
    expect(os.openshellCalls().map(bare).some((c) => c.startsWith('gateway add'))).toBe(false);
  });

  it.each([
    ['docker engine not running', { FAKE_DOCKER_NO_DAEMON: '1' }, undefined, 5, 'DOCKER_NOT_RUNNING', 'systemctl start docker'],
    ['docker missing', {}, ['openshell'] as Array<'openshell' | 'docker'>, 5, 'DOCKER_MISSING', 'Install Docker'],
    ['openshell missing', {}, ['docker'] as Array<'openshell' | 'docker'>, 5, 'OPENSHELL_MISSING', 'OpenShell'],
    ['openshell older than 0.0.95', { FAKE_OPENSHELL_VERSION: '0.0.90' }, undefined, 5, 'OPENSHELL_TOO_OLD', 'OpenShell versions'],
  ] as const)('%s → %s', async (_name, env, tools, code, reason, hint) => {
    const extra: NodeJS.ProcessEnv = { ...env };
    if (tools) extra.PATH = os.pathWith([...tools]);
    const r = await os.home.run(['gateway', 'up', '--json'], { env: extra });
    expect(r.code, r.stdout + r.stderr).toBe(code);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe(reason);
    expect(err.hint).toContain(hint);
    const human = await os.home.run(['gateway', 'up'], { env: extra });
    expect(human.stderr).toMatch(/^Error: /);
    expect(human.stderr).toContain('Hint:');
  });

  it('unknown gateways are reported with what to do', async () => {
    const st = await os.home.run(['gateway', 'status', 'nope', '--json']);
    expect(st.code).toBe(3);
    expect(JSON.parse(st.stdout).error).toMatchObject({ code: 'NOT_FOUND', hint: expect.stringContaining('logos gateway add') });
    const route = await os.home.run(['route', 'add', 'openai/gpt-4o-mini', '--gateway', 'nope', '--json']);
    expect(route.code).toBe(3);
    expect(JSON.parse(route.stdout).error.code).toBe('NOT_FOUND');
    expect((await os.home.run(['gateway', 'down', 'nope'])).code).toBe(3);
  });
});

describe('remote gateways, list and status', () => {
  it('registers a remote gateway, merges views, and measures status', async () => {
    expect((await os.home.run(['gateway', 'up'])).code).toBe(0);
    const add = await os.home.run(['gateway', 'add', 'https://gw.lab.example:17670', '--name', 'lab', '--remote', 'ops@gw.lab.example', '--json']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ ok: true, gateway: { name: 'lab', kind: 'remote', managed: false } });
    expect(os.openshellCalls().map(bare)).toContain('gateway add https://gw.lab.example:17670 --name lab --remote ops@gw.lab.example');

    const list = JSON.parse((await os.home.run(['gateway', 'list', '--json'])).stdout);
    expect(list.gateways.map((g: { name: string; managed: boolean; registered: boolean; kind: string }) => [g.name, g.managed, g.registered, g.kind])).toEqual([
      ['lab', false, true, 'remote'],
      ['logos', true, true, 'local'],
    ]);
    const local = list.gateways.find((g: { name: string }) => g.name === 'logos');
    expect(local.container).toMatchObject({ name: 'logos-gw-logos', state: 'running' });

    const st = await os.home.run(['gateway', 'status', '--json'], { env: { FAKE_OPENSHELL_UNREACHABLE: 'lab' } });
    const statuses = JSON.parse(st.stdout).items as Array<{ name: string; reachable: boolean; version?: string; sandboxes?: number; latency_ms: number; checked_at: string }>;
    const lab = statuses.find((s) => s.name === 'lab');
    const logos = statuses.find((s) => s.name === 'logos');
    expect(lab).toMatchObject({ reachable: false });
    expect(logos).toMatchObject({ reachable: true, version: '0.0.111', sandboxes: 0 });
    expect(typeof logos?.latency_ms).toBe('number');
    expect(Date.parse(logos?.checked_at ?? '')).not.toBeNaN();
    const one = await os.home.run(['gateway', 'status', 'lab'], { env: { FAKE_OPENSHELL_UNREACHABLE: 'lab' } });
    expect(one.code).toBe(7);

    // remove: a running local gateway must go down first; a remote one unregisters
    expect((await os.home.run(['gateway', 'remove', 'logos'])).code).toBe(4);
    expect((await os.home.run(['gateway', 'remove', 'lab'])).code).toBe(0);
    expect(os.openshellCalls().map(bare)).toContain('gateway remove lab');
  });
});
