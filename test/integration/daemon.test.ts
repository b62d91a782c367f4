import { createServer } from 'node:net';
import { request } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { closedPort } from '../helpers/net.js';
import { makeHome, sandboxWorkers, waitFor, type Home } from '../helpers/logos.js';

/**
 * The daemon through the real binary: started on a random loopback port, used with
 * real HTTP, SSE and WebSocket clients, killed with SIGKILL.
 */

let openai: FakeModelServer;
let home: Home;
beforeAll(async () => {
  openai = await startFakeOpenAI();
});
afterAll(async () => {
  await openai.close();
});
beforeEach(async () => {
  home = makeHome();
  const r = await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'fake', '--default']);
  expect(r.code, r.stderr).toBe(0);
});
afterEach(async () => {
  await home.run(['daemon', 'stop']);
  home.cleanup();
});

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Started {
  port: number;
  token: string;
}

async function startDaemon(): Promise<Started> {
  const port = await closedPort();
  const r = await home.run(['daemon', 'start', '--port', String(port), '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { port: number; token_file: string };
  expect(out.port).toBe(port);
  return { port, token: readFileSync(out.token_file, 'utf8').trim() };
}

function http(d: Started, method: string, path: string, body?: unknown, token: string | null = d.token): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port: d.port, method, path, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (x: string) => (text += x));
      res.on('end', () => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // SSE or empty
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('logos daemon', () => {
  it('a port already taken: start says so, with the daemon\'s own reason and hint', async () => {
    const port = await closedPort();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const r = await home.run(['daemon', 'start', '--port', String(port)]);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`The daemon exited at start-up (code 4): Port ${port} on 127.0.0.1 is in use`);
      expect(r.stderr).toContain('logos config set daemonPort');
      const j = await home.run(['daemon', 'start', '--port', String(port), '--json']);
      expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'DAEMON_UNAVAILABLE', hint: expect.stringContaining('daemonPort') } });
    } finally {
      blocker.close();
    }
  });

  it('starts once per home, reports itself, keeps its token private, and stops', async () => {
    const d = await startDaemon();
    const again = await home.run(['daemon', 'start', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ already_running: true, port: d.port });
    const st = await home.run(['daemon', 'status', '--json']);
    expect(JSON.parse(st.stdout)).toMatchObject({ running: true, port: d.port, token_mode: '0600' });
    expect(statSync(join(home.dir, 'logos', 'state', 'daemon')).mode & 0o777).toBe(0o700);
    // A second daemon in the foreground is refused while this one runs.
    const second = await home.run(['daemon', 'run', '--port', '0', '--json']);
    expect(second.code).toBe(4);
    expect(JSON.parse(second.stdout).error.code).toBe('ALREADY_EXISTS');
    const pid = (JSON.parse(st.stdout) as { pid: number }).pid;
    expect((await home.run(['daemon', 'stop'])).code).toBe(0);
    // Stopped means gone (not only its pid file): nothing writes into the home any more.
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
    const after = await home.run(['daemon', 'status', '--json']);
    expect(after.code).toBe(3);
    expect(JSON.parse(after.stdout)).toEqual({ ok: false, running: false });
  });

  it('requires the token for everything but /health; status matches `logos status --json`', async () => {
    const d = await startDaemon();
    expect((await http(d, 'GET', '/v1/health', undefined, null)).status).toBe(200);
    const anon = await http(d, 'GET', '/v1/status', undefined, null);
    expect(anon.status).toBe(401);
    expect(anon.json).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect((await http(d, 'GET', '/v1/status', undefined, 'x'.repeat(43))).status).toBe(401);
    const s = await http(d, 'GET', '/v1/status');
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ daemon: { running: true, port: d.port }, routes: [{ name: 'fake', default: true }] });
    const cli = JSON.parse((await home.run(['status', '--json'])).stdout) as Record<string, unknown>;
    expect(Object.keys(cli).sort()).toEqual(Object.keys(s.json).sort());
    expect(cli.daemon).toMatchObject({ running: true, port: d.port });
    expect((await http(d, 'GET', '/v1/ready')).json).toMatchObject({ ok: true });
    expect((await http(d, 'GET', '/v1/routes')).json).toMatchObject({ items: [{ name: 'fake' }] });
  });

  it('logos run --daemon: the daemon runs it, the event stream sees its frames, the CLI shows it as a run made here', async () => {
    const local = await home.run(['run', '--json', '--no-tools', 'hello here']);
    expect(local.code, local.stderr).toBe(0);
    const d = await startDaemon();
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}/v1/events?types=run.*`, { headers: { authorization: `Bearer ${d.token}` } });
    const wsEvents: Array<{ type: string; entity: { id: string } }> = [];
    ws.on('message', (m) => wsEvents.push(...(JSON.parse(String(m)) as typeof wsEvents)));
    await new Promise((r) => ws.once('open', r));
    const r = await home.run(['run', '--daemon', '--json', '--no-tools', '--max-tokens', '64', 'hello there']);
    expect(r.code, r.stderr).toBe(0);
    const frames = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const localFrames = local.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // The same frames as a run made here (the daemon's position field left out).
    expect(frames.map((f) => f.type)).toEqual(localFrames.map((f) => f.type));
    expect(frames.every((f) => !('seq' in f))).toBe(true);
    expect(frames.at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'Echo: hello there' });
    const id = frames.at(-1)?.task_id as string;
    await waitFor(() => wsEvents.some((e) => e.type === 'run.completed' && e.entity.id === id), 'run.completed on the stream');
    expect(wsEvents.filter((e) => e.type === 'run.frame' && e.entity.id === id).length).toBe(frames.length);
    ws.close();
    // The request reached the model with the options given here.
    expect(openai.requests.at(-1)?.body).toMatchObject({ max_tokens: 64 });
    // For a person: the reply on stdout.
    const human = await home.run(['run', '--daemon', 'hi again']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('Echo: hi again');
    // What the daemon refuses comes back with its code.
    const bad = await home.run(['run', '--daemon', '--json', '--sandbox', 'nope', 'x']);
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stdout.trim().split('\n').at(-1) as string)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((await home.run(['daemon', 'stop'])).code).toBe(0);
    const none = await home.run(['run', '--daemon', '--json', 'x']);
    expect(none.code).toBe(3);
    expect(JSON.parse(none.stdout)).toMatchObject({ ok: false, error: { code: 'DAEMON_NOT_RUNNING', hint: expect.stringContaining('logos daemon start') } });
  });

  it('logos run --daemon: Ctrl-C cancels it in the daemon (130), and nothing is left running', async () => {
    openai.setScenario({ name: 'stall', stallAfter: 2 });
    try {
      await startDaemon();
      const { child, done } = home.start(['run', '--daemon', '--json', '--no-tools', 'stall please']);
      let out = '';
      child.stdout?.on('data', (x: Buffer) => (out += x.toString()));
      await waitFor(() => out.includes('"type":"token"'), 'the first token');
      child.kill('SIGINT');
      const r = await done;
      expect(r.code).toBe(130);
      expect(JSON.parse(out.trim().split('\n').at(-1) as string)).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
      await waitFor(() => sandboxWorkers(home.dir).length === 0, 'the worker gone');
      const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: Array<{ status: string; error?: { code: string } }> }).items;
      expect(runs[0]).toMatchObject({ status: 'error', error: { code: 'CANCELLED' } });
    } finally {
      openai.setScenario('plain');
    }
  });

  it('dispatches a run (202 at once), streams its events by SSE and WebSocket, and records it', async () => {
    const d = await startDaemon();
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}/v1/events?types=run.*`, { headers: { authorization: `Bearer ${d.token}` } });
    const wsEvents: Array<{ type: string; entity?: { id: string } }> = [];
    ws.on('message', (m) => wsEvents.push(...(JSON.parse(String(m)) as Array<{ type: string }>)));
    await new Promise((r) => ws.once('open', r));
    const post = await http(d, 'POST', '/v1/runs', { message: 'hello daemon', sandbox: undefined, tools: false });
    expect(post.status).toBe(202);
    const id = post.json.id as string;
    expect(id).toMatch(/^t_/);
    const sse = await http(d, 'GET', `/v1/runs/${id}/events`);
    const events = sse.text.split('\n\n').filter((b) => b.includes('event:')).map((b) => /event: (\S+)/.exec(b)?.[1]);
    expect(events.at(-1)).toBe('run.completed');
    expect(events).toContain('run.frame');
    expect(sse.text).toContain('Echo: hello daemon');
    await waitFor(() => wsEvents.some((e) => e.type === 'run.completed' && e.entity?.id === id), 'the WebSocket to see the run end');
    ws.close();
    const rec = await http(d, 'GET', `/v1/runs/${id}`);
    expect(rec.json).toMatchObject({ id, status: 'ok' });
    const list = await http(d, 'GET', '/v1/runs?limit=1');
    expect(list.json).toMatchObject({ items: [{ id }], total: 1, limit: 1 });
  });

  it('cancels a run in flight; nothing is left running', async () => {
    openai.setScenario({ name: 'stall', stallAfter: 2 });
    try {
      const d = await startDaemon();
      const post = await http(d, 'POST', '/v1/runs', { message: 'stall please', tools: false });
      const id = post.json.id as string;
      await waitFor(() => sandboxWorkers(home.dir).length > 0, 'the worker');
      const cancel = await http(d, 'POST', `/v1/runs/${id}/cancel`);
      expect(cancel.status).toBe(202);
      await until(async () => ((await http(d, 'GET', `/v1/runs/${id}`)).json.status as string) === 'error', 'the run to end');
      expect((await http(d, 'GET', `/v1/runs/${id}`)).json).toMatchObject({ error: { code: 'CANCELLED' } });
      expect((await http(d, 'POST', `/v1/runs/${id}/cancel`)).status).toBe(404);
      expect(sandboxWorkers(home.dir)).toEqual([]);
    } finally {
      openai.setScenario('plain');
    }
  });

  it('killed with SIGKILL: the next start cleans up the stale pid file and nothing is lost', async () => {
    const d = await startDaemon();
    const post = await http(d, 'POST', '/v1/runs', { message: 'before the crash', tools: false });
    await http(d, 'GET', `/v1/runs/${post.json.id as string}/events`);
    const pid = (JSON.parse((await home.run(['daemon', 'status', '--json'])).stdout) as { pid: number }).pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ? true : undefined;
      } catch {
        return true; // gone
      }
    }, 'the daemon to die');
    expect((await home.run(['daemon', 'status'])).code).toBe(3);
    const d2 = await startDaemon();
    const runs = await http(d2, 'GET', '/v1/runs');
    expect(runs.json).toMatchObject({ total: 1, items: [{ id: post.json.id, status: 'ok' }] });
  });

  it('a run made by the CLI shows up as events too; the log is served with the tail filters', async () => {
    const d = await startDaemon();
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}/v1/events?types=run.*,log.record`, { headers: { authorization: `Bearer ${d.token}` } });
    const seen: Array<{ type: string; entity?: { id: string }; payload?: Record<string, unknown> }> = [];
    ws.on('message', (m) => seen.push(...(JSON.parse(String(m)) as typeof seen)));
    await new Promise((r) => ws.once('open', r));
    const r = await home.run(['run', '--no-tools', '--json', 'from the cli']);
    expect(r.code, r.stderr).toBe(0);
    const id = (JSON.parse(r.stdout.trim().split('\n')[0] as string) as { task_id: string }).task_id;
    await waitFor(() => seen.some((e) => e.type === 'run.completed' && e.entity?.id === id), 'the daemon to notice the CLI run');
    await waitFor(() => seen.some((e) => e.type === 'log.record' && e.payload?.task_id === id), 'the run\'s log records as events');
    ws.close();
    const logs = await http(d, 'GET', `/v1/logs?lines=5&filter=task_id=${id}&level=info`);
    expect(logs.status).toBe(200);
    const items = logs.json.items as Array<{ task_id: string; level: string }>;
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThanOrEqual(5);
    for (const it of items) expect(it).toMatchObject({ task_id: id });
    expect(items.every((it) => it.level !== 'debug')).toBe(true);
    expect((await http(d, 'GET', '/v1/logs?level=loud')).status).toBe(400);
  });
});

