import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { homeProcesses } from '../helpers/logos.js';
import { closedPort } from '../helpers/net.js';
import { makeOsHome, type OsHome } from '../helpers/openshell-home.js';

/**
 * The daemon beside an OpenShell gateway (the fakes): gateways are probed on the
 * daemon's own schedule and their changes published; sandboxes on a gateway are
 * asked for their phase on a slower loop than the 2 s snapshot.
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
  os = makeOsHome({ FAKE_OPENSHELL_VERSION: '0.0.116' });
});
afterEach(async () => {
  await os.home.run(['daemon', 'stop']);
  os.cleanup();
});

function getJson(port: number, token: string, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    })
      .on('error', reject)
      .end();
  });
}

async function until<T>(fn: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Gw {
  name: string;
  reachable: boolean;
  status: string;
  version?: string;
}

describe('the daemon and OpenShell', () => {
  it('probes gateways on its schedule, publishes gateway.status_changed, and asks for sandbox phases on the slow loop', async () => {
    expect((await os.home.run(['gateway', 'up'])).code).toBe(0);
    expect((await os.home.run(['route', 'add', 'custom/m', '--endpoint', model.url, '--name', 'r1', '--default'])).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
    os.writeConfig({ daemonProbeSec: 1, daemonSandboxSec: 30, imageMinFreeDiskBytes: 0, imageMinFreeMemBytes: 0 });

    const port = await closedPort();
    const started = await os.home.run(['daemon', 'start', '--port', String(port), '--json']);
    expect(started.code, started.stderr).toBe(0);
    const token = readFileSync((JSON.parse(started.stdout) as { token_file: string }).token_file, 'utf8').trim();
    const startedAt = Date.now();
    const getsAtStart = os.openshellCalls().filter((a) => a.includes('sandbox') && a.includes('get')).length;

    // The probe loop fills in what the snapshot alone calls "not probed".
    const up = await until(async () => {
      const s = (await getJson(port, token, '/v1/status')) as { gateways: Gw[] };
      return s.gateways.find((g) => g.name === 'logos' && g.reachable);
    }, 'the gateway probed as reachable');
    expect(up.status).toBe('connected');
    expect(up.version).toBe('0.0.116');

    // Stop the gateway's container behind Logos' back: the next probe says so, as an event.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events?types=gateway.*`, { headers: { authorization: `Bearer ${token}` } });
    const events: Array<{ type: string; entity: { id: string }; payload: { reachable: boolean } }> = [];
    ws.on('message', (m: Buffer) => {
      for (const e of JSON.parse(m.toString()) as typeof events) if (e.type === 'gateway.status_changed') events.push(e);
    });
    await new Promise((r) => ws.once('open', r));
    const ps = spawnSync('docker', ['ps', '--format', '{{.Names}}'], { env: { ...process.env, ...os.fake.env }, encoding: 'utf8' });
    const container = ps.stdout.split('\n').find((n) => n.includes('logos'));
    expect(container, ps.stdout + ps.stderr).toBeTruthy();
    expect(spawnSync('docker', ['stop', container as string], { env: { ...process.env, ...os.fake.env } }).status).toBe(0);
    const down = await until(async () => events.find((e) => e.entity.id === 'logos' && e.payload.reachable === false), 'gateway.status_changed (unreachable)');
    expect(down.payload.reachable).toBe(false);
    const s = (await getJson(port, token, '/v1/status')) as { gateways: Gw[]; sandboxes: Array<{ name: string; phase: string }> };
    expect(s.gateways.find((g) => g.name === 'logos')?.reachable).toBe(false);
    ws.close();

    await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 5000 - Date.now())));
    // Several 2 s snapshots went by; with daemonSandboxSec 30 none of them asked the gateway for the sandbox again.
    expect(s.sandboxes.map((x) => x.name)).toEqual(['work']);
    const getsNow = os.openshellCalls().filter((a) => a.includes('sandbox') && a.includes('get')).length;
    expect(getsNow - getsAtStart).toBe(0);
  }, 60_000);

  it('after a reboot: brings back the local gateway it started, looks at its sandboxes again, and says so; a gateway taken down stays down', async () => {
    expect((await os.home.run(['gateway', 'up'])).code).toBe(0);
    expect((await os.home.run(['route', 'add', 'custom/m', '--endpoint', model.url, '--name', 'r1', '--default'])).code).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
    os.writeConfig({ imageMinFreeDiskBytes: 0, imageMinFreeMemBytes: 0 });
    const docker = (...args: string[]) => spawnSync('docker', args, { env: { ...process.env, ...os.fake.env }, encoding: 'utf8' });
    const running = (): string[] => docker('ps', '--format', '{{.Names}}').stdout.split('\n').filter((n) => n.includes('logos'));
    const container = running()[0] as string;
    expect(container).toBeTruthy();
    // The machine went down and the container did not come back with it.
    expect(docker('stop', container).status).toBe(0);
    expect(running()).toEqual([]);

    const port = await closedPort();
    const started = await os.home.run(['daemon', 'start', '--port', String(port), '--json']);
    expect(started.code, started.stderr).toBe(0);
    const token = readFileSync((JSON.parse(started.stdout) as { token_file: string }).token_file, 'utf8').trim();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events?types=daemon.*&since=0`, { headers: { authorization: `Bearer ${token}` } });
    const events: Array<{ type: string; payload: { gateways: Array<{ name: string; action: string }>; sandboxes: Array<{ name: string; phase: string }> } }> = [];
    ws.on('message', (m: Buffer) => {
      for (const e of JSON.parse(m.toString()) as typeof events) if (e.type === 'daemon.recovered') events.push(e);
    });
    const recovered = await until(async () => events[0], 'daemon.recovered', 30_000);
    ws.close();
    expect(recovered.payload.gateways).toEqual([expect.objectContaining({ name: 'logos', action: 'started' })]);
    expect(recovered.payload.sandboxes).toEqual([expect.objectContaining({ name: 'work', phase: 'Ready' })]);
    expect(running()).toEqual([container]);
    const restart = JSON.parse(docker('inspect', container).stdout) as Array<{ HostConfig?: { RestartPolicy?: { Name?: string } } }>;
    expect(restart[0]?.HostConfig?.RestartPolicy?.Name).toBe('unless-stopped');
    const s = (await getJson(port, token, '/v1/status')) as { sandboxes: Array<{ name: string }> };
    expect(s.sandboxes.map((x) => x.name)).toEqual(['work']);
    // The log says what was done.
    const tail = await os.home.run(['debug', 'tail', '--json', '--filter', 'source=daemon', '-n', '200']);
    const msgs = tail.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toContain('bringing a local gateway back');
    expect(msgs).toContain('recovery after start');

    // Taken down on purpose: a restart of the daemon leaves it down.
    expect((await os.home.run(['daemon', 'stop'])).code).toBe(0);
    expect((await os.home.run(['gateway', 'down'])).code).toBe(0);
    expect((await os.home.run(['daemon', 'start', '--port', String(port)])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect(running()).toEqual([]);
  }, 90_000);

  it('stops the processes a killed logos left behind (found by their owner tag, never by name); others are left alone', async () => {
    expect((await os.home.run(['gateway', 'up'])).code).toBe(0);
    model.setScenario({ name: 'stall', stallAfter: 2 });
    try {
      expect((await os.home.run(['route', 'add', 'custom/m', '--endpoint', model.url, '--name', 'r1', '--default'])).code).toBe(0);
      expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
      // The 0.0.x fake runs the worker on the host, where inference.local does not resolve.
      const run = os.home.start(['run', '--json', '--no-tools', 'stall please'], { env: { OPENAI_BASE_URL: model.url } });
      let out = '';
      run.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      await until(async () => (out.includes('"type":"token"') ? true : undefined), 'the first token', 30_000);
      let decoyPid = -1;
      const execs = (): string[] => homeProcesses(os.home.dir).filter((p) => / sandbox exec /.test(p) && Number(p.split(' ')[0]) !== decoyPid);
      const before = execs();
      expect(before.length, `${homeProcesses(os.home.dir).join('\n')}\n${out}`).toBeGreaterThan(0);
      // A process that looks the same by name but was not started by Logos.
      const decoy = spawn('bash', ['-c', 'exec -a "openshell sandbox exec --name work -- decoy" sleep 120'], { stdio: 'ignore', env: { ...process.env, ...os.home.env } });
      decoyPid = decoy.pid as number;
      try {
        // The host dies without running any exit hook: its openshell exec stays.
        run.child.kill('SIGKILL');
        await run.done;
        await new Promise((r) => setTimeout(r, 1000));
        expect(execs()).toEqual(before);

        const port = await closedPort();
        const started = await os.home.run(['daemon', 'start', '--port', String(port), '--json']);
        expect(started.code, started.stderr).toBe(0);
        const token = readFileSync((JSON.parse(started.stdout) as { token_file: string }).token_file, 'utf8').trim();
        await until(async () => (execs().length === 0 ? true : undefined), 'the orphaned exec to be stopped', 30_000);
        const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events?types=daemon.reaped&since=0`, { headers: { authorization: `Bearer ${token}` } });
        const reaped = await new Promise<Array<{ payload: { processes: Array<{ pid: number; command: string }> } }>>((resolve) => {
          ws.on('message', (m: Buffer) => {
            const evs = (JSON.parse(m.toString()) as Array<{ type: string; payload: { processes: Array<{ pid: number; command: string }> } }>).filter((e) => e.type === 'daemon.reaped');
            if (evs.length > 0) resolve(evs);
          });
        });
        ws.close();
        const pids = reaped.flatMap((e) => e.payload.processes.map((p) => p.pid));
        for (const line of before) expect(pids).toContain(Number(line.split(' ')[0]));
        expect(pids).not.toContain(decoy.pid);
        expect(decoy.exitCode).toBeNull();
        expect(() => process.kill(decoy.pid as number, 0)).not.toThrow();
      } finally {
        decoy.kill('SIGKILL');
      }
    } finally {
      model.setScenario('plain');
    }
  }, 90_000);
});
