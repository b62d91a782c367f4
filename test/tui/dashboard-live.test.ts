import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { makeHome, type Home } from '../helpers/logos.js';
import { closedPort } from '../helpers/net.js';
import { has, logosArgv, screenWith as screenWithin, shellAround, TmuxSession } from '../helpers/tty.js';

/** These run a real daemon, sandbox and model: 30 s per wait, as before. */
const screenWith = (s: TmuxSession, pred: (screen: string) => boolean, what: string): Promise<string> => screenWithin(s, pred, what, 30_000);

/**
 * `logos dashboard` itself in a real terminal (tmux), on real data: the daemon the
 * CLI starts, or the state files with no daemon; tasks run by the real worker in the
 * bwrap sandbox against a fake model server. The shell prints how the dashboard
 * ended, so after `q` its screen must be the shell's again.
 */

let openai: FakeModelServer;
let home: Home;
let session: TmuxSession | undefined;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  openai.setScenario('plain');
});
afterAll(async () => {
  await openai.close();
});
beforeEach(async () => {
  home = makeHome();
  expect((await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'fake', '--default'])).code).toBe(0);
  expect((await home.run(['sandbox', 'create', 'work'])).code).toBe(0);
});
afterEach(async () => {
  session?.close();
  session = undefined;
  await home.run(['daemon', 'stop']);
  home.cleanup();
});

function open(args: string[], size = { columns: 120, rows: 40 }): TmuxSession {
  // CI set, as on a CI machine: ink would draw only its last frame, but the dashboard is on a terminal.
  const env: NodeJS.ProcessEnv = { ...home.env, CI: 'true' };
  session = new TmuxSession(env, shellAround(logosArgv(['dashboard', ...args])), size);
  return session;
}

async function quit(s: TmuxSession): Promise<void> {
  s.type('q');
  const screen = await screenWith(s, has('after: exit 0'), 'the shell after the dashboard');
  expect(screen).toContain('shell before');
  expect(screen).not.toContain('Logos ·');
  expect(s.format('#{alternate_on}')).toBe('0');
}

async function startDaemon(): Promise<void> {
  const r = await home.run(['daemon', 'start', '--port', String(await closedPort())]);
  expect(r.code, r.stderr).toBe(0);
}

describe('logos dashboard on real data', () => {
  it('with the daemon, 120×40: a filter, an agent task with a tool call streaming to its reply, a confirmation, a run from another terminal live', async () => {
    openai.setScript('echo42', { steps: [{ text: 'Running it.', toolCalls: [{ name: 'shell', arguments: { command: 'echo 42' } }] }, { text: 'It printed 42.' }] });
    expect((await home.run(['route', 'add', 'custom/agent:echo42', '--endpoint', openai.url, '--name', 'agent'])).code).toBe(0);
    expect((await home.run(['sandbox', 'create', 'tools', '--route', 'agent'])).code).toBe(0);
    await startDaemon();
    const s = open([]);
    let screen = await screenWith(s, has('Logos · daemon running', 'Sandboxes 2'), 'the dashboard');
    for (const t of ['Gateways 0', 'Routes 2', '▸ Runs 0', 'Log ']) expect(screen).toContain(t);
    expect(screen).toMatch(/fake \* +custom\/fake-model/);
    expect(screen).toMatch(/work +local +ready +fake/);

    // A filter narrows the sandboxes to one; the task goes to it.
    s.type(':sb');
    s.keys('Enter');
    await screenWith(s, has('▸ Sandboxes'), 'sandboxes');
    s.type('/tools');
    s.keys('Enter');
    screen = await screenWith(s, has('▸ Sandboxes 1/2'), 'the filtered sandboxes');
    expect(screen).not.toMatch(/work +local/);
    s.type('r');
    await screenWith(s, has('Task for tools:'), 'the task prompt');
    s.type('print 42 for me');
    s.keys('Enter');
    await screenWith(s, has('Session (optional'), 'the session prompt');
    s.keys('Enter');
    screen = await screenWith(s, has('It printed 42.', '✓ done in'), 'the reply and the result');
    expect(screen).toMatch(/Sandboxes › run t_\w+ › frames/);
    expect(screen).toContain('Running it.');
    expect(screen).toMatch(/▹ shell {2}echo 42 {2}✓ exit 0/);

    // Deleting a sandbox asks first; declining changes nothing.
    s.keys('Escape');
    await screenWith(s, has('▸ Sandboxes'), 'sandboxes again');
    s.type('d');
    await screenWith(s, has('Delete sandbox tools and its files? [y/N]'), 'the question');
    s.type('n');
    await screenWith(s, has('Nothing done.'), 'declined');
    expect((await home.run(['sandbox', 'show', 'tools'])).code).toBe(0);

    // A run started elsewhere shows in the Runs pane without touching the dashboard.
    s.keys('Escape');
    s.type(':runs');
    s.keys('Enter');
    const cli = await home.run(['run', '--json', '--sandbox', 'work', 'from another terminal']);
    expect(cli.code, cli.stderr).toBe(0);
    screen = await screenWith(s, has('▸ Runs 2', 'from another terminal'), 'the other run');
    expect(screen).toContain('print 42 for me');
    await quit(s);
  }, 120_000);

  it('with no daemon: asks to start one (Enter: no), reads the files, and shows what the CLI does', async () => {
    const s = open([]);
    await screenWith(s, has('No daemon is running. Start one'), 'the question');
    s.keys('Enter');
    await screenWith(s, has('Logos · no daemon: reading files, updated every second', 'Sandboxes 1'), 'the files mode');
    expect((await home.run(['sandbox', 'create', 'play'])).code).toBe(0);
    await screenWith(s, has('Sandboxes 2', 'sandbox created'), 'the new sandbox and its log record');
    const cli = await home.run(['run', '--json', '--sandbox', 'play', 'from the terminal']);
    expect(cli.code, cli.stderr).toBe(0);
    await screenWith(s, has('▸ Runs 1', 'from the terminal'), 'the run');
    await quit(s);
    // Nothing was started behind the user's back.
    expect((await home.run(['daemon', 'status'])).code).not.toBe(0);
  }, 120_000);

  it('answering y starts the daemon and the dashboard runs on it; --no-daemon reads the files even then', async () => {
    // A port of its own (the default one may be taken on a shared machine).
    expect((await home.run(['config', 'set', 'daemonPort', String(await closedPort())])).code).toBe(0);
    const s = open([]);
    await screenWith(s, has('No daemon is running. Start one'), 'the question');
    s.type('y');
    await screenWith(s, has('Logos · daemon running', 'Sandboxes 1'), 'the daemon mode');
    await quit(s);
    expect((await home.run(['daemon', 'status'])).code).toBe(0);
    session?.close();
    const f = open(['--no-daemon']);
    await screenWith(f, has('Logos · no daemon: reading files'), 'the files mode with a daemon running');
    await quit(f);
  }, 120_000);
});
