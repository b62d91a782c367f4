// The fake `docker` must answer like the real 28.x client for what a local-gateway manager uses:
// run/ps/inspect/rm/stop/start/logs/cp/pull/volume, with the real texts and exit codes.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEnv, makeFakeEnv, runCli, stripAnsi } from '../helpers/fake-cli.js';

const GATEWAY_IMAGE = 'ghcr.io/nvidia/openshell/gateway:0.0.111';
const NO_DAEMON = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

/** The parts of `docker inspect` JSON these tests look at. */
interface InspectedContainer {
  Name: string;
  State: Record<string, unknown>;
  NetworkSettings: { Ports: unknown };
  HostConfig: { RestartPolicy: { Name: string }; GroupAdd: string[] | null };
  Config: { Image: string; Labels: Record<string, string>; Env: string[] };
}

let fake: FakeEnv;
const docker = (args: string[], opts: Parameters<typeof runCli>[3] = {}) => runCli(fake, 'docker', args, opts);

const runGateway = (name: string, port: number, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  docker(
    [
      'run', '-d', '--name', name, '--restart', 'unless-stopped', '-p', `127.0.0.1:${port}:8080`,
      '-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${name}-data:/var/openshell`,
      '-e', 'OPENSHELL_DRIVERS=docker', '--group-add', 'docker', '--label', `logos.gateway=${name}`,
      ...extra, GATEWAY_IMAGE,
    ],
    { env },
  );

describe('fake docker: client basics and no-daemon', () => {
  beforeAll(() => {
    fake = makeFakeEnv();
  });
  afterAll(() => fake.cleanup());

  it('reports versions like the real client', async () => {
    const v = await docker(['version', '--format', '{{.Server.Version}}']);
    expect(v).toMatchObject({ code: 0, stdout: '28.2.2\n' });
    const plain = await docker(['version']);
    expect(plain.stdout).toMatch(/^Client:\n Version: +28\.2\.2\n/);
    expect(plain.stdout).toContain('Server: Docker Engine - Community');
    const info = await docker(['info', '--format', '{{json .ServerVersion}}']);
    expect(info.stdout).toBe('"28.2.2"\n');
  });

  it('FAKE_DOCKER_NO_DAEMON=1 fails like a client without an engine', async () => {
    const env = { FAKE_DOCKER_NO_DAEMON: '1' };
    const v = await docker(['version'], { env });
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^Client:\n/);
    expect(v.stdout).not.toContain('Server:');
    expect(v.stderr).toBe(`${NO_DAEMON}\n`);
    const fmt = await docker(['version', '--format', '{{.Server.Version}}'], { env });
    expect(fmt).toMatchObject({ code: 1, stdout: '\n', stderr: `${NO_DAEMON}\n` });
    const ps = await docker(['ps'], { env });
    expect(ps).toMatchObject({ code: 1, stdout: '', stderr: `${NO_DAEMON}\n` });
    const run = await docker(['run', '-d', '--name', 'x', 'alpine'], { env });
    expect(run.code).toBe(125);
    expect(run.stderr).toBe(`docker: ${NO_DAEMON}\n\nRun 'docker run --help' for more information\n`);
    const info = await docker(['info'], { env });
    expect(info.code).toBe(1);
    expect(info.stdout.endsWith('Server:\n')).toBe(true);
  });

  it('usage errors: unknown flag 125, wrong argument count 1, unknown command 1', async () => {
    const flag = await docker(['ps', '--foo']);
    expect(flag.code).toBe(125);
    expect(flag.stderr).toBe("unknown flag: --foo\n\nUsage:  docker ps [OPTIONS]\n\nRun 'docker ps --help' for more information\n");
    const args = await docker(['rm']);
    expect(args.code).toBe(1);
    expect(args.stderr).toContain("docker: 'docker rm' requires at least 1 argument");
    const cmd = await docker(['frobnicate']);
    expect(cmd.code).toBe(1);
    expect(cmd.stderr).toContain('docker: unknown command: docker frobnicate');
    const filter = await docker(['ps', '--filter', 'bogus']);
    expect(filter.code).toBe(125);
    expect(filter.stderr).toContain('bad format of filter (expected name=value)');
  });

  it('requires FAKE_DOCKER_STATE', async () => {
    const r = await docker(['version'], { env: { FAKE_DOCKER_STATE: '' } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('FAKE_DOCKER_STATE');
  });
});

describe('fake docker: containers', () => {
  beforeAll(() => {
    fake = makeFakeEnv();
  });
  afterAll(() => fake.cleanup());

  it('run -d pulls a missing image, prints a 64-hex id and records a running container', async () => {
    const r = await runGateway('gw1', 17670);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(r.stderr).toContain(`Unable to find image '${GATEWAY_IMAGE}' locally`);
    const ct = fake.readDockerState().containers.find((c) => c.Name === '/gw1');
    expect(ct?.State.Running).toBe(true);
  });

  it('a duplicate name is the real conflict error, exit 125', async () => {
    const r = await runGateway('gw1', 17671);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(
      /^docker: Error response from daemon: Conflict\. The container name "\/gw1" is already in use by container "[0-9a-f]{64}"\. You have to remove \(or rename\) that container to be able to reuse that name\.\n/,
    );
  });

  it("ps --format '{{json .}}' has the real fields", async () => {
    const r = await docker(['ps', '--filter', 'label=logos.gateway', '--format', '{{json .}}']);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      Names: 'gw1',
      Image: GATEWAY_IMAGE,
      Ports: '127.0.0.1:17670->8080/tcp',
      State: 'running',
      Labels: 'logos.gateway=gw1',
    });
    expect(rows[0]?.ID).toMatch(/^[0-9a-f]{12}$/);
    expect(rows[0]?.Status).toMatch(/^Up .*\(healthy\)$/);
    const names = await docker(['ps', '-a', '--filter', 'name=^gw1$', '--format', '{{.Names}}\t{{.State}}']);
    expect(names.stdout).toBe('gw1\trunning\n');
    const table = await docker(['ps']);
    expect(table.stdout.split('\n')[0]).toMatch(/^CONTAINER ID {3}IMAGE {3,}COMMAND {3,}CREATED {3,}STATUS {3,}PORTS {3,}NAMES$/);
  });

  it('inspect returns the JSON array with State, Health, Ports, Config', async () => {
    const r = await docker(['inspect', 'gw1']);
    const [obj] = JSON.parse(r.stdout) as InspectedContainer[];
    expect(obj?.Name).toBe('/gw1');
    expect(obj?.State).toMatchObject({ Status: 'running', Running: true, ExitCode: 0, Health: { Status: 'healthy' } });
    expect(obj?.NetworkSettings.Ports).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '17670' }] });
    expect(obj?.HostConfig.RestartPolicy.Name).toBe('unless-stopped');
    expect(obj?.HostConfig.GroupAdd).toEqual(['docker']);
    expect(obj?.Config.Image).toBe(GATEWAY_IMAGE);
    expect(obj?.Config.Labels).toEqual({ 'logos.gateway': 'gw1' });
    expect(obj?.Config.Env).toContain('OPENSHELL_DRIVERS=docker');
    const fmt = await docker(['inspect', '--format', '{{.State.Running}} {{.State.Health.Status}} {{index .Config.Labels "logos.gateway"}}', 'gw1']);
    expect(fmt.stdout).toBe('true healthy gw1\n');
    const missing = await docker(['inspect', 'nope']);
    expect(missing).toMatchObject({ code: 1, stdout: '[]\n', stderr: 'Error: No such object: nope\n' });
  });

  it('create + cp extracts an executable placeholder, then rm', async () => {
    const created = await docker(['create', '--name', 'tmp', 'ghcr.io/nvidia/openshell/supervisor:0.0.111']);
    expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const dir = path.join(fake.dir, 'bin');
    mkdirSync(dir);
    const cp = await docker(['cp', 'tmp:/openshell-sandbox', path.join(dir, 'openshell-sandbox')]);
    expect(cp.code).toBe(0);
    const file = path.join(dir, 'openshell-sandbox');
    expect(statSync(file).mode & 0o111).not.toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^#!\/bin\/sh\n/);
    expect((await docker(['cp', 'ghost:/x', dir])).stderr).toContain('No such container: ghost');
    expect(await docker(['rm', 'tmp'])).toMatchObject({ code: 0, stdout: 'tmp\n' });
  });

  it('rm refuses a running container without -f; stop/start/logs', async () => {
    const rm = await docker(['rm', 'gw1']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('cannot remove container "/gw1": container is running');
    const logs = await docker(['logs', 'gw1']);
    expect(logs.stdout).toContain('listening on 0.0.0.0:8080');
    expect((await docker(['stop', 'gw1'])).stdout).toBe('gw1\n');
    expect((await docker(['inspect', '-f', '{{.State.Status}} {{json .NetworkSettings.Ports}}', 'gw1'])).stdout).toBe('exited {}\n');
    expect((await docker(['ps', '--format', '{{.Names}}'])).stdout).toBe('');
    expect((await docker(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}'])).stdout).toBe('gw1\n');
    expect((await docker(['start', 'gw1'])).code).toBe(0);
    const missing = await docker(['stop', 'ghost']);
    expect(missing).toMatchObject({ code: 1, stderr: 'Error response from daemon: No such container: ghost\n' });
  });

  it('a second container on the same host port is created but cannot start', async () => {
    const r = await runGateway('gw2', 17670);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('Bind for 127.0.0.1:17670 failed: port is already allocated');
    expect((await docker(['inspect', '-f', '{{.State.Status}}', 'gw2'])).stdout).toBe('created\n');
    expect((await docker(['rm', '-f', 'gw2'])).code).toBe(0);
  });

  it('FAKE_DOCKER_EXIT_ON_START records the container as exited with code 1', async () => {
    const r = await runGateway('dies', 17672, [], { FAKE_DOCKER_EXIT_ON_START: 'dies' });
    expect(r.code).toBe(0);
    const st = await docker(['inspect', '-f', '{{.State.Running}} {{.State.Status}} {{.State.ExitCode}}', 'dies']);
    expect(st.stdout).toBe('false exited 1\n');
    expect((await docker(['ps', '--filter', 'name=dies', '-q'])).stdout).toBe('');
  });

  it('inspect --format fails on a missing map key, like the real template engine', async () => {
    await docker(['run', '-d', '--name', 'plain', 'alpine', 'sleep', 'infinity']);
    const r = await docker(['inspect', '-f', '{{.State.Health.Status}}', 'plain']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('map has no entry for key "Health"');
  });

  it('volumes: create, ls, rm in use', async () => {
    expect((await docker(['volume', 'create', 'v1'])).stdout).toBe('v1\n');
    const ls = await docker(['volume', 'ls', '-q']);
    expect(ls.stdout.split('\n')).toEqual(expect.arrayContaining(['v1', 'gw1-data']));
    const busy = await docker(['volume', 'rm', 'gw1-data']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('Error response from daemon: remove gw1-data: volume is in use - [');
    expect((await docker(['volume', 'rm', 'v1'])).stdout).toBe('v1\n');
    expect((await docker(['volume', 'rm', 'v1'])).stderr).toBe('Error response from daemon: get v1: no such volume\n');
  });

  it('pull and image inspect; FAKE_DOCKER_PULL_FAIL', async () => {
    const pull = await docker(['pull', 'busybox']);
    expect(pull.stdout.split('\n')[0]).toBe('Using default tag: latest');
    expect(pull.stdout.trim().split('\n').at(-1)).toBe('docker.io/library/busybox:latest');
    const inspect = JSON.parse((await docker(['image', 'inspect', 'busybox'])).stdout) as Array<{ RepoTags: string[] }>;
    expect(inspect[0]?.RepoTags).toEqual(['busybox:latest']);
    const missing = await docker(['image', 'inspect', 'nothere:1']);
    expect(missing).toMatchObject({ code: 1, stdout: '[]\n', stderr: 'Error response from daemon: No such image: nothere:1\n' });
    const env = { FAKE_DOCKER_PULL_FAIL: '1' };
    const fail = await docker(['pull', `${GATEWAY_IMAGE}-x`], { env });
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain('Error response from daemon: ');
    const run = await docker(['run', '-d', '--name', 'nopull', 'ghcr.io/other/image:1'], { env });
    expect(run.code).toBe(125);
    expect(fake.readDockerState().containers.some((c) => c.Name === '/nopull')).toBe(false);
  });

  it('run --rm generate-certs writes the bundle through the bind mount', async () => {
    const out = path.join(fake.dir, 'certs');
    mkdirSync(out);
    const before = fake.readDockerState().containers.length;
    const r = await docker(['run', '--rm', '-v', `${out}:/out`, GATEWAY_IMAGE, 'generate-certs', '--output-dir', '/out', '--server-san', 'host.openshell.internal']);
    expect(r.code).toBe(0);
    for (const f of ['ca.crt', 'server/tls.crt', 'server/tls.key', 'client/tls.crt', 'client/tls.key']) {
      expect(existsSync(path.join(out, f))).toBe(true);
    }
    expect(fake.readDockerState().containers).toHaveLength(before); // --rm
  });

  it('logs argv and env names', async () => {
    const log = fake.readArgvLog('docker');
    expect(log[0]?.argv.slice(0, 3)).toEqual(['run', '-d', '--name']);
    expect(log.find((e) => e.argv.includes('dies'))?.env_names ?? []).not.toContain('FAKE_DOCKER_EXIT_ON_START');
    expect(fake.readArgvLog('openshell')).toEqual([]);
  });
});

describe('fake docker + fake openshell: a gateway container answers only while it runs', () => {
  beforeAll(() => {
    fake = makeFakeEnv();
  });
  afterAll(() => fake.cleanup());

  it('follows the container state', async () => {
    expect((await runGateway('logos-gw', 18080)).code).toBe(0);
    const add = await runCli(fake, 'openshell', ['gateway', 'add', 'http://127.0.0.1:18080', '--local', '--name', 'logos-gw']);
    expect(stripAnsi(add.stderr)).not.toContain('not reachable');
    expect((await runCli(fake, 'openshell', ['-g', 'logos-gw', 'status'])).code).toBe(0);
    await docker(['stop', 'logos-gw']);
    const down = await runCli(fake, 'openshell', ['-g', 'logos-gw', 'sandbox', 'list']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("failed to connect to gateway 'logos-gw'");
    await docker(['start', 'logos-gw']);
    expect((await runCli(fake, 'openshell', ['-g', 'logos-gw', 'sandbox', 'list'])).stdout).toBe('No sandboxes found.\n');
  });
});

describe('fake docker: the OpenShell gateway image reads its config (openshell-cli.md §13, openshell-0.1.md §3)', () => {
  beforeAll(() => {
    fake = makeFakeEnv();
  });
  afterAll(() => fake.cleanup());

  /** Run a gateway image with a gateway.toml in a same-path directory. */
  const gateway = async (name: string, image: string, toml: string, extra: string[] = []) => {
    const dir = path.join(fake.dir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'gateway.toml'), toml);
    const r = await docker([
      'run', '-d', '--name', name, '-p', '127.0.0.1:19000:19000', '-v', `${dir}:${dir}`, '-v', `${name}-state:/var/openshell`,
      '-e', `OPENSHELL_GATEWAY_CONFIG=${dir}/gateway.toml`, '-e', 'OPENSHELL_DB_URL=sqlite:/var/openshell/openshell.db?mode=rwc',
      ...extra, image, '--bind-address', '0.0.0.0', '--port', '19000',
    ]);
    const ct = fake.readDockerState().containers.find((c) => c.Name === `/${name}`);
    const logs = (await docker(['logs', name])).stderr;
    await docker(['rm', '-f', name]);
    return { r, running: ct?.State.Running, logs };
  };
  const V1 = '[openshell]\nversion = 1\n[openshell.gateway]\ncompute_drivers = ["docker"]\n';
  const V2 = '[openshell]\nversion = 2\n[openshell.gateway]\ncompute_driver = "docker"\n';

  it('0.0.x: a root-owned state volume needs --user 0, or sqlite cannot open its file', async () => {
    const asUser = await gateway('g1', 'ghcr.io/nvidia/openshell/gateway:0.0.111', V1);
    expect(asUser.running).toBe(false);
    expect(asUser.logs).toContain('unable to open database file');
    const asRoot = await gateway('g2', 'ghcr.io/nvidia/openshell/gateway:0.0.111', V1, ['--user', '0']);
    expect(asRoot.running).toBe(true);
  });

  it('0.1.6+: refuses to start without authentication, and without schema version 2', async () => {
    const noAuth = await gateway('g3', 'quay.io/ai-openshell/gateway:0.1.10', V2, ['--user', '0']);
    expect(noAuth.running).toBe(false);
    expect(noAuth.logs).toContain('refusing to start without authentication');
    const v1 = await gateway('g4', 'quay.io/ai-openshell/gateway:0.1.10', `${V1}[openshell.gateway.auth]\nallow_unauthenticated_users = true\n`, ['--user', '0']);
    expect(v1.logs).toContain('schema version 1 is not supported');
    const ok = await gateway('g5', 'quay.io/ai-openshell/gateway:0.1.10', `${V2}[openshell.gateway.auth]\nallow_unauthenticated_users = true\n`, ['--user', '0']);
    expect(ok.running).toBe(true);
  });

  it('the images moved to quay.io/ai-openshell in 0.1.10', async () => {
    const ghcr = await docker(['pull', 'ghcr.io/nvidia/openshell/gateway:0.1.10']);
    expect(ghcr.code).toBe(1);
    expect(ghcr.stderr).toContain('manifest unknown');
    expect((await docker(['pull', 'quay.io/ai-openshell/gateway:0.1.10'])).code).toBe(0);
    expect((await docker(['pull', 'ghcr.io/nvidia/openshell/gateway:0.1.9'])).code).toBe(0);
    expect((await docker(['pull', 'quay.io/ai-openshell/supervisor:0.1.9'])).code).toBe(1);
  });
});
