// The fake `openshell` in its 0.1.x mode (FAKE_OPENSHELL_VERSION=0.1.x) must behave as
// /work/shared/openshell-0.1.md describes, as its 0.0.x mode follows openshell-cli.md; and the
// corrections the 0.0.111 source audit made to openshell-cli.md. Run as a subprocess, as Logos does.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEnv, makeFakeEnv, runCli, stripAnsi } from '../helpers/fake-cli.js';

let fake: FakeEnv;
const os = (args: string[], opts: Parameters<typeof runCli>[3] = {}) => runCli(fake, 'openshell', args, opts);
const os01 = (args: string[], opts: Parameters<typeof runCli>[3] = {}) => os(['-g', 'gw', ...args], { ...opts, env: { FAKE_OPENSHELL_VERSION: '0.1.10', ...opts.env } });

const PROFILE = (port: number) => `id: local-llm
display_name: Local LLM
description: test
category: inference
inference_capable: true
credentials:
  - name: api_key
    env_vars: [OPENAI_API_KEY]
    required: true
    auth_style: bearer
    header_name: authorization
endpoints:
  - { host: host.openshell.internal, port: ${port}, protocol: rest, access: read-write, enforcement: enforce }
binaries: [/usr/local/bin/node]
`;

/** An upstream that echoes what it received (method, path, headers). */
function echoServer(): Promise<{ port: number; seen: Array<{ path: string; auth?: string }>; close(): void }> {
  const seen: Array<{ path: string; auth?: string }> = [];
  const srv = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ auth: req.headers.authorization ?? null, path: req.url }));
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ port: (srv.address() as { port: number }).port, seen, close: () => srv.close() })));
}

/** A Node one-liner that sends a request to the URL with the key from $KEYVAR, and prints status and body. */
const client = (url: string, keyVar = 'OPENAI_API_KEY') =>
  `const u=new URL(${JSON.stringify(url)});require('http').request({hostname:u.hostname,port:u.port,path:u.pathname,agent:false,headers:{authorization:'Bearer '+process.env.${keyVar}}},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>{console.log(r.statusCode);console.log(b)})}).on('error',e=>{console.log('ERR',e.code)}).end()`;

describe('fake openshell 0.1.x', () => {
  beforeAll(async () => {
    fake = makeFakeEnv();
    expect((await os(['gateway', 'add', 'http://127.0.0.1:18088', '--name', 'gw', '--local'], { env: { FAKE_OPENSHELL_VERSION: '0.1.10' } })).code).toBe(0);
  });
  afterAll(() => fake.cleanup());

  it('has no `inference` command any more (clap usage error)', async () => {
    const r = await os01(['inference', 'get']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unrecognized subcommand 'inference'");
    expect((await os01(['profile', 'list', '-o', 'json'])).stdout).toBe('{\n  "profiles": [],\n  "next_page_token": ""\n}\n');
  });

  it('profiles: lint and import a file, export it with its resource_version, update needs it, refuse a second import', async () => {
    const file = path.join(fake.dir, 'p.yaml');
    writeFileSync(file, PROFILE(1234));
    const lint = await os01(['profile', 'lint', '-f', file]);
    expect(lint.code, lint.stderr).toBe(0);
    expect(stripAnsi(lint.stdout)).toContain("profile 'local-llm' is valid");
    expect((await os01(['profile', 'import', '-f', file])).code).toBe(0);
    const again = await os01(['profile', 'import', '-f', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("provider profile 'local-llm' already exists");
    const exported = JSON.parse((await os01(['profile', 'export', 'local-llm', '-o', 'json'])).stdout);
    expect(exported).toMatchObject({ id: 'local-llm', resource_version: 1, binaries: ['/usr/local/bin/node'] });
    const stale = await os01(['profile', 'update', 'local-llm', '-f', file]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('resource_version');
    writeFileSync(file, `${PROFILE(1234)}resource_version: 1\n`);
    expect((await os01(['profile', 'update', 'local-llm', '-f', file])).code).toBe(0);
    // lint finds what the gateway would refuse
    const bad = path.join(fake.dir, 'bad.yaml');
    writeFileSync(bad, PROFILE(1234).replace('protocol: rest, ', '').replace('binaries: [/usr/local/bin/node]', 'binaries:\n  - { path: /bin/x, harness: true }'));
    const badLint = await os01(['profile', 'lint', '-f', bad]);
    expect(badLint.code).toBe(1);
    expect(stripAnsi(badLint.stdout)).toContain('credentialed endpoints must use L7 inspection');
  });

  it('providers: the type is an imported profile; the credential comes from the environment; lists are envelopes', async () => {
    const unknown = await os01(['provider', 'create', '--name', 'p0', '--type', 'openai', '--credential', 'OPENAI_API_KEY'], { env: { OPENAI_API_KEY: 'sk-x' } });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unsupported provider type or profile: openai');
    const missing = await os01(['provider', 'create', '--name', 'p1', '--type', 'local-llm']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("requires credential 'api_key'");
    const ok = await os01(['provider', 'create', '--name', 'p1', '--type', 'local-llm', '--credential', 'OPENAI_API_KEY'], { env: { OPENAI_API_KEY: 'sk-real-0001' } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(fake.readSecrets('gw').default?.p1?.OPENAI_API_KEY).toBe('sk-real-0001');
    const list = JSON.parse((await os01(['provider', 'list', '-o', 'json'])).stdout);
    expect(list).toMatchObject({ providers: [{ name: 'p1', type: 'local-llm', credential_keys: ['OPENAI_API_KEY'] }], next_page_token: '' });
  });

  it('sandbox create: --from is an image reference only; -o json with a command needs --detach; --provider must exist', async () => {
    mkdirSync(path.join(fake.dir, 'ctx'), { recursive: true });
    const local = await os01(['sandbox', 'create', '--name', 'x', '--from', './ctx', '--detach', '--', 'sleep', 'infinity']);
    expect(local.code).toBe(1);
    expect(local.stderr).toContain("'--from' no longer builds local Dockerfiles or directories: ./ctx");
    const json = await os01(['sandbox', 'create', '--name', 'x', '-o', 'json', '--', 'sleep', 'infinity']);
    expect(json.code).toBe(1);
    expect(json.stderr).toContain('structured output cannot be combined with an attached trailing command');
    const noProv = await os01(['sandbox', 'create', '--name', 'x', '--provider', 'nope', '--detach', '--', 'sleep', 'infinity']);
    expect(noProv.code).toBe(1);
    expect(noProv.stderr).toContain("provider 'nope' not found");
  });

  it('a trailing command runs in the foreground without --detach (its status, then Completed or Error)', async () => {
    const ok = await os01(['sandbox', 'create', '--name', 'fg-ok', '--from', 'img:1', '--', 'sh', '-c', 'echo main ran; exit 0']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('main ran');
    const bad = await os01(['sandbox', 'create', '--name', 'fg-bad', '--from', 'img:1', '--', 'sh', '-c', 'exit 3']);
    expect(bad.code).toBe(3);
    const list = JSON.parse((await os01(['sandbox', 'list', '-o', 'json'])).stdout) as { sandboxes: Array<{ name: string; phase: string; exit_code: number | null }> };
    expect(list.sandboxes.find((s) => s.name === 'fg-ok')).toMatchObject({ phase: 'Completed', exit_code: 0 });
    expect(list.sandboxes.find((s) => s.name === 'fg-bad')).toMatchObject({ phase: 'Error', exit_code: 3 });
  });

  it('lists page with next_page_token; delete of a missing sandbox succeeds; delete can be pending', async () => {
    for (const n of ['pa', 'pb', 'pc']) expect((await os01(['sandbox', 'create', '--name', n, '--from', 'img:1', '--detach', '--', 'sleep', 'infinity'])).code).toBe(0);
    const env = { FAKE_OPENSHELL_PAGE_SIZE: '2' };
    const first = JSON.parse((await os01(['sandbox', 'list', '-o', 'json'], { env })).stdout);
    expect(first.sandboxes).toHaveLength(2);
    expect(first.next_page_token).not.toBe('');
    const names: string[] = first.sandboxes.map((s: { name: string }) => s.name);
    let token = first.next_page_token as string;
    while (token) {
      const page = JSON.parse((await os01(['sandbox', 'list', '-o', 'json', '--page-token', token], { env })).stdout);
      names.push(...page.sandboxes.map((s: { name: string }) => s.name));
      token = page.next_page_token;
    }
    expect(names).toEqual(expect.arrayContaining(['pa', 'pb', 'pc']));
    expect((await os01(['sandbox', 'list', '--offset', '1'])).code).toBe(2);
    const gone = await os01(['sandbox', 'delete', 'never-was']);
    expect(gone.code).toBe(0);
    expect(stripAnsi(gone.stdout)).toBe('✓ Sandbox never-was already deleted\n');
    const pending = await os01(['sandbox', 'delete', 'pa'], { env: { FAKE_OPENSHELL_DELETE_PENDING_MS: '5000' } });
    expect(stripAnsi(pending.stdout)).toBe('✓ Sandbox pa deletion accepted; cleanup is pending\n');
    expect(JSON.parse((await os01(['sandbox', 'get', 'pa', '-o', 'json'])).stdout).phase).toBe('Deleting');
    // gone once its cleanup is over
    for (let i = 0; i < 100 && (await os01(['sandbox', 'get', 'pa', '-o', 'json'])).code === 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect((await os01(['sandbox', 'get', 'pa', '-o', 'json'])).stderr).toContain('sandbox not found');
    const mixed = await os01(['sandbox', 'delete', 'pb', 'pc'], { env: { FAKE_OPENSHELL_DELETE_FAIL: 'pb' } });
    expect(mixed.code).toBe(1);
    expect(stripAnsi(mixed.stdout)).toContain('✓ Deleted sandbox pc');
    expect(mixed.stderr).toContain('failed to delete 1 sandbox(es)');
  });

  it('exec: the process sees a placeholder; the supervisor swaps it only at the profile endpoints', async () => {
    const up = await echoServer();
    const other = await echoServer();
    try {
      const file = path.join(fake.dir, `p-${up.port}.yaml`);
      writeFileSync(file, PROFILE(up.port).replace('id: local-llm', 'id: echo-llm'));
      expect((await os01(['profile', 'import', '-f', file])).code).toBe(0);
      expect((await os01(['provider', 'create', '--name', 'echo', '--type', 'echo-llm', '--credential', 'OPENAI_API_KEY'], { env: { OPENAI_API_KEY: 'sk-secret-1111' } })).code).toBe(0);
      const c = await os01(['sandbox', 'create', '--name', 'box', '--from', 'img:1', '--provider', 'echo', '--env', `OPENAI_BASE_URL=http://host.openshell.internal:${up.port}/v1`, '--detach', '--', 'sleep', 'infinity']);
      expect(c.code, c.stderr).toBe(0);
      const env = await os01(['sandbox', 'exec', '--name', 'box', '--no-tty', '--no-login-shell', '--', 'sh', '-c', 'echo $OPENAI_API_KEY; echo $OPENAI_BASE_URL; echo $NODE_USE_ENV_PROXY']);
      expect(env.stdout.split('\n').slice(0, 3)).toEqual(['openshell:resolve:env:OPENAI_API_KEY', `http://host.openshell.internal:${up.port}/v1`, '1']);
      // At the profile's endpoint: the real key arrives upstream.
      const good = await os01(['sandbox', 'exec', '--name', 'box', '--no-tty', '--', process.execPath, '-e', client(`http://host.openshell.internal:${up.port}/v1/models`)]);
      expect(good.stdout.split('\n')[0], good.stdout + good.stderr).toBe('200');
      expect(up.seen.at(-1)).toEqual({ path: '/v1/models', auth: 'Bearer sk-secret-1111' });
      // Anywhere else: refused, and the key goes nowhere.
      const bad = await os01(['sandbox', 'exec', '--name', 'box', '--no-tty', '--', process.execPath, '-e', client(`http://host.openshell.internal:${other.port}/steal`)]);
      expect(bad.stdout.split('\n')[0]).toBe('403');
      expect(JSON.parse(bad.stdout.split('\n')[1] ?? '{}').error).toBe('policy_denied');
      expect(other.seen).toEqual([]);
      // Rotation: the next request carries the new key, with no change inside the sandbox.
      expect((await os01(['provider', 'update', 'echo', '--credential', 'OPENAI_API_KEY'], { env: { OPENAI_API_KEY: 'sk-secret-2222' } })).code).toBe(0);
      await os01(['sandbox', 'exec', '--name', 'box', '--no-tty', '--', process.execPath, '-e', client(`http://host.openshell.internal:${up.port}/v1/models`)]);
      expect(up.seen.at(-1)?.auth).toBe('Bearer sk-secret-2222');
      // FAKE_OPENSHELL_EGRESS=strict: a client that ignores HTTP_PROXY cannot connect at all.
      const strict = await os01(['sandbox', 'exec', '--name', 'box', '--no-tty', '--', process.execPath, '-e', client(`http://host.openshell.internal:${up.port}/v1/models`)], {
        env: { FAKE_OPENSHELL_EGRESS: 'strict' },
      });
      expect(strict.stdout.trim()).toBe('ERR ECONNREFUSED');
      const log = readFileSync(path.join(fake.dir, 'openshell-state', 'servers', 'http_127.0.0.1_18088', 'proxy.log'), 'utf8');
      expect(log).not.toContain('sk-secret');
    } finally {
      up.close();
      other.close();
    }
  });

  it('a key bound to another endpoint is refused there (credential_endpoint_mismatch)', async () => {
    const a = await echoServer();
    const b = await echoServer();
    try {
      for (const [id, port] of [['prof-a', a.port], ['prof-b', b.port]] as const) {
        const f = path.join(fake.dir, `${id}.yaml`);
        writeFileSync(f, PROFILE(port).replace('id: local-llm', `id: ${id}`).replace('[OPENAI_API_KEY]', id === 'prof-a' ? '[KEY_A]' : '[KEY_B]'));
        expect((await os01(['profile', 'import', '-f', f])).code).toBe(0);
      }
      expect((await os01(['provider', 'create', '--name', 'pa', '--type', 'prof-a', '--credential', 'KEY_A'], { env: { KEY_A: 'sk-aaaa' } })).code).toBe(0);
      expect((await os01(['provider', 'create', '--name', 'pb', '--type', 'prof-b', '--credential', 'KEY_B'], { env: { KEY_B: 'sk-bbbb' } })).code).toBe(0);
      expect((await os01(['sandbox', 'create', '--name', 'two', '--from', 'img:1', '--provider', 'pa', '--provider', 'pb', '--detach', '--', 'sleep', 'infinity'])).code).toBe(0);
      const r = await os01(['sandbox', 'exec', '--name', 'two', '--no-tty', '--', process.execPath, '-e', client(`http://host.openshell.internal:${b.port}/x`, 'KEY_A')]);
      expect(r.stdout.split('\n')[0]).toBe('403');
      expect(JSON.parse(r.stdout.split('\n')[1] ?? '{}').error).toBe('credential_endpoint_mismatch');
      expect(b.seen).toEqual([]);
      // workspaces must be empty of every resource to go; providers cannot go while attached
      const del = await os01(['provider', 'delete', 'pa']);
      expect(del.code).toBe(1);
      expect(del.stderr).toContain('is attached to sandbox(es): two');
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('fake openshell 0.0.111: the source audit corrections (openshell-cli.md)', () => {
  beforeAll(async () => {
    fake = makeFakeEnv();
    expect((await os(['gateway', 'add', 'http://127.0.0.1:18089', '--name', 'gw', '--local'])).code).toBe(0);
  });
  afterAll(() => fake.cleanup());

  it('names: at most 19 characters, [a-z0-9-], no leading, trailing or doubled hyphen', async () => {
    const cases: Array<[string, string]> = [
      ['twenty-characters-xy', 'name exceeds maximum length (20 > 19)'],
      ['with.dot', 'name must contain only lowercase alphanumeric characters or hyphens'],
      ['-lead', 'a value is required'],
      ['trail-', 'name must not start or end with a hyphen'],
      ['dou--ble', 'name must not contain consecutive hyphens'],
    ];
    for (const [name, text] of cases) {
      const r = await os(['-g', 'gw', 'sandbox', 'create', '--name', name, '--', 'sleep', 'infinity']);
      expect(r.code, name).not.toBe(0);
      expect(r.stderr, name).toContain(text);
    }
  });

  it('--from is tried as a path in the working directory first', async () => {
    const cwd = path.join(fake.dir, 'work');
    mkdirSync(path.join(cwd, 'base'), { recursive: true });
    const r = await os(['-g', 'gw', 'sandbox', 'create', '--name', 'b1', '--from', 'base', '--', 'sleep', 'infinity'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No Dockerfile found in directory: base');
    const full = await os(['-g', 'gw', 'sandbox', 'create', '--name', 'b1', '--from', 'ghcr.io/nvidia/openshell-community/sandboxes/base:latest', '--', 'sleep', 'infinity'], { cwd });
    expect(full.code, full.stderr).toBe(0);
  });

  it('upload of a file in a git work tree treats DEST as a directory unless --no-git-ignore', async () => {
    const repo = path.join(fake.dir, 'repo');
    mkdirSync(repo);
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(path.join(repo, 'w.mjs'), 'x');
    const root = path.join(fake.dir, 'openshell-state', 'servers', 'http_127.0.0.1_18089', 'workspaces', 'default', 'sandboxes', 'b1', 'root');
    expect((await os(['-g', 'gw', 'sandbox', 'upload', 'b1', path.join(repo, 'w.mjs'), '/sandbox/a/worker.mjs'])).code).toBe(0);
    expect(readFileSync(path.join(root, 'a', 'worker.mjs', 'w.mjs'), 'utf8')).toBe('x');
    expect((await os(['-g', 'gw', 'sandbox', 'upload', 'b1', path.join(repo, 'w.mjs'), '/sandbox/b/worker.mjs', '--no-git-ignore'])).code).toBe(0);
    expect(readFileSync(path.join(root, 'b', 'worker.mjs'), 'utf8')).toBe('x');
  });

  it('status of an unknown gateway: {"status":"not_configured"}, exit 0; a failing gRPC health is connected_http', async () => {
    const r = await os(['-g', 'nope', 'status', '-o', 'json']);
    expect(r).toMatchObject({ code: 0, stdout: '{\n  "status": "not_configured"\n}\n' });
    const http = await os(['-g', 'gw', 'status', '-o', 'json'], { env: { FAKE_OPENSHELL_GRPC_DOWN: 'gw' } });
    expect(JSON.parse(http.stdout)).toMatchObject({ status: 'connected_http', http_status: '200 OK' });
  });

  it('before 0.0.111 a trailing command keeps create waiting (without --detach)', async () => {
    const env = { FAKE_OPENSHELL_VERSION: '0.0.110' };
    const short = await os(['-g', 'gw', 'sandbox', 'create', '--name', 'w1', '--', 'sh', '-c', 'echo ran over ssh'], { env });
    expect(short.code).toBe(0);
    expect(short.stdout).toContain('ran over ssh');
    const detached = await os(['-g', 'gw', 'sandbox', 'create', '--name', 'w2', '--detach', '--', 'sh', '-c', 'echo not attached'], { env });
    expect(detached.stdout).not.toContain('not attached');
  });
});
