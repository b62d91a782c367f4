// The fake `openshell` must behave like the real CLI as documented in /work/shared/openshell-cli.md,
// because the rest of the suite trusts it. These tests run it as a subprocess, as Logos does.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEnv, makeFakeEnv, runCli, stripAnsi } from '../helpers/fake-cli.js';

const POLICY = `version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /proc, /dev/urandom, /app, /etc, /var/log]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: best_effort
process: { run_as_user: sandbox, run_as_group: sandbox }
network_policies:
  pypi:
    name: pypi
    endpoints:
      - { host: pypi.org, port: 443, protocol: rest, enforcement: enforce, access: read-only }
    binaries:
      - path: /usr/bin/python3
`;

const tick = () => new Promise((r) => setTimeout(r, 20));

/** Poll until `cond` holds (the test timeout stops a hang). Never used to assert on time. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await tick();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie is dead for our purposes (no reaper may be running in a container).
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
}

function collect(stream: NodeJS.ReadableStream | null): { text: () => string } {
  let buf = '';
  stream?.on('data', (b: Buffer) => (buf += b.toString('utf8')));
  return { text: () => buf };
}

let fake: FakeEnv;
const os = (args: string[], opts: Parameters<typeof runCli>[3] = {}) => runCli(fake, 'openshell', args, opts);

/** A registered, reachable gateway `local` with a Ready sandbox `sb`. */
async function setupGatewayAndSandbox(f: FakeEnv): Promise<void> {
  const add = await runCli(f, 'openshell', ['gateway', 'add', 'http://127.0.0.1:8080', '--local', '--name', 'local']);
  expect(add.code).toBe(0);
  const create = await runCli(f, 'openshell', ['-g', 'local', 'sandbox', 'create', '--name', 'sb', '--no-auto-providers', '--', 'sleep', 'infinity']);
  expect(create.code).toBe(0);
}

describe('fake openshell: version, help and usage errors', () => {
  beforeAll(() => {
    fake = makeFakeEnv();
  });
  afterAll(() => fake.cleanup());

  it('prints its version and honours FAKE_OPENSHELL_VERSION', async () => {
    expect((await os(['-V'])).stdout).toBe('openshell 0.0.111\n');
    const old = await os(['--version'], { env: { FAKE_OPENSHELL_VERSION: '0.0.90' } });
    expect(old.stdout).toBe('openshell 0.0.90\n');
  });

  it('prints help on stdout with exit 0, also for a bare group', async () => {
    const help = await os(['sandbox', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: openshell sandbox create');
    const bare = await os(['sandbox']);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('exec');
  });

  it.each([
    [['gateway', 'start'], "unrecognized subcommand 'start'"],
    [['sandbox', 'destroy', 'x'], "unrecognized subcommand 'destroy'"],
    [['sandbox', 'create', '--image', 'x'], "unexpected argument '--image' found"],
    [['sandbox', 'create', '-o', 'json', '--', 'sleep', 'infinity'], "the argument '--output <OUTPUT>' cannot be used with"],
    [['inference', 'set', '--provider', 'p'], '--model <MODEL>'],
    [['provider', 'create', '--name', 'p', '--type', 'openai'], '--credential'],
    [['sandbox', 'list', '-o', 'xml'], "invalid value 'xml' for '--output <OUTPUT>'"],
    [['gateway', 'info', '--name', 'x'], "unexpected argument '--name' found"],
  ])('%j is a clap usage error (exit 2)', async (args, text) => {
    const r = await os(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toContain(text);
    expect(r.stdout).toBe('');
  });

  it('refuses to run without FAKE_OPENSHELL_STATE', async () => {
    const r = await os(['-V'], { env: { FAKE_OPENSHELL_STATE: '' } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('FAKE_OPENSHELL_STATE');
  });
});

describe('fake openshell: gateways', () => {
  beforeAll(() => {
    fake = makeFakeEnv();
  });
  afterAll(() => fake.cleanup());

  it('fails without an active gateway, with the documented text', async () => {
    const r = await os(['sandbox', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: ');
    expect(r.stderr).toContain('No active gateway.');
    expect(r.stderr).toContain('openshell gateway select <name>');
  });

  it('gateway add writes metadata like the real CLI, sets it active and reports on stderr', async () => {
    const r = await os(['gateway', 'add', 'http://127.0.0.1:8080', '--local', '--name', 'local']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(stripAnsi(r.stderr)).toContain("✓ Gateway 'local' added and set as active");
    const cfg = path.join(fake.env.XDG_CONFIG_HOME as string, 'openshell');
    expect(readFileSync(path.join(cfg, 'active_gateway'), 'utf8')).toBe('local');
    const metaText = readFileSync(path.join(cfg, 'gateways', 'local', 'metadata.json'), 'utf8');
    expect(JSON.parse(metaText)).toEqual({
      name: 'local',
      gateway_endpoint: 'http://127.0.0.1:8080',
      is_remote: false,
      gateway_port: 0,
      auth_mode: 'plaintext',
    });
    expect(metaText).toContain('\n  "name"'); // pretty JSON
  });

  it('gateway add is not idempotent', async () => {
    const r = await os(['gateway', 'add', 'http://127.0.0.1:8080', '--local', '--name', 'local']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Gateway 'local' already exists.");
  });

  it('an unreachable gateway only warns on add, then server commands fail', async () => {
    const env = { FAKE_OPENSHELL_UNREACHABLE: 'far' };
    const add = await os(['gateway', 'add', 'http://127.0.0.1:9999', '--local', '--name', 'far'], { env });
    expect(add.code).toBe(0);
    expect(stripAnsi(add.stderr)).toContain('⚠ Gateway is not reachable at http://127.0.0.1:9999');
    const list = await os(['-g', 'far', 'sandbox', 'list'], { env });
    expect(list.code).toBe(1);
    expect(list.stderr).toContain("failed to connect to gateway 'far' at http://127.0.0.1:9999.");
    const status = await os(['-g', 'far', 'status', '-o', 'json'], { env });
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ gateway: 'far', status: 'disconnected' });
    // the other gateway still answers
    expect((await os(['-g', 'local', 'sandbox', 'list'], { env })).code).toBe(0);
  });

  it('lists gateways as JSON and as an ANSI table with the active one starred', async () => {
    const json = await os(['gateway', 'list', '-o', 'json']);
    const items = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(items.map((i) => [i.name, i.active])).toEqual([
      ['far', true],
      ['local', false],
    ]);
    expect(items[1]).toEqual({
      name: 'local',
      endpoint: 'http://127.0.0.1:8080',
      type: 'local',
      source: 'user',
      auth: 'plaintext',
      active: false,
      is_remote: false,
      remote_host: null,
      resolved_host: null,
    });
    const table = await os(['gateway', 'list']);
    expect(table.stdout).toContain('\u001b['); // colour even when piped
    expect(stripAnsi(table.stdout)).toMatch(/^\* far +http:\/\/127\.0\.0\.1:9999/m);
  });

  it('select, unknown gateway, remove', async () => {
    const sel = await os(['gateway', 'select', 'local']);
    expect(stripAnsi(sel.stderr)).toContain("✓ Active gateway set to 'local'");
    const unknown = await os(['-g', 'nope', 'sandbox', 'list']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Unknown gateway 'nope'.");
    const envGw = await os(['sandbox', 'list'], { env: { OPENSHELL_GATEWAY: 'nope' } });
    expect(envGw.stderr).toContain("Unknown gateway 'nope'.");
    const rm = await os(['gateway', 'remove', 'local']);
    expect(stripAnsi(rm.stderr)).toContain("✓ Gateway registration 'local' removed.");
    expect(existsSync(path.join(fake.env.XDG_CONFIG_HOME as string, 'openshell', 'active_gateway'))).toBe(false);
    const again = await os(['gateway', 'remove', 'local']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("No gateway metadata found for 'local'.");
  });

  it('--gateway-endpoint needs no stored metadata; status and gateway info answer', async () => {
    const st = await os(['--gateway-endpoint', 'http://127.0.0.1:7000', 'status', '-o', 'json']);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ gateway: 'http://127.0.0.1:7000', status: 'connected', version: '0.0.111' });
    const info = await os(['--gateway-endpoint', 'http://127.0.0.1:7000', 'gateway', 'info', '-o', 'json']);
    expect(JSON.parse(info.stdout)).toMatchObject({ status: 'healthy', compute_drivers: [{ name: 'docker' }] });
  });

  it('https --local needs an mTLS bundle', async () => {
    const r = await os(['gateway', 'add', 'https://127.0.0.1:17670', '--local', '--name', 'tls']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("mTLS certificates for gateway 'tls' were not found.");
    const tlsDir = path.join(fake.dir, 'tls');
    mkdirSync(path.join(tlsDir, 'client'), { recursive: true });
    for (const f of ['ca.crt', 'client/tls.crt', 'client/tls.key']) writeFileSync(path.join(tlsDir, f), 'pem');
    const ok = await os(['gateway', 'add', 'https://127.0.0.1:17670', '--local', '--name', 'tls'], { env: { OPENSHELL_LOCAL_TLS_DIR: tlsDir } });
    expect(ok.code).toBe(0);
    expect(existsSync(path.join(fake.env.XDG_CONFIG_HOME as string, 'openshell', 'gateways', 'tls', 'mtls', 'tls.key'))).toBe(true);
  });
});

describe('fake openshell: sandboxes', () => {
  beforeAll(async () => {
    fake = makeFakeEnv();
    await setupGatewayAndSandbox(fake);
  });
  afterAll(() => fake.cleanup());

  it('non-TTY create prints the documented progress table and records the main process', async () => {
    const r = await os(['sandbox', 'create', '--name', 'box', '--from', 'base', '--label', 'app=logos', '--', 'sleep', 'infinity']);
    expect(r.code).toBe(0);
    const lines = stripAnsi(r.stdout).split('\n');
    expect(lines.slice(0, 4)).toEqual(['', 'Created sandbox: box', '', '  [0.0s] Requesting compute...']);
    expect(stripAnsi(r.stdout)).toMatch(/\[\d+\.\ds\] Sandbox ready/);
    const sb = fake.readOpenshellState('local')?.workspaces.default?.sandboxes.box;
    expect(sb?.command).toEqual(['sleep', 'infinity']);
    expect(sb?.image).toBe('ghcr.io/nvidia/openshell-community/sandboxes/base:latest');
    expect(readFileSync(path.join(fake.env.XDG_CONFIG_HOME as string, 'openshell', 'gateways', 'local', 'last_sandbox'), 'utf8')).toBe(
      'default\nbox',
    );
  });

  it('create -o json prints only the sandbox object on stdout', async () => {
    const r = await os(['sandbox', 'create', '--name', 'js', '--no-tty', '--no-auto-providers', '--output=json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Provisioning sandbox (structured output on stdout)...');
    const obj = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual(['id', 'name', 'workspace', 'labels', 'annotations', 'resource_version', 'created_at', 'phase', 'current_policy_version']);
    expect(obj).toMatchObject({ name: 'js', workspace: 'default', phase: 'Ready', labels: {} });
    expect(obj.created_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('a duplicate name fails with the documented text', async () => {
    const r = await os(['sandbox', 'create', '--name', 'sb', '--', 'sleep', 'infinity']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("sandbox 'sb' already exists");
    expect(r.stderr).toContain('openshell sandbox delete sb');
  });

  it('validates --env and a policy file before creating', async () => {
    const reserved = await os(['sandbox', 'create', '--name', 'e1', '--env', 'OPENSHELL_X=1']);
    expect(reserved.stderr).toContain("--env keys starting with OPENSHELL_ are reserved; got 'OPENSHELL_X'");
    const noEq = await os(['sandbox', 'create', '--name', 'e1', '--env', 'JUSTKEY']);
    expect(noEq.stderr).toContain("--env expects KEY=VALUE, got 'JUSTKEY'");
    const bad = path.join(fake.dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\ninference:\n  routes: []\n');
    const r = await os(['sandbox', 'create', '--name', 'e1', '--policy', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown field `inference`');
    writeFileSync(bad, 'filesystem_policy: {}\n');
    expect((await os(['sandbox', 'create', '--name', 'e1', '--policy', bad])).stderr).toContain('missing field `version`');
    expect((await os(['sandbox', 'list', '--names'])).stdout).not.toContain('e1');
  });

  it('lists sandboxes as JSON, --names and an ANSI table', async () => {
    const json = JSON.parse((await os(['sandbox', 'list', '-o', 'json'])).stdout) as Array<{ name: string; phase: string }>;
    expect(json.map((s) => s.name)).toEqual(['sb', 'box', 'js']);
    expect((await os(['sandbox', 'list', '--names'])).stdout).toBe('sb\nbox\njs\n');
    const table = await os(['sandbox', 'list']);
    expect(table.stdout).toContain('\u001b[');
    const plain = stripAnsi(table.stdout).split('\n');
    expect(plain[0]).toBe('NAME  CREATED              PHASE');
    expect(plain[1]).toMatch(/^sb {4}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}Ready$/);
    const sel = await os(['sandbox', 'list', '--selector', 'app=logos', '--names']);
    expect(sel.stdout).toBe('box\n');
  });

  it('sandbox get -o json carries the policy; --policy-only is reusable YAML', async () => {
    const obj = JSON.parse((await os(['sandbox', 'get', 'sb', '-o', 'json'])).stdout) as Record<string, unknown>;
    expect(obj).toMatchObject({ name: 'sb', phase: 'Ready', policy_source: 'sandbox', revision: 1 });
    expect((obj.policy as { version: number }).version).toBe(1);
    const yaml = await os(['sandbox', 'get', 'sb', '--policy-only']);
    expect(yaml.stdout).toMatch(/^version: 1\n/);
    const file = path.join(fake.dir, 'roundtrip.yaml');
    writeFileSync(file, yaml.stdout);
    const set = await os(['policy', 'set', 'sb', '--policy', file, '--wait']);
    expect(set.code).toBe(0);
    expect(stripAnsi(set.stderr)).toContain('· Policy unchanged (version 1, hash: ');
  });

  it('delete of a missing sandbox exits 1 and skips the names after it', async () => {
    const r = await os(['sandbox', 'delete', 'ghost', 'js']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`code: 'Some requested entity was not found', message: "sandbox not found"`);
    expect((await os(['sandbox', 'list', '--names'])).stdout).toContain('js');
    const ok = await os(['sandbox', 'delete', 'js']);
    expect(stripAnsi(ok.stdout)).toBe('✓ Deleted sandbox js\n');
  });

  it('upload is positional and copies into the sandbox; download copies back', async () => {
    const src = path.join(fake.dir, 'worker');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'main.js'), 'console.log("hi")\n');
    const up = await os(['sandbox', 'upload', 'sb', src, '/sandbox/app']);
    expect(up.code).toBe(0);
    expect(up.stdout).toBe('');
    expect(stripAnsi(up.stderr)).toBe(`Uploading ${src} -> sandbox:/sandbox/app\n✓ Upload complete\n`);
    const cat = await os(['sandbox', 'exec', '-n', 'sb', '--', 'cat', '/sandbox/app/worker/main.js']);
    expect(cat.stdout).toBe('console.log("hi")\n');
    const missing = await os(['sandbox', 'upload', 'sb', path.join(fake.dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('local path does not exist: ');
    const noName = await os(['sandbox', 'upload', '--name', 'sb', src]);
    expect(noName.code).toBe(2);
    const dest = path.join(fake.dir, 'back.js');
    const down = await os(['sandbox', 'download', 'sb', '/sandbox/app/worker/main.js', dest]);
    expect(stripAnsi(down.stderr)).toContain('✓ Download complete');
    expect(readFileSync(dest, 'utf8')).toBe('console.log("hi")\n');
  });

  it('stop and start change the phase', async () => {
    expect(stripAnsi((await os(['sandbox', 'stop', 'box'])).stdout)).toBe('✓ Stopped sandbox box\n');
    const exec = await os(['sandbox', 'exec', '-n', 'box', '--', 'true']);
    expect(exec.code).toBe(1);
    expect(exec.stderr).toContain("sandbox 'box' is not ready (phase: Stopped); wait for it to reach Ready state");
    expect(stripAnsi((await os(['sandbox', 'start', 'box'])).stdout)).toBe('✓ Started sandbox box\n');
  });
});

describe('fake openshell: sandbox exec', () => {
  beforeAll(async () => {
    fake = makeFakeEnv();
    await setupGatewayAndSandbox(fake);
  });
  afterAll(() => fake.cleanup());

  it('feeds stdin to the command and passes its exit code through', async () => {
    const cat = await os(['sandbox', 'exec', '--name', 'sb', '--no-tty', '--', 'cat'], { input: '{"task":1}\n' });
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe('{"task":1}\n');
    const code = await os(['sandbox', 'exec', '-n', 'sb', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(code).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('sets --env pairs and OPENSHELL_SANDBOX, and runs in the sandbox workdir', async () => {
    const r = await os(['sandbox', 'exec', '-n', 'sb', '--env', 'ROUTE=qwen', '--', 'sh', '-c', 'echo "$ROUTE $OPENSHELL_SANDBOX"; pwd']);
    const [vars, cwd] = r.stdout.trim().split('\n');
    expect(vars).toBe('qwen sb');
    expect(cwd).toMatch(/sandboxes\/sb\/root$/);
  });

  it('reads stdin to EOF before it starts the command', async () => {
    const marker = path.join(fake.dir, 'started');
    const gate = path.join(fake.dir, 'eof-sent');
    const script = `touch ${marker}; if [ -e ${gate} ]; then echo after-eof; else echo before-eof; fi; cat`;
    const child = spawn('openshell', ['sandbox', 'exec', '-n', 'sb', '--no-tty', '--', 'sh', '-c', script], {
      env: fake.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = collect(child.stdout);
    const done = exitOf(child);
    child.stdin.write('part1\n');
    // Give a wrong implementation time to start the command early; a right one never does.
    let stop = false;
    await Promise.race([
      (async () => {
        while (!stop && !existsSync(marker)) await tick();
      })(),
      new Promise((r) => setTimeout(r, 400)),
    ]);
    stop = true;
    const startedBeforeEof = existsSync(marker);
    writeFileSync(gate, '');
    child.stdin.end('part2\n');
    expect((await done).code).toBe(0);
    expect(startedBeforeEof).toBe(false);
    expect(out.text()).toBe('after-eof\npart1\npart2\n');
  });

  it('streams output as the command produces it', async () => {
    const gate = path.join(fake.dir, 'go-on');
    const child = spawn(
      'openshell',
      ['sandbox', 'exec', '-n', 'sb', '--', 'sh', '-c', `echo first; while [ ! -e ${gate} ]; do sleep 0.02; done; echo second`],
      { env: fake.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = collect(child.stdout);
    const done = exitOf(child);
    await until(() => out.text().includes('first\n'));
    expect(out.text()).toBe('first\n');
    writeFileSync(gate, '');
    expect((await done).code).toBe(0);
    expect(out.text()).toBe('first\nsecond\n');
  });

  it('--timeout kills the whole process group and exits 124', async () => {
    const pidFile = path.join(fake.dir, 'bg.pid');
    const r = await os(['sandbox', 'exec', '-n', 'sb', '--timeout', '1', '--', 'sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`]);
    expect(r.code).toBe(124);
    expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('SIGTERM to the CLI kills the remote command and its children', async () => {
    const pidFile = path.join(fake.dir, 'term.pid');
    const script = `sleep 30 & echo $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; wait`;
    const child = spawn('openshell', ['sandbox', 'exec', '-n', 'sb', '--', 'sh', '-c', script], {
      env: fake.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const done = exitOf(child);
    await until(() => existsSync(pidFile));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    child.kill('SIGTERM');
    expect((await done).signal).toBe('SIGTERM');
    expect(isAlive(pid)).toBe(false);
  });

  it('rejects stdin above 4 MiB', async () => {
    const r = await os(['sandbox', 'exec', '-n', 'sb', '--', 'wc', '-c'], { input: Buffer.alloc(4194305, 97) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdin payload exceeds 4194304 byte limit; ');
    const ok = await os(['sandbox', 'exec', '-n', 'sb', '--', 'wc', '-c'], { input: Buffer.alloc(4194304, 97) });
    expect(ok.stdout.trim()).toBe('4194304');
  });

  it('fails for a missing sandbox and needs a command after --', async () => {
    const r = await os(['sandbox', 'exec', '-n', 'ghost', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sandbox not found');
    expect((await os(['sandbox', 'exec', '-n', 'sb'])).code).toBe(2);
  });
});

describe('fake openshell: providers and inference', () => {
  beforeAll(async () => {
    fake = makeFakeEnv();
    await runCli(fake, 'openshell', ['gateway', 'add', 'http://127.0.0.1:8080', '--local', '--name', 'local']);
  });
  afterAll(() => fake.cleanup());

  it('--credential KEY reads the value from its own environment and never logs it', async () => {
    const r = await os(
      ['provider', 'create', '--name', 'lmstudio', '--type', 'openai', '--credential', 'OPENAI_API_KEY', '--config', 'OPENAI_BASE_URL=http://host.openshell.internal:1234/v1'],
      { env: { OPENAI_API_KEY: 'sk-local-secret' } },
    );
    expect(r.code).toBe(0);
    expect(stripAnsi(r.stdout)).toBe('✓ Created provider lmstudio\n');
    expect(fake.readSecrets('local')).toEqual({ default: { lmstudio: { OPENAI_API_KEY: 'sk-local-secret' } } });
    const entry = fake.readArgvLog('openshell').at(-1);
    expect(entry?.env_names).toContain('OPENAI_API_KEY');
    expect(JSON.stringify(fake.readArgvLog('openshell'))).not.toContain('sk-local-secret');
    const state = fake.readOpenshellState('local');
    expect(state?.workspaces.default?.providers.lmstudio?.config).toEqual({ OPENAI_BASE_URL: 'http://host.openshell.internal:1234/v1' });
  });

  it('credential errors, types, duplicates', async () => {
    const unset = await os(['provider', 'create', '--name', 'x', '--type', 'openai', '--credential', 'OPENAI_API_KEY']);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain("--credential OPENAI_API_KEY requires local env var 'OPENAI_API_KEY' to be set to a non-empty value");
    const kv = await os(['provider', 'create', '--name', 'x', '--type', 'anthropic', '--credential', 'ANTHROPIC_API_KEY=sk-ant-1']);
    expect(kv.code).toBe(0);
    const type = await os(['provider', 'create', '--name', 'y', '--type', 'bogus', '--credential', 'K=v']);
    expect(type.stderr).toContain('unsupported provider type or profile: bogus');
    const dup = await os(['provider', 'create', '--name', 'x', '--type', 'anthropic', '--credential', 'ANTHROPIC_API_KEY=sk-ant-2']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('message: "provider already exists"');
  });

  it('provider get prints a text block, list -o json hides secret values', async () => {
    const get = stripAnsi((await os(['provider', 'get', 'lmstudio'])).stdout);
    expect(get).toContain('Provider:');
    expect(get).toContain('Type: openai');
    expect(get).toContain('Credential keys: OPENAI_API_KEY');
    expect(get).toContain('Config keys: OPENAI_BASE_URL');
    expect((await os(['provider', 'get', 'lmstudio', '-o', 'json'])).code).toBe(2);
    const list = await os(['provider', 'list', '-o', 'json']);
    expect(list.stdout).not.toContain('sk-');
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ name: 'lmstudio', type: 'openai', credential_keys: ['OPENAI_API_KEY'], config_keys: ['OPENAI_BASE_URL'] });
    const upd = await os(['provider', 'update', 'lmstudio', '--credential', 'OPENAI_API_KEY'], { env: { OPENAI_API_KEY: 'sk-new' } });
    expect(stripAnsi(upd.stdout)).toBe('✓ Updated provider lmstudio\n');
    expect(fake.readSecrets().default?.lmstudio?.OPENAI_API_KEY).toBe('sk-new');
  });

  it('inference set/get print the documented blocks', async () => {
    const missing = await os(['inference', 'set', '--provider', 'nope', '--model', 'm', '--no-verify']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope');
    const before = stripAnsi((await os(['inference', 'get'])).stdout);
    expect(before).toBe('Inference:\n  Not configured\n\nSystem inference:\n  Not configured\n');
    const set = await os(['inference', 'set', '--provider', 'lmstudio', '--model', 'qwen/qwen3.5-9b', '--no-verify', '--timeout', '600']);
    expect(set.code).toBe(0);
    expect(stripAnsi(set.stdout)).toBe(
      'Inference configured:\n  Workspace: default\n  Route: inference.local\n  Provider: lmstudio\n  Model: qwen/qwen3.5-9b\n  Version: 1\n  Timeout: 600s\n',
    );
    const get = stripAnsi((await os(['inference', 'get'])).stdout);
    expect(get).toContain('Model: qwen/qwen3.5-9b');
    expect(get).toContain('System inference:\n  Not configured');
  });

  it('verifies unless --no-verify (FAKE_OPENSHELL_VERIFY_FAIL)', async () => {
    const env = { FAKE_OPENSHELL_VERIFY_FAIL: '1' };
    const fail = await os(['inference', 'set', '--provider', 'lmstudio', '--model', 'm2'], { env });
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain('failed to verify');
    const ok = await os(['inference', 'set', '--provider', 'lmstudio', '--model', 'm2', '--no-verify'], { env });
    expect(ok.code).toBe(0);
    expect(stripAnsi(ok.stdout)).toContain('Timeout: 60s (default)');
    const verified = await os(['inference', 'set', '--provider', 'lmstudio', '--model', 'm3']);
    expect(stripAnsi(verified.stdout)).toContain('Validated Endpoints:');
  });

  it('concurrent invocations do not lose updates', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `p${i}`);
    const results = await Promise.all(names.map((n) => os(['provider', 'create', '--name', n, '--type', 'generic', '--credential', `TOKEN_${n}=v${n}`])));
    expect(results.map((r) => r.code)).toEqual(names.map(() => 0));
    const listed = (await os(['provider', 'list', '--names'])).stdout.split('\n');
    for (const n of names) expect(listed).toContain(n);
    expect(Object.keys(fake.readSecrets().default ?? {})).toEqual(expect.arrayContaining(names));
  });
});

describe('fake openshell: policies', () => {
  beforeAll(async () => {
    fake = makeFakeEnv();
    await setupGatewayAndSandbox(fake);
  });
  afterAll(() => fake.cleanup());

  it('policy set --wait submits, loads, and an identical policy is unchanged', async () => {
    const file = path.join(fake.dir, 'p.yaml');
    writeFileSync(file, POLICY);
    const set = await os(['policy', 'set', 'sb', '--policy', file, '--wait']);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('');
    const err = stripAnsi(set.stderr);
    expect(err).toMatch(/✓ Policy version 2 submitted \(hash: [0-9a-f]{12}\)/);
    expect(err).toContain('✓ Policy version 2 loaded (active version: 2)');
    const again = await os(['policy', 'set', 'sb', '--policy', file, '--wait']);
    expect(again.code).toBe(0);
    expect(stripAnsi(again.stderr)).toMatch(/^· Policy unchanged \(version 2, hash: [0-9a-f]{12}\)\n$/);
    const list = stripAnsi((await os(['policy', 'list', 'sb'])).stdout).split('\n');
    expect(list[0]).toBe('VERSION  HASH           STATUS       CREATED                  ERROR');
    expect(list[1]).toMatch(/^2 {8}[0-9a-f]{12} {3}Loaded {7}\d{13}/);
    const get = JSON.parse((await os(['policy', 'get', 'sb', '-o', 'json'])).stdout);
    expect(get).toMatchObject({ scope: 'sandbox', sandbox: 'sb', version: 2, active_version: 2, status: 'effective', policy_source: 'sandbox' });
  });

  it('static sections cannot change on a live sandbox', async () => {
    const file = path.join(fake.dir, 'p2.yaml');
    writeFileSync(file, POLICY.replace('best_effort', 'hard_requirement'));
    const r = await os(['policy', 'set', 'sb', '--policy', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('landlock policy cannot be changed on a live sandbox');
  });

  it('--wait exits 1 when loading fails and 124 on timeout', async () => {
    const file = path.join(fake.dir, 'p3.yaml');
    writeFileSync(file, POLICY.replace('pypi.org', 'files.pythonhosted.org'));
    const fail = await os(['policy', 'set', 'sb', '--policy', file, '--wait'], { env: { FAKE_OPENSHELL_POLICY_LOAD: 'fail' } });
    expect(fail.code).toBe(1);
    expect(stripAnsi(fail.stderr)).toContain('✗ Policy version 3 failed to load: ');
    writeFileSync(file, POLICY.replace('pypi.org', 'example.org'));
    const slow = await os(['policy', 'set', 'sb', '--policy', file, '--wait', '--timeout', '1'], { env: { FAKE_OPENSHELL_POLICY_LOAD: 'pending' } });
    expect(slow.code).toBe(124);
    expect(stripAnsi(slow.stderr)).toContain('✗ Timeout waiting for policy version 4 to load');
  });
});

describe('fake openshell: workspaces and versions', () => {
  beforeAll(async () => {
    fake = makeFakeEnv();
    await setupGatewayAndSandbox(fake);
  });
  afterAll(() => fake.cleanup());

  it('creates workspaces with DNS-1123 names of at most 19 characters, once', async () => {
    const ok = await os(['workspace', 'create', '--name', 'qwen-qwen3-5-9b']);
    expect(stripAnsi(ok.stdout)).toBe('✓ Created workspace qwen-qwen3-5-9b\n');
    const dup = await os(['workspace', 'create', '--name', 'qwen-qwen3-5-9b']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('Some entity that we attempted to create already exists');
    expect((await os(['workspace', 'create', '--name', 'a-name-longer-than-19'])).code).toBe(1);
    expect((await os(['workspace', 'create', '--name', 'Upper'])).code).toBe(1);
    const list = JSON.parse((await os(['workspace', 'list', '-o', 'json'])).stdout) as Array<{ name: string }>;
    expect(list.map((w) => w.name)).toEqual(['default', 'qwen-qwen3-5-9b']);
  });

  it('scopes sandboxes, providers and inference to the workspace', async () => {
    const ws = ['--workspace', 'qwen-qwen3-5-9b'];
    expect((await os([...ws, 'sandbox', 'list'])).stdout).toBe('No sandboxes found.\n');
    expect((await os([...ws, 'sandbox', 'create', '--name', 'sb', '--', 'sleep', 'infinity'])).code).toBe(0);
    await os(['provider', 'create', '--name', 'p', '--type', 'openai', '--credential', 'OPENAI_API_KEY=x', ...ws]);
    expect((await os(['provider', 'list', '--names'])).stdout).toBe('');
    const viaEnv = await os(['provider', 'list', '--names'], { env: { OPENSHELL_WORKSPACE: 'qwen-qwen3-5-9b' } });
    expect(viaEnv.stdout).toBe('p\n');
    expect((await os(['inference', 'set', '--provider', 'p', '--model', 'm', '--no-verify'])).code).toBe(1);
    const set = await os([...ws, 'inference', 'set', '--provider', 'p', '--model', 'm', '--no-verify']);
    expect(stripAnsi(set.stdout)).toContain('Workspace: qwen-qwen3-5-9b');
    const all = await os(['sandbox', 'list', '--all-workspaces']);
    expect(stripAnsi(all.stdout).split('\n')[0]).toBe('WORKSPACE        NAME  CREATED              PHASE');
  });

  it('an unknown --workspace is a not-found error', async () => {
    const r = await os(['--workspace', 'ghost', 'sandbox', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Some requested entity was not found');
    expect(r.stderr).toContain('ghost');
  });

  it('before v0.0.95 there is no workspace command and no --workspace flag', async () => {
    const env = { FAKE_OPENSHELL_VERSION: '0.0.90' };
    const cmd = await os(['workspace', 'list'], { env });
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("error: unrecognized subcommand 'workspace'");
    const flag = await os(['--workspace', 'default', 'sandbox', 'list'], { env });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unexpected argument '--workspace' found");
    expect((await os(['sandbox', 'list', '--names'], { env })).stdout).toBe('sb\n');
  });
});

describe('fake openshell: provisioning scenarios', () => {
  beforeAll(async () => {
    fake = makeFakeEnv();
    await runCli(fake, 'openshell', ['gateway', 'add', 'http://127.0.0.1:8080', '--local', '--name', 'local']);
  });
  afterAll(() => fake.cleanup());

  it('FAKE_OPENSHELL_SANDBOX_ERROR puts that sandbox in the Error phase', async () => {
    const r = await os(['sandbox', 'create', '--name', 'broken', '--', 'sleep', 'infinity'], { env: { FAKE_OPENSHELL_SANDBOX_ERROR: 'broken' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sandbox entered error phase while provisioning: ');
    const get = JSON.parse((await os(['sandbox', 'get', 'broken', '-o', 'json'])).stdout);
    expect(get.phase).toBe('Error');
  });

  it('slow provisioning (FAKE_OPENSHELL_PROVISION_MS) past OPENSHELL_PROVISION_TIMEOUT times out and stays Provisioning', async () => {
    const r = await os(['sandbox', 'create', '--name', 'slow', '--', 'sleep', 'infinity'], {
      env: { FAKE_OPENSHELL_PROVISION_MS: '600000', OPENSHELL_PROVISION_TIMEOUT: '1' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sandbox provisioning timed out after 1s');
    const exec = await os(['sandbox', 'exec', '-n', 'slow', '--', 'true']);
    expect(exec.code).toBe(1);
    expect(exec.stderr).toContain("sandbox 'slow' is not ready (phase: Provisioning)");
    const quick = await os(['sandbox', 'create', '--name', 'quick', '-o', 'json'], { env: { FAKE_OPENSHELL_PROVISION_MS: '200' } });
    expect(JSON.parse(quick.stdout).phase).toBe('Ready');
  });

  it('FAKE_OPENSHELL_CREATE_HANG=1 never returns; the sandbox stays Provisioning', async () => {
    const child = spawn('openshell', ['sandbox', 'create', '--name', 'hung', '--', 'sleep', 'infinity'], {
      env: { ...fake.env, FAKE_OPENSHELL_CREATE_HANG: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collect(child.stdout);
    const done = exitOf(child);
    await until(() => out.text().includes('Requesting compute'));
    const get = JSON.parse((await os(['sandbox', 'get', 'hung', '-o', 'json'])).stdout);
    expect(get.phase).toBe('Provisioning');
    expect(child.exitCode).toBe(null);
    child.kill('SIGTERM');
    expect((await done).signal).toBe('SIGTERM');
  });

  it('a main process that exits at once ends the sandbox (the old `-- true` trick)', async () => {
    expect((await os(['sandbox', 'create', '--name', 'short', '--', 'true'])).code).toBe(0);
    const get = JSON.parse((await os(['sandbox', 'get', 'short', '-o', 'json'])).stdout);
    expect(get.phase).toBe('Error');
  });

  it('logs every invocation with argv and env var names', async () => {
    const log = fake.readArgvLog('openshell');
    expect(log[0]?.argv).toEqual(['gateway', 'add', 'http://127.0.0.1:8080', '--local', '--name', 'local']);
    const slow = log.find((e) => e.argv.includes('slow'));
    expect(slow?.env_names).toContain('OPENSHELL_PROVISION_TIMEOUT');
    expect(slow?.env_names.some((n) => n.startsWith('FAKE_'))).toBe(false);
  });
});
