import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { floodReply, startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { fixtureWorker } from '../helpers/fixtures.js';
import { BIN, jsonLines, makeHome, homeProcesses, sandboxWorkers, waitFor, type Home } from '../helpers/logos.js';

/**
 * The host around the sandbox, tried as a hostile worker would: links planted where
 * the host reads, a worker that stays after its result, floods of tokens and of log
 * lines, and control sequences aimed at the terminal. Each case is one the host
 * used to lose.
 */

let openai: FakeModelServer;
let home: Home;

beforeAll(async () => {
  openai = await startFakeOpenAI();
});
afterAll(async () => {
  await openai.close();
});
beforeEach(() => {
  home = makeHome();
  openai.setScenario('plain');
  openai.requests.length = 0;
});
afterEach(() => home.cleanup());

const KEY = 'sk-ant-CANARY-hostile-0123456789abcdefWXYZ';
const sandboxDir = (name = 'fake'): string => join(home.dir, 'logos', 'data', 'sandboxes', name, 'workdir');

async function setup(): Promise<void> {
  expect((await home.run(['creds', 'set', 'anthropic', '--key-stdin'], { input: KEY })).code).toBe(0);
  const r = await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'fake', '--default']);
  expect(r.code, r.stderr).toBe(0);
}

function runWith(fixture: string, args: string[], input?: string): ReturnType<Home['run']> {
  return home.run(args, { env: { LOGOS_WORKER_FILE: fixtureWorker(fixture) }, ...(input !== undefined ? { input } : {}) });
}

describe('sandbox logs never follows what the sandbox planted', () => {
  it('a worker that links its log to the key vault gets a refusal, not the key', async () => {
    await setup();
    const r = await runWith('plant-links', ['run', '--json', 'x']);
    expect(r.code, r.stderr).toBe(0);
    // The worker really did plant the link, at the right place.
    const planted = join(sandboxDir(), '.logos', 'worker.jsonl');
    expect(readFileSync(planted, 'utf8')).toContain(KEY.slice(0, 12)); // following it does reach the vault
    const logs = await home.run(['sandbox', 'logs', 'fake']);
    expect(logs.code).not.toBe(0);
    expect(logs.stderr).toContain('symbolic link');
    const json = await home.run(['sandbox', 'logs', 'fake', '--json']);
    for (const out of [logs.stdout, logs.stderr, json.stdout, json.stderr]) expect(out).not.toContain(KEY);
  });

  it.each([
    ['a link to /dev/zero', (p: string) => symlinkSync('/dev/zero', p)],
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
    ['a directory', (p: string) => mkdirSync(p)],
  ])('refuses %s in place of the log, at once', async (_what, plant) => {
    await setup();
    expect((await home.run(['sandbox', 'create', 'fake'])).code).toBe(0);
    const p = join(sandboxDir(), '.logos', 'worker.jsonl');
    rmSync(p, { force: true });
    plant(p);
    // A hang here would end in the test's own timeout; nothing is timed.
    const r = await home.run(['sandbox', 'logs', 'fake']);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/Refusing to read/);
  });

  it('refuses a log directory replaced by a link to a host directory', async () => {
    await setup();
    expect((await home.run(['sandbox', 'create', 'fake'])).code).toBe(0);
    const dotLogos = join(sandboxDir(), '.logos');
    rmSync(dotLogos, { recursive: true, force: true });
    mkdirSync(join(home.dir, 'outside'));
    writeFileSync(join(home.dir, 'outside', 'worker.jsonl'), `{"msg":"${KEY}"}\n`);
    symlinkSync(join(home.dir, 'outside'), dotLogos);
    const r = await home.run(['sandbox', 'logs', 'fake']);
    expect(r.code).toBe(7);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('reads only the end of a huge log', async () => {
    await setup();
    expect((await home.run(['sandbox', 'create', 'fake'])).code).toBe(0);
    const line = `${JSON.stringify({ level: 'info', msg: 'z'.repeat(200) })}\n`;
    writeFileSync(join(sandboxDir(), '.logos', 'worker.jsonl'), `${line.repeat(60_000)}{"level":"info","msg":"the last one"}\n`);
    const r = await home.run(['sandbox', 'logs', 'fake', '-n', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = (JSON.parse(r.stdout) as { items: Array<{ msg: string }> }).items;
    expect(lines.map((l) => l.msg.slice(0, 12))).toEqual(['zzzzzzzzzzzz', 'zzzzzzzzzzzz', 'the last one']);
  });
});

describe('what the sandbox can see of the host', () => {
  it('no host path on the sandbox command line, its own /etc/passwd and /etc/group, a read-only socket directory, the host\'s time zone', async () => {
    await setup();
    const r = await runWith('introspect', ['run', '--json', 'x']);
    expect(r.code, r.stderr).toBe(0);
    const seen = jsonLines(r.stdout).find((f) => f.type === 'introspect') as {
      cmdline: string[];
      passwd: string;
      group: string;
      env: Record<string, string>;
      socketDir: { entries: string[]; plant: string; unlink: string };
      localtime: { link: string | null; zone: string };
    };
    // The task's own directory with just the proxy socket, which the worker can neither replace nor add to.
    expect(seen.socketDir).toEqual({ entries: ['inference.sock'], plant: 'EROFS', unlink: 'EROFS' });
    expect(seen.cmdline.filter(Boolean)).toEqual([expect.stringMatching(/bwrap$/), '--args', '3', '--', expect.stringMatching(/node$/), '/opt/logos/worker.mjs']);
    expect(seen.cmdline.join(' ')).not.toContain(home.dir);
    const users = seen.passwd.split('\n').filter(Boolean).map((l) => l.split(':')[0]);
    expect(users[0]).toBe('root');
    expect(users.at(-1)).toBe('nobody');
    expect(users.length).toBeLessThanOrEqual(3);
    expect(seen.passwd).not.toBe(readFileSync('/etc/passwd', 'utf8'));
    expect(seen.group).toContain('nogroup');
    expect(JSON.stringify(seen.env)).not.toContain(home.dir);
    expect(JSON.stringify(seen.env)).not.toContain(KEY);
    // The host's time zone, through the same link when the host has one into /usr (a copied
    // file would make ICU scan every zone file at the worker's first `new Date()`).
    expect(seen.localtime.zone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    let hostLink: string | null = null;
    try {
      hostLink = resolve('/etc', readlinkSync('/etc/localtime'));
    } catch {
      // not a link here
    }
    if (hostLink?.startsWith('/usr/')) expect(seen.localtime.link).toBe(hostLink);
  });
});

describe('a worker that stays after its result', () => {
  it('is served no more model calls and is stopped; the run ends ok and nothing is left running', async () => {
    await setup();
    const r = await runWith('linger', ['run', '--json', '--timeout', '25s', 'x']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'task_result', status: 'ok' });
    // It tried to call the model after its result: none of those calls reached the upstream.
    expect(openai.requests).toHaveLength(0);
    const finished = home.log().find((l) => l.msg === 'task finished');
    expect(finished).toMatchObject({ status: 'ok', lingered: true });
    expect(home.log().some((l) => l.msg === 'worker kept running after its result; stopping it')).toBe(true);
    expect(homeProcesses(home.dir)).toEqual([]);
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ status: string }>;
    expect(runs[0]?.status).toBe('ok');
  });
});

/** The keys of a JSON object line at its top level, duplicates included (JSON.parse would hide them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(line.slice(i + 1, j));
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

/** Run `logos` and watch its peak memory (VmHWM) while it runs. */
async function runMeasured(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdoutBytes: number; lastLine: string; peakKiB: number; stderr: string }> {
  const { child, done } = home.start(args, { env });
  let peakKiB = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch {
      // exited
    }
  }, 20);
  // Read stdout without keeping it: count bytes and keep the last line only.
  let bytes = 0;
  let tail = '';
  child.stdout?.removeAllListeners('data');
  child.stdout?.on('data', (d: Buffer) => {
    bytes += d.length;
    tail = (tail + d.toString('utf8')).slice(-600 * 1024); // the result line holds up to 256 KiB of reply
  });
  const r = await done;
  clearInterval(timer);
  return { code: r.code, stdoutBytes: bytes, lastLine: tail.trimEnd().split('\n').at(-1) ?? '', peakKiB, stderr: r.stderr };
}

describe('floods', () => {
  it('300 MiB of tokens: the run ends with its result, and the host keeps its memory bounded', async () => {
    await setup();
    const r = await runMeasured(['run', '--json', '300'], { LOGOS_WORKER_FILE: fixtureWorker('token-flood') });
    expect(r.code).toBe(0);
    expect(r.stdoutBytes).toBeGreaterThan(300 * 1024 * 1024);
    expect(JSON.parse(r.lastLine)).toMatchObject({ type: 'task_result', status: 'ok', final_response_truncated: true });
    expect(r.peakKiB).toBeGreaterThan(0);
    expect(r.peakKiB).toBeLessThan(200 * 1024);
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ status: string; response_chars: number }>;
    expect(runs[0]).toMatchObject({ status: 'ok' });
    expect(runs[0]?.response_chars).toBeGreaterThan(300 * 1024 * 1024);
  }, 120_000);

  it('a legitimate 1M-token reply from the model ends in its result, through the real worker', async () => {
    const model = 'scenario:flood?tokens=1000000&piece_chars=5';
    const add = await home.run(['route', 'add', `custom/${model}`, '--endpoint', openai.url, '--name', 'big', '--default']);
    expect(add.code, add.stderr).toBe(0);
    const r = await runMeasured(['run', '--json', 'long answer please'], {});
    expect(r.code, `${r.stderr}\n${r.lastLine.slice(0, 500)}`).toBe(0);
    const result = JSON.parse(r.lastLine) as { type: string; status: string; final_response: string; final_response_truncated: boolean; final_response_bytes: number };
    expect(result).toMatchObject({ type: 'task_result', status: 'ok', final_response_truncated: true });
    expect(result.final_response_bytes).toBe(Buffer.byteLength(floodReply(1_000_000, 5)));
    expect(floodReply(1_000_000, 5).startsWith(result.final_response)).toBe(true);
    expect(r.peakKiB).toBeLessThan(200 * 1024);
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ status: string; response_chars: number }>;
    expect(runs[0]).toMatchObject({ status: 'ok', response_chars: floodReply(1_000_000, 5).length });
  }, 120_000);

  it('the same flood printed for a person (not --json) also ends cleanly', async () => {
    await setup();
    const r = await runMeasured(['run', '100'], { LOGOS_WORKER_FILE: fixtureWorker('token-flood') });
    expect(r.code).toBe(0);
    expect(r.stdoutBytes).toBeGreaterThan(100 * 1024 * 1024);
    expect(r.peakKiB).toBeLessThan(200 * 1024);
  }, 120_000);

  it('50 MiB of worker log lines: the unified log takes a bounded share, forged fields stay nested', async () => {
    await setup();
    const r = await runWith('stderr-flood', ['run', '--json', '50']);
    expect(r.code, r.stderr).toBe(0);
    const logDir = join(home.dir, 'logos', 'state', 'logs');
    const total = readdirSync(logDir).reduce((n, f) => n + statSync(join(logDir, f)).size, 0);
    expect(total).toBeLessThan(8 * 1024 * 1024);
    const log = home.log();
    expect(log.some((l) => l.msg === 'worker log lines not relayed (over the per-run cap)' && (l.dropped_lines as number) > 0)).toBe(true);
    const relayed = log.filter((l) => (l.worker as { sandbox?: string } | undefined)?.sandbox === 'forged');
    expect(relayed.length).toBeGreaterThan(0);
    for (const l of relayed) expect(l).toMatchObject({ source: 'worker', sandbox: 'fake', route: 'fake' });
    // No record carries a key twice.
    for (const line of home.logText().split('\n').filter(Boolean)) {
      const keys = topLevelKeys(line);
      expect(keys.length, line.slice(0, 200)).toBe(new Set(keys).size);
    }
  }, 120_000);

  it('rolls the log to a new file by size while a run is still writing it, and keeps the newest four', async () => {
    await setup();
    mkdirSync(join(home.dir, 'logos', 'config'), { recursive: true });
    writeFileSync(join(home.dir, 'logos', 'config', 'config.json'), JSON.stringify({ logRotateBytes: 300_000 }));
    const r = await runWith('stderr-flood', ['run', '--json', '3']);
    expect(r.code, r.stderr).toBe(0);
    const logDir = join(home.dir, 'logos', 'state', 'logs');
    const files = readdirSync(logDir).filter((f) => /^logos\.\d+\.jsonl$/.test(f));
    // The flood is capped per run (~2 MiB relayed): several files of 300 kB, the oldest removed.
    expect(files.length).toBe(4);
    expect(files).not.toContain('logos.1.jsonl');
    // pino-roll starts the next file after the write that crossed the limit has drained: a file
    // can end past it by what one burst of relayed lines adds (one pipe read's worth).
    for (const f of files) expect(statSync(join(logDir, f)).size).toBeLessThan(300_000 + 128 * 1024);
    // The run's last records are in the newest file.
    const newest = files.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1])).at(-1) as string;
    expect(readFileSync(join(logDir, newest), 'utf8')).toContain('"msg":"task finished"');
  }, 60_000);
});

describe('terminal escape injection', () => {
  const NASTY = 'hi\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b]0;owned\u0007\u001b]8;;http://evil/\u0007link\u001b]8;;\u0007\u001b[2J\u001b[1;1H\rX\u009b31m\u202eok';

  it('model text reaches a person without control sequences, and scripts (--json) unchanged', async () => {
    await setup();
    const human = await home.run(['run', NASTY]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('Echo: hi]52;c;ZWNobyBwd25lZA==]0;owned]8;;http://evil/link]8;;[2J[1;1HX31mok\n');
    const json = await home.run(['run', '--json', NASTY]);
    const result = jsonLines(json.stdout).at(-1) as { final_response: string };
    expect(result.final_response).toBe(`Echo: ${NASTY}`);
  });

  it("a worker's error message and hint lose their control sequences on stderr", async () => {
    await setup();
    const r = await runWith('error-escapes', ['run', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error: bad]52;c;ZWNobyBwd25lZA== gateway]0;ownedall fine');
    expect(r.stderr).toContain('Hint: retry[2J[H31m later');
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    // The run record keeps the worker's words (data); showing it strips them again.
    const list = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ id: string }>;
    const show = await home.run(['runs', 'show', list[0]?.id as string]);
    expect(show.stdout).toContain('bad]52;c;');
    expect(show.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});

describe('signals outside a task', () => {
  it('one SIGTERM ends a run still waiting for its message on stdin (exit 130, nothing recorded)', async () => {
    await setup();
    // stdin is a pipe the test keeps open: the command is blocked reading it.
    const child = spawn(process.execPath, [BIN, 'run', '--json'], { env: home.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin.write('the start of a message that never ends');
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await waitFor(() => home.logText().length > 0 || existsSync(join(home.dir, 'logos')), 'the command to start');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    // A second signal is never sent: one must be enough (a hang ends in the test's timeout).
    expect(await closed).toBe(130);
    expect(JSON.parse(out.trim())).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as unknown[];
    expect(runs).toEqual([]);
  });
});

/** What a runtime directory holds besides the plan for the next run's early start (local/prestart.ts). */
const taskEntries = (dir: string): string[] => readdirSync(dir).filter((n) => n !== 'prestart.json');

describe('stale proxy sockets', () => {
  it('a task directory (or an older socket) left by a host that was killed is removed at the next run', async () => {
    await setup();
    const runDir = join(home.dir, 'logos', 'run');
    mkdirSync(runDir, { recursive: true });
    // A pid that cannot be running (Linux pids stop at 4194304).
    const staleDir = join(runDir, 'task-4194305-t_0abc');
    mkdirSync(staleDir);
    writeFileSync(join(staleDir, 'inference.sock'), '');
    const staleSocket = join(runDir, 'proxy-4194305-t_0abd.sock');
    writeFileSync(staleSocket, '');
    // One of a host still running stays.
    const live = join(runDir, `task-${process.pid}-t_0abe`);
    mkdirSync(live);
    const r = await home.run(['run', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(staleDir)).toBe(false);
    expect(existsSync(staleSocket)).toBe(false);
    expect(taskEntries(runDir)).toEqual([`task-${process.pid}-t_0abe`]);
  });
});

describe('a sandbox started ahead of its task', () => {
  it('is stopped and tidied away when the run ends before its task is sent', async () => {
    // No key for the route's provider: found out once the sandbox is already starting.
    const r0 = await home.run(['route', 'add', 'openai/gpt-test', '--endpoint', openai.url, '--name', 'keyless', '--default']);
    expect(r0.code, r0.stderr).toBe(0);
    const r = await home.run(['run', '--json', 'hello'], { env: { OPENAI_API_KEY: '' } });
    expect(r.code).toBe(3);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ ok: false, error: { code: 'NO_CREDENTIAL' } });
    expect(sandboxWorkers(home.dir)).toEqual([]);
    expect(taskEntries(join(home.dir, 'logos', 'run'))).toEqual([]);
    // An attachment refused after the sandbox started (a link the sandbox planted where it goes).
    await setup();
    expect((await home.run(['sandbox', 'create', 'fake', '--route', 'fake'])).code).toBe(0);
    symlinkSync('/tmp', join(sandboxDir(), 'attachments'));
    const file = join(home.dir, 'note.txt');
    writeFileSync(file, 'n');
    const a = await home.run(['run', '--route', 'fake', '--sandbox', 'fake', '--attach', file, 'hello']);
    expect(a.code, a.stderr).not.toBe(0);
    expect(a.stderr).toMatch(/link/);
    expect(sandboxWorkers(home.dir)).toEqual([]);
    expect(homeProcesses(home.dir).filter((p) => /bwrap/.test(p))).toEqual([]);
    expect(taskEntries(join(home.dir, 'logos', 'run'))).toEqual([]);
    expect(openai.requests.length).toBe(0);
  });
});
