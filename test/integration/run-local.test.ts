import { chmodSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { jsonLines, makeHome, homeProcesses, processesMatching, ROOT, sandboxWorkers, waitFor, type Home } from '../helpers/logos.js';

/**
 * `logos run` end to end: the real binary, the real bwrap sandbox, the real
 * host-side proxy and the real worker bundle, against fake model servers that
 * speak the real SSE formats.
 */

let openai: FakeModelServer;
let anthropic: FakeModelServer;
let home: Home;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic();
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});
beforeEach(() => {
  home = makeHome();
  openai.setScenario('plain');
  anthropic.setScenario('plain');
  openai.requests.length = 0;
  anthropic.requests.length = 0;
});
afterEach(() => home.cleanup());

async function addOpenAIRoute(name = 'fake', extra: string[] = []): Promise<void> {
  const r = await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', name, '--default', ...extra]);
  expect(r.code, r.stderr).toBe(0);
}

/** A `logos run --json` whose model stalls after its first tokens, once a token has arrived. */
async function startStalledRun(): Promise<ReturnType<Home['start']>> {
  openai.setScenario({ name: 'stall', stallAfter: 2 });
  const running = home.start(['run', '--json', 'stall please']);
  let out = '';
  running.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('"type":"token"'), 'the first token');
  return running;
}

function frames(stdout: string): Array<Record<string, unknown>> {
  return jsonLines(stdout);
}

describe('logos run (local bwrap sandbox)', () => {
  it('streams an OpenAI-compatible reply as frames and records the run', async () => {
    await addOpenAIRoute();
    const r = await home.run(['run', '--json', 'hello there']);
    expect(r.code, r.stderr).toBe(0);
    const fs = frames(r.stdout);
    expect(fs[0]).toMatchObject({ type: 'ready', v: 1 });
    const result = fs.at(-1) as Record<string, unknown>;
    expect(result).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: hello there' });
    expect(fs.filter((f) => f.type === 'task_result')).toHaveLength(1);
    const text = fs.filter((f) => f.type === 'token').map((f) => f.content).join('');
    expect(text).toBe('Echo: hello there');
    expect(result.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });

    // The request went through the proxy: real model pinned, placeholder auth gone, path mapped.
    const req = openai.requests.find((q) => q.path.endsWith('/chat/completions'));
    expect(req?.path).toBe('/v1/chat/completions');
    expect((req?.body as { model: string; stream: boolean }).model).toBe('fake-model');
    expect(req?.headers.authorization).toBeUndefined();

    // The run is recorded with its id, sandbox, route, status and usage.
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<Record<string, unknown>>;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ sandbox: 'fake', route: 'fake', status: 'ok', usage: expect.any(Object), host_pid: expect.any(Number) });
    const show = await home.run(['runs', 'show', runs[0]?.id as string]);
    expect(show.stdout).toMatch(/Status:\s+ok/);

    // The worker log was relayed into the unified log, tagged.
    const log = home.log();
    expect(log.some((l) => l.source === 'worker' && l.task_id === runs[0]?.id && l.sandbox === 'fake')).toBe(true);
    for (const l of log) {
      expect(typeof l.ts).toBe('string');
      expect(typeof l.level).toBe('string');
      expect(typeof l.source).toBe('string');
      expect(typeof l.msg).toBe('string');
    }
    // The sandbox keeps the worker's own log.
    const logs = await home.run(['sandbox', 'logs', 'fake', '--json']);
    expect((JSON.parse(logs.stdout) as { items: unknown[] }).items.length).toBeGreaterThan(0);
  });

  it('prints only the reply on stdout when not on a TTY (no reasoning, no colour)', async () => {
    await addOpenAIRoute();
    openai.setScenario('reasoning');
    const r = await home.run(['run', 'why is the sky blue']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Echo: why is the sky blue\n');
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('forwards reasoning as thinking frames and falls back to it when content is empty', async () => {
    await addOpenAIRoute();
    openai.setScenario('reasoning-only');
    const r = await home.run(['run', '--json', 'think hard']);
    expect(r.code, r.stderr).toBe(0);
    const fs = frames(r.stdout);
    const thinking = fs.filter((f) => f.type === 'thinking').map((f) => f.content).join('');
    expect(thinking).toBe('Thinking about: think hard');
    expect(fs.at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Thinking about: think hard' });
    const plain = await home.run(['run', 'think hard']);
    expect(plain.stdout).toBe('Thinking about: think hard\n');
  });

  it('reads the message from stdin and --file, and passes --system', async () => {
    await addOpenAIRoute();
    const r = await home.run(['run', '--system', 'be brief', '--json'], { input: 'from stdin' });
    expect(frames(r.stdout).at(-1)).toMatchObject({ final_response: 'Echo: from stdin' });
    const body = openai.requests.at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(body.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'from stdin' },
    ]);
    const f = join(home.dir, 'task.md');
    writeFileSync(f, 'from a file');
    const r2 = await home.run(['run', '--file', f]);
    expect(r2.stdout).toBe('Echo: from a file\n');
  });

  it('talks to Anthropic through the proxy, which adds the stored key; the sandbox never sees it', async () => {
    const key = 'sk-ant-CANARY-run-0123456789abcdefQRST';
    const server = await startFakeAnthropic({ requireKey: key, scenario: 'reasoning' });
    try {
      expect((await home.run(['creds', 'set', 'anthropic', '--key-stdin'], { input: key })).code).toBe(0);
      const add = await home.run(['route', 'add', 'anthropic/claude-test', '--endpoint', server.url, '--default']);
      expect(add.code).toBe(0);
      const r = await home.run(['run', '--json', 'hi claude']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const fs = frames(r.stdout);
      expect(fs.filter((f) => f.type === 'thinking').length).toBeGreaterThan(0);
      expect(fs.at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: hi claude' });
      const req = server.requests.find((q) => q.path.endsWith('/messages'));
      expect(req?.headers['x-api-key']).toBe(key);
      expect(req?.headers['anthropic-version']).toBe('2023-06-01');
      // the canary appears in no output, no log, no run record, no sandbox file
      const runs = (await home.run(['runs', 'list', '--json'])).stdout;
      const sbLogs = (await home.run(['sandbox', 'logs', 'claude-test'])).stdout;
      for (const text of [r.stdout, r.stderr, add.stdout, home.logText(), runs, sbLogs]) expect(text).not.toContain(key);
      expect(home.logText()).not.toContain('CANARY-run');
    } finally {
      await server.close();
    }
  });

  it('does not leak host environment keys into the sandbox', async () => {
    const envKey = 'sk-envcanary-0123456789abcdefghij';
    await addOpenAIRoute();
    const marker = join(home.dir, 'logos', 'data', 'sandboxes', 'fake', 'workdir', '.logos', 'worker.jsonl');
    const r = await home.run(['run', '--json', 'hi'], { env: { OPENAI_API_KEY: envKey, CUSTOM_API_KEY: envKey } });
    expect(r.code).toBe(0);
    // custom provider reads CUSTOM_API_KEY on the host side and sends it upstream …
    expect(openai.requests.at(-1)?.headers.authorization).toBe(`Bearer ${envKey}`);
    // … but nothing inside the sandbox (its log) ever saw it
    expect(readFileSync(marker, 'utf8')).not.toContain(envKey);
    expect(r.stdout + r.stderr + home.logText()).not.toContain(envKey);
  });

  it.each([
    ['http-401', 'AUTH', 1],
    ['http-429', 'RATE_LIMIT', 1],
    ['http-500', 'UPSTREAM_5XX', 1],
    ['http-404', 'MODEL_NOT_FOUND', 1],
  ] as const)('classifies upstream %s as %s (exit %d)', async (scenario, code, exit) => {
    await addOpenAIRoute();
    openai.setScenario(scenario);
    const r = await home.run(['run', '--json', 'x']);
    expect(r.code).toBe(exit);
    const last = frames(r.stdout).at(-1);
    expect(last).toMatchObject({ type: 'task_result', status: 'error', error: { code, hint: expect.any(String) } });
    const human = await home.run(['run', 'x']);
    expect(human.code).toBe(exit);
    expect(human.stderr).toContain('Error:');
    expect(human.stderr).toContain('Hint:');
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ status: string; error: { code: string } }>;
    expect(runs[0]).toMatchObject({ status: 'error', error: { code } });
  });

  it('reports an unreachable model server as NETWORK with the endpoint', async () => {
    const r0 = await home.run(['route', 'add', 'custom/m', '--endpoint', 'http://127.0.0.1:9/v1', '--default']);
    expect(r0.code).toBe(0);
    const r = await home.run(['run', '--json', 'x']);
    expect(r.code).toBe(1);
    const last = frames(r.stdout).at(-1) as { error: { code: string; message: string } };
    expect(last.error.code).toBe('NETWORK');
    expect(last.error.message).toContain('127.0.0.1:9');
  });

  it('hits the deadline: TASK_TIMEOUT/TIMEOUT exit 124, nothing left running', async () => {
    await addOpenAIRoute();
    openai.setScenario({ name: 'stall', stallAfter: 2 });
    const r = await home.run(['run', '--json', '--timeout', '2s', 'stall please']);
    expect(r.code).toBe(124);
    const last = frames(r.stdout).at(-1) as Record<string, unknown>;
    const code = (last.error as { code: string }).code;
    expect(['TIMEOUT', 'TASK_TIMEOUT']).toContain(code);
    expect(homeProcesses(home.dir)).toEqual([]);
  });

  it('reports a worker killed mid-stream as SANDBOX_DISCONNECTED, promptly', async () => {
    await addOpenAIRoute();
    const { done } = await startStalledRun();
    // the worker is the node process running /opt/logos/worker.mjs under this home's bwrap
    const workers = await waitFor(() => {
      const w = sandboxWorkers(home.dir);
      return w.length > 0 ? w : undefined;
    }, 'the worker process');
    for (const w of workers) process.kill(Number(w.split(' ')[0]), 'SIGKILL');
    // Reported at once, not at the 600 s deadline: a hang here ends in the test's own timeout.
    // (How fast it is reported is measured by `npm run bench`, not asserted here.)
    const r = await done;
    expect(r.code).toBe(7);
    const last = frames(r.stdout).at(-1) as { ok: boolean; error: { code: string } };
    expect(last).toMatchObject({ ok: false, error: { code: 'SANDBOX_DISCONNECTED' } });
  });

  it('stops the worker and everything it started on SIGTERM (and Ctrl-C)', async () => {
    await addOpenAIRoute();
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const { child, done } = await startStalledRun();
      child.kill(sig);
      const r = await done;
      expect(r.code, sig).toBe(130);
      expect(frames(r.stdout).at(-1)).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
      await waitFor(() => sandboxWorkers(home.dir).length === 0, 'workers to be gone', 5000);
    }
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ status: string; error: { code: string } }>;
    expect(runs.map((x) => x.error?.code)).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('a host killed with SIGKILL leaves no sandbox behind and its run shows as interrupted', async () => {
    await addOpenAIRoute();
    const { child, done } = await startStalledRun();
    child.kill('SIGKILL');
    await done;
    // bwrap --die-with-parent takes the sandbox down with the host
    await waitFor(() => homeProcesses(home.dir).length === 0, 'the sandbox to be gone', 10_000);
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ status: string }>;
    expect(runs.map((r) => r.status)).toEqual(['interrupted']);
  });

  it('refuses a task over 4 MiB before spawning anything', async () => {
    await addOpenAIRoute();
    const big = join(home.dir, 'big.txt');
    writeFileSync(big, 'a'.repeat(4 * 1024 * 1024 + 10));
    const r = await home.run(['run', '--json', '--file', big]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout.trim().split('\n').pop() as string).error.code).toBe('TASK_TOO_LARGE');
    expect(openai.requests).toHaveLength(0);
    expect(home.log().some((l) => l.msg === 'exec start')).toBe(false);
  });
});

describe('logos run with a misbehaving worker (LOGOS_WORKER_FILE)', () => {
  const fixture = (n: string) => join(ROOT, 'test', 'fixtures', 'workers', n);

  it('a worker that exits without task_result → WORKER_EXIT_WITHOUT_RESULT with exit code and stderr tail', async () => {
    await addOpenAIRoute();
    const r = await home.run(['run', '--json', 'x'], { env: { LOGOS_WORKER_FILE: fixture('no-result.mjs') } });
    expect(r.code).toBe(7);
    const last = frames(r.stdout).at(-1) as { error: { code: string; message: string; details: { exit_code: number; stderr_tail: string } } };
    expect(last.error.code).toBe('WORKER_EXIT_WITHOUT_RESULT');
    expect(last.error.message).toContain("sandbox 'fake'");
    expect(last.error.message).toContain('code 3');
    expect(last.error.details.stderr_tail).toContain('cannot load its tools');
    const human = await home.run(['run', 'x'], { env: { LOGOS_WORKER_FILE: fixture('no-result.mjs') } });
    expect(human.stdout).toBe('partial \n');
    expect(human.stderr).toContain('cannot load its tools');
  });

  it('skips blank, non-JSON and oversized lines, passes unknown frames through, ignores frames after the result', async () => {
    await addOpenAIRoute();
    const r = await home.run(['run', '--json', 'x'], { env: { LOGOS_WORKER_FILE: fixture('noisy.mjs') } });
    expect(r.code, r.stderr).toBe(0);
    const fs = frames(r.stdout);
    expect(fs.map((f) => f.type)).toEqual(['ready', 'token', 'progress_custom', 'token', 'task_result']);
    expect(fs[2]).toMatchObject({ pct: 50 });
    const finished = home.log().find((l) => l.msg === 'task finished') as Record<string, number>;
    expect(finished).toMatchObject({ malformed_lines: 2, oversized_lines: 1, frames_after_result: 1 });
  });

  it('on deadline kills the whole sandbox, including a grandchild that ignores SIGTERM', async () => {
    await addOpenAIRoute();
    const r = await home.run(['run', '--json', '--timeout', '1500ms', 'x'], { env: { LOGOS_WORKER_FILE: fixture('spawner.mjs') } });
    expect(r.code).toBe(124);
    expect(frames(r.stdout).at(-1)).toMatchObject({ ok: false, error: { code: 'TASK_TIMEOUT' } });
    await waitFor(() => processesMatching('logos-fixture-grandchild').length === 0, 'the grandchild to be gone', 5000);
    expect(processesMatching('logos-fixture-grandchild')).toEqual([]);
  });
});

describe('a sandbox started before the CLI loads (the launcher, from the last run\'s plan)', () => {
  const planFile = (): string => join(home.dir, 'logos', 'run', 'prestart.json');
  const taskDirs = (): string[] => readdirSync(join(home.dir, 'logos', 'run')).filter((n) => n.startsWith('task-'));
  const logged = (msg: string): Array<Record<string, unknown>> => home.log().filter((l) => l.msg === msg);
  const nothingLeft = async (): Promise<void> => {
    await waitFor(() => homeProcesses(home.dir).length === 0, 'no process of this home');
    expect(taskDirs()).toEqual([]);
  };

  it('the next run with the same choice of sandbox starts early and is taken; nothing is left', async () => {
    await addOpenAIRoute();
    const first = await home.run(['run', '--json', 'one']);
    expect(first.code, first.stderr).toBe(0);
    expect(statSync(planFile()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(planFile(), 'utf8'))).toMatchObject({ v: 1, selector: 'default', file: expect.stringMatching(/bwrap$/) });
    expect(logged('sandbox started early')).toHaveLength(0);

    const second = await home.run(['run', '--json', 'two']);
    expect(second.code, second.stderr).toBe(0);
    expect(jsonLines(second.stdout).at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: two' });
    const early = logged('sandbox started early');
    expect(early).toHaveLength(1);
    expect(early[0]?.task_id).toBe((jsonLines(second.stdout).at(-1) as { task_id: string }).task_id);
    await nothingLeft();

    // Another choice of sandbox on the command line: nothing is started for it.
    const other = await home.run(['run', '--sandbox', 'fake', '--json', 'three']);
    expect(other.code, other.stderr).toBe(0);
    expect(logged('sandbox started early')).toHaveLength(1);
    expect(JSON.parse(readFileSync(planFile(), 'utf8'))).toMatchObject({ selector: 'sandbox:fake' });
    // Turned off by the environment.
    const off = await home.run(['run', '--sandbox', 'fake', '--json', 'four'], { env: { LOGOS_PRESTART: '0' } });
    expect(off.code, off.stderr).toBe(0);
    expect(logged('sandbox started early')).toHaveLength(1);
    await nothingLeft();
  });

  it('one that is not exactly the sandbox this run starts is stopped, and the run starts its own', async () => {
    await addOpenAIRoute();
    expect((await home.run(['run', '--json', 'one'])).code).toBe(0);
    const plan = JSON.parse(readFileSync(planFile(), 'utf8')) as { env: Record<string, string> };
    // Still a working sandbox, only its environment differs (as after an upgrade or a config change).
    writeFileSync(planFile(), JSON.stringify({ ...plan, env: { ...plan.env, LANG: 'C' } }), { mode: 0o600 });
    const r = await home.run(['run', '--json', 'two']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: two' });
    expect(logged('sandbox started early')).toHaveLength(0);
    expect(logged('sandbox started early not taken: it is not the one this run starts')).toHaveLength(1);
    // The plan says again how this run started its sandbox.
    expect(JSON.parse(readFileSync(planFile(), 'utf8'))).toEqual({ ...plan });
    await nothingLeft();
  });

  it('one that no run takes (the command fails first) is stopped and its directory removed', async () => {
    await addOpenAIRoute();
    expect((await home.run(['run', '--json', 'one'])).code).toBe(0);
    const bad = await home.run(['run', '--json', '--timeout', '0', 'x']);
    expect(bad.code).toBe(2);
    await nothingLeft();
    const noRoute = await home.run(['run', '--json', '--route', 'missing', 'x']);
    expect(noRoute.code).not.toBe(0);
    await nothingLeft();
  });

  it('one taken and then given up (an attachment refused after the start) is stopped and tidied away', async () => {
    await addOpenAIRoute();
    expect((await home.run(['run', '--json', 'one'])).code).toBe(0);
    // The sandbox plants a link where attachments go: refused once the early sandbox is taken.
    symlinkSync('/tmp', join(home.dir, 'logos', 'data', 'sandboxes', 'fake', 'workdir', 'attachments'));
    const file = join(home.dir, 'note.txt');
    writeFileSync(file, 'n');
    const r = await home.run(['run', '--json', '--attach', file, 'two']);
    expect(r.code, r.stderr).not.toBe(0);
    expect(logged('sandbox started early')).toHaveLength(1);
    expect(openai.requests.filter((q) => q.path.endsWith('/chat/completions'))).toHaveLength(1);
    await nothingLeft();
  });

  it('a plan others could have written is never run', async () => {
    await addOpenAIRoute();
    expect((await home.run(['run', '--json', 'one'])).code).toBe(0);
    const marker = join(home.dir, 'ran');
    const rogue = { v: 1, selector: 'default', file: '/bin/sh', args: ['-c', `touch ${marker}`], env: { PATH: '/usr/bin:/bin' }, fds: [] };
    writeFileSync(planFile(), JSON.stringify(rogue));
    chmodSync(planFile(), 0o666);
    const r = await home.run(['run', '--json', 'two']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    // The same file, this user's own and private, is what the launcher runs (the check above is not vacuous);
    // the run still uses a sandbox of its own.
    writeFileSync(planFile(), JSON.stringify(rogue));
    chmodSync(planFile(), 0o600);
    const r2 = await home.run(['run', '--json', 'three']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
    expect(jsonLines(r2.stdout).at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: three' });
    await nothingLeft();
  });
});
