import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHome, type Home } from '../helpers/logos.js';

let home: Home;
beforeEach(() => {
  home = makeHome();
});
afterEach(() => home.cleanup());

describe('logos basics', () => {
  it('--version and --help work without touching the disk', async () => {
    const v = await home.run(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await home.run(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Examples:');
    expect(h.stdout).toContain('logos demo');
    const rh = await home.run(['run', '--help']);
    expect(rh.stdout).toContain('--timeout');
    expect(rh.stdout).toContain('Examples:');
  });

  it('unknown commands and options are usage errors (exit 2), in JSON too', async () => {
    const r = await home.run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    const j = await home.run(['route', 'list', '--json', '--bogus']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout.trim().split('\n').pop() as string)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });
});

describe('--json', () => {
  it('is one global flag: before or after the command, the same JSON; errors as {ok:false,error}', async () => {
    expect((await home.run(['route', 'add', 'custom/m', '--endpoint', 'http://127.0.0.1:9/v1', '--name', 'r1', '--default'])).code).toBe(0);
    const after = await home.run(['route', 'list', '--json']);
    const before = await home.run(['--json', 'route', 'list']);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual(JSON.parse(after.stdout));
    expect(JSON.parse(before.stdout)).toEqual({ ok: true, items: [expect.objectContaining({ name: 'r1', default: true })] });
    const missing = await home.run(['--json', 'route', 'remove', 'nope']);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', message: expect.any(String), hint: expect.any(String) } });
    const done = await home.run(['--json', 'route', 'remove', 'r1']);
    expect(JSON.parse(done.stdout)).toMatchObject({ ok: true, removed: 'r1' });
    expect((await home.run(['--help'])).stdout).toMatch(/--json +print JSON on stdout/);
  });
});

describe('logos route', () => {
  it('adds, lists, shows, sets default and removes routes', async () => {
    const add = await home.run(['route', 'add', 'openai/gpt-4o-mini', '--json']);
    expect(add.code).toBe(0);
    const added = JSON.parse(add.stdout);
    expect(added).toMatchObject({ ok: true, default: true, endpoint_source: 'default', route: { name: 'gpt-4o-mini', provider: 'openai', api: 'openai-chat', endpoint: 'https://api.openai.com/v1', timeout_sec: 600 } });

    const add2 = await home.run(['route', 'add', 'anthropic/claude-sonnet-4.5', '--timeout', '15m']);
    expect(add2.code).toBe(0);
    expect(add2.stdout).toContain('claude-sonnet-4-5');

    const list = (JSON.parse((await home.run(['route', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ name: string; default: boolean; api: string; timeout_sec: number }>;
    expect(list.map((r) => [r.name, r.default, r.api])).toEqual([
      ['claude-sonnet-4-5', false, 'anthropic-messages'],
      ['gpt-4o-mini', true, 'openai-chat'],
    ]);
    expect(list[0]?.timeout_sec).toBe(900);

    expect((await home.run(['route', 'set-default', 'claude-sonnet-4-5'])).code).toBe(0);
    const show = JSON.parse((await home.run(['route', 'show', 'claude-sonnet-4-5', '--json'])).stdout);
    expect(show).toMatchObject({ default: true, sandboxes: [] });

    const rm = await home.run(['route', 'remove', 'claude-sonnet-4-5']);
    expect(rm.code).toBe(0);
    const after = (JSON.parse((await home.run(['route', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ name: string; default: boolean }>;
    expect(after).toEqual([expect.objectContaining({ name: 'gpt-4o-mini', default: true })]);
  });

  it('rejects bad input with a reason code and a hint', async () => {
    const cases: Array<[string[], number, string]> = [
      [['route', 'add', 'nosuchprovider/x', '--json'], 2, 'INVALID_ARGUMENT'],
      [['route', 'add', 'openai', '--json'], 2, 'INVALID_ARGUMENT'],
      [['route', 'add', 'openai/bad model', '--json'], 2, 'INVALID_ARGUMENT'],
      [['route', 'add', 'custom/m', '--json'], 2, 'INVALID_ARGUMENT'],
      [['route', 'add', 'custom/m', '--endpoint', 'ftp://x', '--json'], 2, 'INVALID_ARGUMENT'],
      [['route', 'add', 'custom/m', '--endpoint', 'http://user:pw@h/v1', '--json'], 2, 'INVALID_ARGUMENT'],
      [['route', 'show', 'nope', '--json'], 3, 'NOT_FOUND'],
      [['route', 'remove', 'nope', '--json'], 3, 'NOT_FOUND'],
      [['route', 'add', 'openai/gpt-4o', '--name', 'Bad_Name', '--json'], 2, 'INVALID_NAME'],
    ];
    for (const [args, code, reason] of cases) {
      const r = await home.run(args);
      expect(r.code, args.join(' ')).toBe(code);
      const body = JSON.parse(r.stdout);
      expect(body.ok).toBe(false);
      expect(body.error.code).toBe(reason);
      expect(body.error.hint, args.join(' ')).toBeTruthy();
    }
    // the password in the URL is not echoed back
    const r = await home.run(['route', 'add', 'custom/m', '--endpoint', 'http://user:hunter2pw@h/v1']);
    expect(r.stderr + r.stdout).not.toContain('hunter2pw');
  });

  it('refuses a duplicate and shows human errors with a hint on stderr', async () => {
    await home.run(['route', 'add', 'openai/gpt-4o-mini']);
    const dup = await home.run(['route', 'add', 'openai/gpt-4o-mini']);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toContain("Error: A route named 'gpt-4o-mini' already exists");
    expect(dup.stderr).toContain('Hint:');
    expect(dup.stdout).toBe('');
  });

  it('auto-discovers a local server on its usual port, or saves the default with a warning', async () => {
    const r = await home.run(['route', 'add', 'ollama/llama3.2', '--json']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.route.endpoint).toBe('http://127.0.0.1:11434/v1');
    // nothing listens on 11434 here (the fakes use ephemeral ports)
    expect(body.endpoint_source).toBe('default');
    expect(body.warning).toContain('not answering');
  });
});

describe('logos creds', () => {
  const canary = 'sk-canary-CREDS-0123456789abcdefWXYZ';

  it('stores a key from stdin, lists it masked, removes it', async () => {
    const set = await home.run(['creds', 'set', 'openai', '--key-stdin'], { input: `${canary}\n` });
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('sk-…WXYZ');
    const list = await home.run(['creds', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual({ ok: true, items: [expect.objectContaining({ provider: 'openai', source: 'vault', masked: 'sk-…WXYZ' })] });
    const file = join(home.env.LOGOS_HOME as string, 'config', 'credentials', 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const human = await home.run(['creds', 'list']);
    for (const out of [set, list, human]) expect(out.stdout + out.stderr).not.toContain(canary);
    expect(home.logText()).not.toContain(canary);
    expect((await home.run(['creds', 'remove', 'openai'])).code).toBe(0);
    expect((await home.run(['creds', 'remove', 'openai'])).code).toBe(3);
  });

  it('shows environment keys masked, and refuses empty or multi-line input', async () => {
    const l = await home.run(['creds', 'list', '--json'], { env: { ANTHROPIC_API_KEY: canary } });
    expect(JSON.parse(l.stdout)).toEqual({ ok: true, items: [expect.objectContaining({ provider: 'anthropic', source: 'env', envVar: 'ANTHROPIC_API_KEY' })] });
    expect(l.stdout).not.toContain(canary);
    const empty = await home.run(['creds', 'set', 'openai', '--key-stdin', '--json'], { input: '\n' });
    expect(empty.code).toBe(2);
    // a multi-line credential is kept intact (only the trailing newline goes) and never echoed
    const two = await home.run(['creds', 'set', 'openai', '--key-stdin', '--json'], { input: `${canary}\nsecond-line-secret\n` });
    expect(two.code).toBe(0);
    expect(two.stdout).not.toContain(canary);
    expect(two.stdout).not.toContain('second-line-secret');
    const stored = JSON.parse(readFileSync(join(home.env.LOGOS_HOME as string, 'config', 'credentials', 'credentials.json'), 'utf8'));
    expect(stored.keys.openai.value).toBe(`${canary}\nsecond-line-secret`);
  });

  it('refuses to use a credentials file readable by others, and fix-permissions repairs it', async () => {
    await home.run(['creds', 'set', 'openai'], { input: canary });
    const dir = join(home.env.LOGOS_HOME as string, 'config', 'credentials');
    chmodSync(join(dir, 'credentials.json'), 0o644);
    const r = await home.run(['creds', 'list', '--json']);
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'PERMISSION_NOT_600', hint: expect.stringContaining('logos creds fix-permissions') });
    expect((await home.run(['creds', 'fix-permissions'])).code).toBe(0);
    expect((await home.run(['creds', 'list'])).code).toBe(0);
  });

  it('reports a damaged state file instead of starting empty', async () => {
    await home.run(['route', 'add', 'openai/gpt-4o-mini']);
    const state = join(home.env.LOGOS_HOME as string, 'state');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'routes.json'), '{"version":1,"routes":{"gpt-4o-mini":');
    const r = await home.run(['route', 'list', '--json']);
    expect(r.code).toBe(6);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('STATE_CORRUPT');
    expect(err.hint).toContain('routes.json.corrupt-');
  });
});

describe('logos sandbox (local driver)', () => {
  it('creates, lists with a measured phase, shows and deletes a sandbox', async () => {
    await home.run(['route', 'add', 'custom/m', '--endpoint', 'http://127.0.0.1:9/v1']);
    const c = await home.run(['sandbox', 'create', 'work', '--driver', 'local', '--json']);
    expect(c.code).toBe(0);
    const rec = JSON.parse(c.stdout).sandbox;
    expect(rec).toMatchObject({ name: 'work', driver: 'local', route: 'm' });
    expect(statSync(rec.dir).isDirectory()).toBe(true);
    const list = (JSON.parse((await home.run(['sandbox', 'list', '--json'])).stdout) as { items: unknown[] }).items;
    expect(list).toEqual([expect.objectContaining({ name: 'work', status: { phase: 'Ready' } })]);
    const dup = await home.run(['sandbox', 'create', 'work', '--driver', 'local']);
    expect(dup.code).toBe(4);
    expect((await home.run(['route', 'remove', 'm'])).code).toBe(4);
    expect((await home.run(['sandbox', 'delete', 'work'])).code).toBe(0);
    expect(() => statSync(rec.dir)).toThrow();
    expect((await home.run(['sandbox', 'show', 'work'])).code).toBe(3);
  });

  it('says how to install bubblewrap when it is missing, and never runs unsandboxed', async () => {
    await home.run(['route', 'add', 'custom/m', '--endpoint', 'http://127.0.0.1:9/v1']);
    const bin = join(home.dir, 'bin-without-bwrap');
    mkdirSync(bin);
    const r = await home.run(['sandbox', 'create', 'x', '--driver', 'local', '--json'], { env: { PATH: bin } });
    expect(r.code).toBe(5);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('BWRAP_MISSING');
    expect(err.hint).toContain('apt-get install bubblewrap');
    const run = await home.run(['run', 'hi', '--json'], { env: { PATH: bin } });
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stdout.trim().split('\n').pop() as string).error.code).toBe('BWRAP_MISSING');
  });

  it('rejects invalid sandbox names and unknown drivers', async () => {
    await home.run(['route', 'add', 'custom/m', '--endpoint', 'http://127.0.0.1:9/v1']);
    expect((await home.run(['sandbox', 'create', 'Bad_Name'])).code).toBe(2);
    expect((await home.run(['sandbox', 'create', 'ok', '--driver', 'qemu'])).code).toBe(2);
  });

  it('run without any route says how to add one', async () => {
    const r = await home.run(['run', 'hello', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'NO_DEFAULT_ROUTE', hint: expect.stringContaining('logos route add') });
  });
});
