import { appendFileSync } from 'node:fs';
import { currentLogFile } from '../../src/log/files.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app/context.js';
import { DaemonSource } from '../../src/cli/dashboard/daemon-source.js';
import { FilesSource } from '../../src/cli/dashboard/files-source.js';
import { findDaemon } from '../../src/daemon/client.js';
import { resolvePaths } from '../../src/store/paths.js';
import type { DataSource, FrameView, Snapshot, Update } from '../../src/tui/model.js';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { makeHome, waitFor, type Home } from '../helpers/logos.js';
import { closedPort } from '../helpers/net.js';

/**
 * The dashboard's two data sources against the real thing: the daemon started by the
 * CLI (its API and event stream), and the state files and log of a home with no
 * daemon. Runs use the real worker in the bwrap sandbox and a fake model server.
 */

let openai: FakeModelServer;
let home: Home;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  openai.setScenario('plain');
});
afterAll(async () => {
  await openai.close();
});
beforeEach(async () => {
  home = makeHome();
  const r = await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'fake', '--default']);
  expect(r.code, r.stderr).toBe(0);
  expect((await home.run(['sandbox', 'create', 'work'])).code).toBe(0);
});
afterEach(async () => {
  await home.run(['daemon', 'stop']);
  home.cleanup();
});

/** Everything a source pushes, with waits on it. */
function collect(source: DataSource) {
  const updates: Update[] = [];
  const stop = source.subscribe((u) => updates.push(u));
  const snapshots = (): Snapshot[] => updates.flatMap((u) => (u.kind === 'snapshot' ? [u.snapshot] : []));
  const latest = (): Snapshot | undefined => snapshots().at(-1);
  const framesOf = (id: string): FrameView[] => updates.flatMap((u) => (u.kind === 'frame' && u.runId === id ? [u.frame] : []));
  const runUpdates = (id: string) => updates.flatMap((u) => (u.kind === 'run' && u.run.id === id ? [u.run] : []));
  const logs = () => updates.flatMap((u) => (u.kind === 'log' ? u.records : []));
  const notices = () => updates.flatMap((u) => (u.kind === 'notice' ? [u.text] : []));
  return { updates, stop, snapshots, latest, framesOf, runUpdates, logs, notices };
}

async function startDaemonCli(): Promise<void> {
  const r = await home.run(['daemon', 'start', '--port', String(await closedPort()), '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/** What a run's frames say, in the order of their seq, without the seq. */
function ordered(frames: FrameView[]): string[] {
  return [...frames].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0)).map((f) => f.type);
}

describe('the daemon source', () => {
  it('a snapshot at once, then frames, runs, logs and changes as events; actions go through the API', async () => {
    await startDaemonCli();
    const paths = resolvePaths(home.env);
    const source = new DaemonSource(() => findDaemon(paths), { pollMs: 60_000 });
    const c = collect(source);
    try {
      const first = await waitFor(() => c.latest(), 'the first snapshot');
      expect(first.daemon).toMatchObject({ running: true, version: expect.any(String) });
      expect(first.routes).toEqual([expect.objectContaining({ name: 'fake', provider: 'custom', model: 'fake-model', isDefault: true })]);
      expect(first.sandboxes).toEqual([expect.objectContaining({ name: 'work', driver: 'local', phase: 'ready', running: 0 })]);

      // An action, and the change comes back as an event (no poll: pollMs is a minute).
      await source.createSandbox('play', 'fake');
      await waitFor(() => c.latest()?.sandboxes.some((s) => s.name === 'play'), 'the new sandbox in the snapshot');

      const { id } = await source.startRun({ sandbox: 'work', message: 'hello there' });
      const done = await waitFor(() => c.runUpdates(id).find((r) => r.status === 'ok'), 'the run to end ok');
      expect(done).toMatchObject({ sandbox: 'work', route: 'fake', promptPreview: 'hello there' });
      await waitFor(() => c.framesOf(id).some((f) => f.type === 'task_result'), 'the result frame');
      const live = c.framesOf(id);
      expect(ordered(live)[0]).toBe('ready');
      expect(live.map((f) => f.seq)).toEqual(live.map((_, i) => i));
      // Opening the run later: the same frames, with the same seq (the view drops those it has).
      const fetched = await source.runFrames(id);
      expect(fetched.map((f) => [f.seq, f.type])).toEqual(live.map((f) => [f.seq, f.type]));

      // The log: recent records, and new ones as they are written.
      const recent = await source.recentLogs(50);
      expect(recent.some((r) => r.msg === 'daemon started')).toBe(true);
      appendFileSync(currentLogFile(paths.logs), `${JSON.stringify({ ts: new Date().toISOString(), level: 'warn', source: 'test', msg: 'written by hand', sandbox: 'work' })}\n`);
      const rec = await waitFor(() => c.logs().find((r) => r.msg === 'written by hand'), 'the new log record');
      expect(rec).toMatchObject({ level: 'warn', source: 'test', fields: { sandbox: 'work' } });

      // Providers probed now (not from the cache): the route's reason in the next snapshot.
      await source.refreshProviders();
      await waitFor(() => c.latest()?.routes[0]?.reason === 'OK', 'the probed route');

      // A failure carries the daemon's reason code and hint.
      await expect(source.cancelRun('t_nosuchrun00000')).rejects.toMatchObject({ code: 'NOT_FOUND', hint: expect.any(String) });
      await expect(source.createSandbox('work', 'fake')).rejects.toMatchObject({ code: expect.stringMatching(/EXISTS|CONFLICT/) });

      // A run started by the CLI while the daemon runs shows up too.
      const cli = await home.run(['run', '--json', '--sandbox', 'play', 'from the terminal']);
      expect(cli.code, cli.stderr).toBe(0);
      await waitFor(() => c.latest()?.runs.some((r) => r.promptPreview === 'from the terminal' && r.status === 'ok'), 'the CLI run in the snapshot');
    } finally {
      c.stop();
    }
  }, 90_000);

  it('says when the daemon goes away, and finds it again when it comes back', async () => {
    await startDaemonCli();
    const paths = resolvePaths(home.env);
    const source = new DaemonSource(() => findDaemon(paths), { retryMs: 100, maxRetryMs: 500 });
    const c = collect(source);
    try {
      await waitFor(() => c.latest()?.daemon.running, 'connected');
      const firstPid = findDaemon(paths)?.info.pid;
      expect((await home.run(['daemon', 'stop'])).code).toBe(0);
      await waitFor(() => c.latest()?.daemon.running === false, 'the daemon shown as stopped');
      // The picture stays as last seen meanwhile.
      expect(c.latest()?.sandboxes.map((s) => s.name)).toEqual(['work']);
      await expect(source.syncRoute('fake')).rejects.toMatchObject({ code: 'DAEMON_NOT_RUNNING' });
      await startDaemonCli();
      expect(findDaemon(paths)?.info.pid).not.toBe(firstPid);
      await waitFor(() => c.latest()?.daemon.running === true, 'connected again');
      // Events flow from the new daemon (its sequence starts again).
      await source.createSandbox('after', 'fake');
      await waitFor(() => c.latest()?.sandboxes.some((s) => s.name === 'after'), 'an event from the new daemon');
      expect(c.notices().some((n) => /Lost the connection/.test(n))).toBe(true);
    } finally {
      c.stop();
    }
  }, 90_000);
});

describe('the files source (no daemon)', () => {
  it('polls the state, follows the log, runs tasks in-process with live frames, and tells what it cannot do', async () => {
    const app = createApp(home.env);
    const source = new FilesSource(app, { pollMs: 200 });
    const c = collect(source);
    try {
      const first = await waitFor(() => c.latest(), 'the first snapshot');
      expect(source.mode).toBe('files');
      expect(first.daemon.running).toBe(false);
      expect(first.sandboxes.map((s) => s.name)).toEqual(['work']);

      // Changes made elsewhere (another terminal) show at the next poll.
      expect((await home.run(['sandbox', 'create', 'other'])).code).toBe(0);
      await waitFor(() => c.latest()?.sandboxes.some((s) => s.name === 'other'), 'the sandbox made by the CLI');
      const cli = await home.run(['run', '--json', '--sandbox', 'other', 'from the terminal']);
      expect(cli.code, cli.stderr).toBe(0);
      const cliRun = await waitFor(() => c.latest()?.runs.find((r) => r.promptPreview === 'from the terminal' && r.status !== 'running'), 'the CLI run, ended');
      expect(cliRun).toMatchObject({ status: 'ok', sandbox: 'other', route: 'fake' });
      // Its frames are gone with the process that ran it: the outcome from the record.
      const recorded = await source.runFrames(cliRun.id);
      expect(recorded).toEqual([expect.objectContaining({ type: 'task_result', status: 'ok', from_record: true })]);
      // The log as it is written (the CLI's own records).
      await waitFor(() => c.logs().some((r) => r.msg === 'sandbox created' && r.fields.sandbox === 'other'), 'the CLI log record');

      // A run started here: frames live, with seq; then its record.
      const { id } = await source.startRun({ sandbox: 'work', message: 'hello from the dashboard' });
      await waitFor(() => c.runUpdates(id).find((r) => r.status === 'ok'), 'the run to end ok');
      const live = c.framesOf(id);
      expect(ordered(live)[0]).toBe('ready');
      expect(ordered(live).at(-1)).toBe('task_result');
      expect(live.map((f) => f.seq)).toEqual(live.map((_, i) => i));
      await waitFor(() => c.latest()?.runs.some((r) => r.id === id && r.status === 'ok'), 'the run in the snapshot');

      await expect(source.cancelRun(cliRun.id)).rejects.toMatchObject({ code: 'NOT_FOUND', hint: expect.stringContaining('daemon') });
      await source.deleteSandbox('other');
      await waitFor(() => !c.latest()?.sandboxes.some((s) => s.name === 'other'), 'the sandbox gone');
    } finally {
      c.stop();
      await source.close();
    }
  }, 90_000);

  it('cancels a run it started, and cancels the rest when it closes', async () => {
    openai.setScenario({ name: 'stall', stallAfter: 2 });
    const app = createApp(home.env);
    const source = new FilesSource(app, { pollMs: 200 });
    const c = collect(source);
    try {
      const a = await source.startRun({ sandbox: 'work', message: 'stall one' });
      await waitFor(() => c.framesOf(a.id).some((f) => f.type === 'token'), 'the first token');
      expect(source.runsInFlight).toBe(1);
      await source.cancelRun(a.id);
      const ended = await waitFor(() => c.runUpdates(a.id).at(-1), 'the cancelled run');
      expect(ended).toMatchObject({ status: 'error', error: { code: 'CANCELLED' } });

      const b = await source.startRun({ sandbox: 'work', message: 'stall two' });
      await waitFor(() => c.framesOf(b.id).some((f) => f.type === 'token'), 'the second run streaming');
      c.stop();
      await source.close();
      expect(source.runsInFlight).toBe(0);
      const rec = await app.runs.get(b.id);
      expect(rec).toMatchObject({ status: 'error', error: { code: 'CANCELLED' } });
    } finally {
      openai.setScenario('plain');
      c.stop();
    }
  }, 90_000);
});
