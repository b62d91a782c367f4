import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS, type ChatMessage } from '../../src/core/protocol.js';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { fixtureWorker } from '../helpers/fixtures.js';
import { jsonLines, makeHome, ROOT, waitFor, type Home } from '../helpers/logos.js';
import { logosArgv, runInTty, TmuxSession } from '../helpers/tty.js';

/**
 * The host half of the agent, through the real binary and the real bwrap sandbox:
 * tools and step limits in the task, personas, tool lines on a terminal, sessions
 * (history sent, kept, trimmed), attachments and `logos chat`. The worker is the
 * `agent` fixture, which streams tool and message frames as the agent does and
 * reports what it received; where the model is asked, the real worker and a fake
 * model server.
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
  home = makeHome({ LOGOS_WORKER_FILE: fixtureWorker('agent') });
  openai.setScenario('plain');
  openai.requests.length = 0;
  const r = await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'fake', '--default']);
  expect(r.code, r.stderr).toBe(0);
});
afterEach(() => home.cleanup());

const DEFAULT_PERSONA = readFileSync(join(ROOT, 'templates', 'personas', 'default.md'), 'utf8').trim();
const CODER_PERSONA = readFileSync(join(ROOT, 'templates', 'personas', 'coder.md'), 'utf8').trim();
/** The real worker (no fixture), for what reaches the model. */
const REAL_WORKER = { LOGOS_WORKER_FILE: '' };

interface Received {
  tools: string[] | null;
  max_steps: number | null;
  messages: ChatMessage[];
}

/** `logos run --json …` with the agent fixture: the frames, and what the worker received. */
async function runJson(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; frames: Array<Record<string, unknown>>; received: Received; stderr: string }> {
  const r = await home.run(['run', '--json', ...args], { env });
  const frames = jsonLines(r.stdout);
  return { code: r.code, frames, received: frames.find((f) => f.type === 'received') as unknown as Received, stderr: r.stderr };
}

async function json<T>(args: string[]): Promise<T> {
  const r = await home.run([...args, '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  // The envelope: a list's rows are under `items`.
  const v = JSON.parse(r.stdout) as { ok: boolean; items?: unknown[] };
  expect(v.ok).toBe(true);
  return (v.items ?? v) as T;
}

function errorOf(stdout: string): { code: string; message: string; hint?: string } {
  return (JSON.parse(stdout.trim().split('\n').at(-1) as string) as { error: { code: string; message: string; hint?: string } }).error;
}

/** Every tool result directly follows the turn that called it. */
function toolResultsFollowTheirCalls(ms: ChatMessage[]): boolean {
  let open = new Set<string>();
  for (const m of ms) {
    if (m.role === 'tool') {
      if (!open.delete(m.tool_call_id)) return false;
    } else {
      if (open.size > 0) return false;
      open = new Set(m.role === 'assistant' ? (m.tool_calls ?? []).map((c) => c.id) : []);
    }
  }
  return open.size === 0;
}

describe('tools and the step limit in the task', () => {
  it("carries the sandbox's default tools (all), the default step limit and the default persona", async () => {
    const r = await runJson(['hi scenario:plain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.received.tools).toEqual([...BUILTIN_TOOLS]);
    expect(r.received.max_steps).toBe(50);
    expect(r.received.messages).toEqual([
      { role: 'system', content: DEFAULT_PERSONA },
      { role: 'user', content: 'hi scenario:plain' },
    ]);
    const [run] = await json<Array<Record<string, unknown>>>(['runs', 'list']);
    expect(run).toMatchObject({ tools: [...BUILTIN_TOOLS], max_steps: 50 });
  });

  it('--tools, --max-steps and --no-tools override it; sandbox create --tools/--no-tools sets it', async () => {
    const some = await runJson(['--tools', 'read_file,shell', '--max-steps', '7', 'x scenario:plain']);
    expect(some.received).toMatchObject({ tools: ['shell', 'read_file'], max_steps: 7 });
    const none = await runJson(['--no-tools', 'x scenario:plain']);
    expect(none.received.tools).toEqual([]);
    // a plain chat gets no persona
    expect(none.received.messages).toEqual([{ role: 'user', content: 'x scenario:plain' }]);

    expect((await home.run(['sandbox', 'create', 'ro', '--tools', 'read_file,list_files'])).code).toBe(0);
    expect((await home.run(['sandbox', 'create', 'quiet', '--no-tools'])).code).toBe(0);
    expect((await runJson(['--sandbox', 'ro', 'x scenario:plain'])).received.tools).toEqual(['read_file', 'list_files']);
    const quiet = await runJson(['--sandbox', 'quiet', 'x scenario:plain']);
    expect(quiet.received.tools).toEqual([]);
    expect(quiet.received.messages.some((m) => m.role === 'system')).toBe(false);
    expect((await runJson(['--sandbox', 'quiet', '--tools', 'all', 'x scenario:plain'])).received.tools).toEqual([...BUILTIN_TOOLS]);
    expect(await json(['sandbox', 'show', 'ro'])).toMatchObject({ tools: ['read_file', 'list_files'] });
    const show = await home.run(['sandbox', 'show', 'quiet']);
    expect(show.stdout).toMatch(/Tools:\s+none/);
  });

  it.each([
    [['run', '--tools', 'shell,browser', 'x'], 'INVALID_ARGUMENT', /Unknown tool 'browser'/, /read_file/],
    [['run', '--tools', ',', 'x'], 'INVALID_ARGUMENT', /at least one tool/, /--no-tools/],
    [['run', '--max-steps', '0', 'x'], 'INVALID_ARGUMENT', /--max-steps must be a whole number from 1 to 1000/, undefined],
    [['run', '--max-steps', '1001', 'x'], 'INVALID_ARGUMENT', /from 1 to 1000/, undefined],
    [['run', '--max-steps', 'ten', 'x'], 'INVALID_ARGUMENT', /--max-steps/, undefined],
    [['sandbox', 'create', 'bad', '--tools', 'teleport'], 'INVALID_ARGUMENT', /Unknown tool 'teleport'/, /shell/],
  ])('refuses %j before anything runs', async (args, code, message, hint) => {
    const r = await home.run([...args, '--json']);
    expect(r.code).toBe(2);
    const e = errorOf(r.stdout);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    if (hint) expect(e.hint).toMatch(hint);
    expect(await json(['runs', 'list'])).toEqual([]);
    expect(await json(['sandbox', 'list'])).toEqual([]);
  });

  it('records the steps and the tools used; MAX_STEPS ends with exit 1 and a hint', async () => {
    expect((await home.run(['run', 'x scenario:tools'])).code).toBe(0);
    const [run] = await json<Array<Record<string, unknown>>>(['runs', 'list']);
    expect(run).toMatchObject({ status: 'ok', steps: 3, tools_used: { shell: 1, read_file: 1 } });
    const show = await home.run(['runs', 'show', run?.id as string]);
    expect(show.stdout).toMatch(/Steps:\s+3/);
    expect(show.stdout).toMatch(/Tools used:\s+shell ×1, read_file ×1/);

    const fail = await home.run(['run', '--max-steps', '3', 'scenario:fail']);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain('Error: The agent used all its model calls.');
    expect(fail.stderr).toContain('Give it more with --max-steps N');
    const j = await runJson(['scenario:fail']);
    expect(j.code).toBe(1);
    expect(j.frames.at(-1)).toMatchObject({ type: 'task_result', status: 'error', error: { code: 'MAX_STEPS' } });
  });
});

describe('personas (through the real worker, to the model)', () => {
  const systemSent = (): unknown => (openai.requests.at(-1)?.body as { messages: ChatMessage[] }).messages[0];

  it('the default persona goes to the model when tools are on; none for a plain chat', async () => {
    expect((await home.run(['run', 'hello'], { env: REAL_WORKER })).stdout).toBe('Echo: hello\n');
    expect(systemSent()).toEqual({ role: 'system', content: DEFAULT_PERSONA });
    await home.run(['run', '--no-tools', 'hello'], { env: REAL_WORKER });
    expect((openai.requests.at(-1)?.body as { messages: ChatMessage[] }).messages).toEqual([{ role: 'user', content: 'hello' }]);
  });

  it('--persona picks one, --system wins, an unknown one is NOT_FOUND with the list', async () => {
    const bad = await home.run(['run', '--persona', 'pirate', 'hello']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("No persona named 'pirate'");
    expect(bad.stderr).toContain('Personas: coder, default');
    const badJson = await home.run(['run', '--persona', '../../etc/passwd', '--json', 'hello']);
    expect(errorOf(badJson.stdout).code).toBe('NOT_FOUND');
    // refused before the route's sandbox was created or a run recorded
    expect(await json(['sandbox', 'list'])).toEqual([]);
    expect(await json(['runs', 'list'])).toEqual([]);

    await home.run(['run', '--persona', 'coder', 'hello'], { env: REAL_WORKER });
    expect(systemSent()).toEqual({ role: 'system', content: CODER_PERSONA });
    await home.run(['run', '--persona', 'coder', '--system', 'be brief', 'hello'], { env: REAL_WORKER });
    expect(systemSent()).toEqual({ role: 'system', content: 'be brief' });
    // a persona asked for applies with --no-tools too
    await home.run(['run', '--no-tools', '--persona', 'coder', 'hello'], { env: REAL_WORKER });
    expect(systemSent()).toEqual({ role: 'system', content: CODER_PERSONA });
  });
});

describe('tool calls on a terminal', () => {
  it('each call is one compact line between the reply text; --verbose adds output and results', async () => {
    const r = await runInTty(home, ['run', 'hello scenario:tools']);
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain(['Let me look.', '  ▹ shell  ls -la /sandbox  ✓ exit 0 · 12ms', '  ▹ read_file  missing.txt  ✗ 3ms', 'Done: hello scenario:tools', ''].join('\n'));
    expect(r.screen).not.toContain('a.txt');
    expect(r.screen).toMatch(/✓ done in [\d.]+s · 3 steps · 2 tool calls/);

    const v = await runInTty(home, ['run', '--verbose', 'hello scenario:tools']);
    expect(v.screen).toContain(['  ▹ shell  ls -la /sandbox', '    │ a.txt', '    │ b.txt', '    ✓ exit 0 · 12ms  ↳ a.txt b.txt'].join('\n'));
    expect(v.screen).toContain('    ✗ 3ms  ↳ no such file: missing.txt');
  });

  it('piped: only the reply text; --json: the frames unchanged', async () => {
    const r = await home.run(['run', '--verbose', 'hello scenario:tools']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Let me look.\nDone: hello scenario:tools\n');
    expect(r.stderr).toBe('');
    const j = await home.run(['run', '--json', 'hello scenario:tools']);
    const id = (jsonLines(j.stdout)[0] as { task_id: string }).task_id;
    const lines = j.stdout.split('\n');
    expect(lines).toContain(`{"type":"tool_start","task_id":"${id}","call_id":"c1","tool":"shell","preview":"{\\"command\\":\\"ls -la /sandbox\\"}","step":1}`);
    expect(lines).toContain(`{"type":"tool_output","task_id":"${id}","call_id":"c1","content":"a.txt\\nb.txt\\n"}`);
    expect(jsonLines(j.stdout).map((f) => f.type)).toEqual([
      'ready', 'received', 'token', 'message', 'tool_start', 'tool_output', 'tool_end', 'message', 'message', 'tool_start', 'tool_end', 'message', 'token', 'message', 'task_result',
    ]);
  });

  it('a worker that sends no tool frames looks as before', async () => {
    const r = await runInTty(home, ['run', 'hi scenario:plain']);
    expect(r.screen).toContain('Echo: hi scenario:plain\n✓ done');
    expect(r.screen).not.toContain('▹');
  });
});

describe('sessions', () => {
  const session = (name: string): Promise<{ messages: ChatMessage[]; sandbox: string; trimmed_messages: number; runs: number }> => json(['sessions', 'show', name]);

  it('keeps the conversation and sends it with the next run, after the system prompt', async () => {
    expect((await home.run(['run', '--session', 's1', 'first scenario:tools'])).code).toBe(0);
    const first = await session('s1');
    expect(first.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    expect(first.messages[0]).toEqual({ role: 'user', content: 'first scenario:tools' });
    expect(first.messages.at(-1)).toEqual({ role: 'assistant', content: 'Done: first scenario:tools' });
    expect(first).toMatchObject({ sandbox: 'fake', runs: 1 });

    const second = await runJson(['--session', 's1', 'second scenario:plain']);
    expect(second.received.messages).toEqual([{ role: 'system', content: DEFAULT_PERSONA }, ...first.messages, { role: 'user', content: 'second scenario:plain' }]);
    // a worker that reports no messages: its final answer is kept
    expect((await session('s1')).messages.slice(-2)).toEqual([
      { role: 'user', content: 'second scenario:plain' },
      { role: 'assistant', content: 'Echo: second scenario:plain' },
    ]);

    const list = await json<Array<Record<string, unknown>>>(['sessions', 'list']);
    expect(list).toEqual([expect.objectContaining({ name: 's1', sandbox: 'fake', turns: 2, runs: 2, messages: 8 })]);
    const text = await home.run(['sessions', 'show', 's1']);
    expect(text.stdout).toMatch(/Sandbox:\s+fake \(route fake\)/);
    expect(text.stdout).toContain('you:\n  first scenario:tools\nassistant:\n  Let me look.\n  ▹ shell  ls -la /sandbox\n    ✓ shell: a.txt b.txt\n  ▹ read_file  missing.txt\n    ✗ read_file: no such file: missing.txt\n');
    const runs = await json<Array<{ session?: string }>>(['runs', 'list']);
    expect(runs.map((r) => r.session)).toEqual(['s1', 's1']);
  });

  it('the history reaches the model (the real worker, which reports no messages yet)', async () => {
    expect((await home.run(['run', '--session', 'r', 'one'], { env: REAL_WORKER })).stdout).toBe('Echo: one\n');
    expect((await home.run(['run', '--session', 'r', 'two'], { env: REAL_WORKER })).stdout).toBe('Echo: two\n');
    expect((openai.requests.at(-1)?.body as { messages: ChatMessage[] }).messages).toEqual([
      { role: 'system', content: DEFAULT_PERSONA },
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'Echo: one' },
      { role: 'user', content: 'two' },
    ]);
  });

  it('remembers its sandbox: another --sandbox is refused, none continues there', async () => {
    expect((await home.run(['sandbox', 'create', 'other'])).code).toBe(0);
    expect((await home.run(['run', '--session', 's1', '--sandbox', 'other', 'a scenario:plain'])).code).toBe(0);
    const r = await home.run(['run', '--session', 's1', '--sandbox', 'fake', 'b', '--json']);
    expect(r.code).toBe(2);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'INVALID_ARGUMENT', message: "Session 's1' runs in sandbox 'other', not 'fake'." });
    expect(errorOf(r.stdout).hint).toContain("Leave out --sandbox to continue it in 'other'");
    expect((await home.run(['run', '--session', 's1', 'c scenario:plain'])).code).toBe(0);
    const runs = await json<Array<{ sandbox: string }>>(['runs', 'list']);
    expect(runs.map((x) => x.sandbox)).toEqual(['other', 'other']);
    // its sandbox deleted: the session says so
    expect((await home.run(['sandbox', 'delete', 'other'])).code).toBe(0);
    const gone = await home.run(['run', '--session', 's1', 'd', '--json']);
    expect(gone.code).toBe(3);
    expect(errorOf(gone.stdout)).toMatchObject({ code: 'NOT_FOUND', message: "Session 's1' runs in sandbox 'other', which no longer exists." });
  });

  it('trims the oldest turns to its budget (never splitting a tool turn), notes it, warns on a terminal', async () => {
    expect((await home.run(['run', '--session', 'big', 'scenario:tools'])).code).toBe(0);
    expect((await home.run(['run', '--session', 'big', 'scenario:big:150 #0'])).code).toBe(0);
    expect((await session('big')).trimmed_messages).toBe(0);
    const quiet = await home.run(['run', '--session', 'big', 'scenario:big:150 #1']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect((await session('big')).trimmed_messages).toBeGreaterThan(0);
    expect(quiet.stderr).toBe(''); // trimmed, but no warning off a terminal
    const tty = await runInTty(home, ['run', '--session', 'big', 'scenario:big:150 #2']);
    expect(tty.screen).toContain("! Session 'big': its oldest turns were trimmed to keep the history under 256 KiB.");
    const s = await session('big');
    expect(s.messages[0]).toEqual({ role: 'user', content: '[earlier turns trimmed]' });
    expect(s.trimmed_messages).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(s.messages))).toBeLessThanOrEqual(256 * 1024);
    expect(toolResultsFollowTheirCalls(s.messages.slice(1))).toBe(true);
    expect(s.messages.at(-2)).toEqual({ role: 'user', content: 'scenario:big:150 #2' });
    // the trimmed history is what the next task carries
    const next = await runJson(['--session', 'big', 'scenario:plain']);
    expect(next.received.messages[1]).toEqual({ role: 'user', content: '[earlier turns trimmed]' });
    expect(next.received.messages.slice(1, -1)).toEqual(s.messages);
  });

  it('a failed or cancelled run still records the message and what the worker reported', async () => {
    expect((await home.run(['run', '--session', 's2', 'scenario:fail'])).code).toBe(1);
    expect((await session('s2')).messages).toEqual([
      { role: 'user', content: 'scenario:fail' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'c9', name: 'shell', arguments: '{"command":"sleep 100"}' }] },
      { role: 'tool', tool_call_id: 'c9', name: 'shell', content: '[no result: the task ended before this tool call finished]', is_error: true },
    ]);

    const running = home.start(['run', '--json', '--session', 's2', 'scenario:hang']);
    let out = '';
    running.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('"type":"tool_start"'), 'the hanging tool call');
    running.child.kill('SIGINT');
    const r = await running.done;
    expect(r.code).toBe(130);
    const after = await session('s2');
    expect(after.messages.slice(3)).toEqual([
      { role: 'user', content: 'scenario:hang' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'h1', name: 'shell', arguments: '{"command":"sleep 1000"}' }] },
      { role: 'tool', tool_call_id: 'h1', name: 'shell', content: '[no result: the task ended before this tool call finished]', is_error: true },
    ]);
    expect(after.runs).toBe(2);
  });

  it('errors: unknown session NOT_FOUND, bad names INVALID_NAME, a damaged file STATE_CORRUPT (moved aside)', async () => {
    for (const args of [['sessions', 'show', 'nope'], ['sessions', 'delete', 'nope']]) {
      const r = await home.run([...args, '--json']);
      expect(r.code).toBe(3);
      expect(errorOf(r.stdout).code).toBe('NOT_FOUND');
    }
    for (const args of [['run', '--session', 'Bad Name', 'x'], ['sessions', 'show', '../x'], ['sessions', 'delete', '__proto__']]) {
      const r = await home.run([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(errorOf(r.stdout).code).toBe('INVALID_NAME');
    }
    expect((await home.run(['run', '--session', 's3', 'x scenario:plain'])).code).toBe(0);
    expect(await json(['sessions', 'delete', 's3'])).toEqual({ ok: true, deleted: 's3' });
    expect(await json(['sessions', 'list'])).toEqual([]);

    const dir = join(home.dir, 'logos', 'state', 'sessions');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hurt.json'), '{"version":1,"session":{"name":"hurt","messages":"oops"}}');
    const r = await home.run(['run', '--session', 'hurt', 'x', '--json']);
    expect(r.code).toBe(6);
    expect(errorOf(r.stdout).code).toBe('STATE_CORRUPT');
    expect(readdirSync(dir).some((n) => n.startsWith('hurt.json.corrupt-'))).toBe(true);
    expect(existsSync(join(dir, 'hurt.json'))).toBe(false);
  });
});

describe('run --attach', () => {
  it('puts each file into /sandbox/attachments/ and tells the model where', async () => {
    writeFileSync(join(home.dir, 'a.txt'), 'alpha');
    writeFileSync(join(home.dir, 'b.csv'), 'beta');
    const r = await runJson(['--attach', join(home.dir, 'a.txt'), '-a', join(home.dir, 'b.csv'), 'scenario:attach']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.frames.at(-1)).toMatchObject({ final_response: 'a.txt=alpha;b.csv=beta' });
    expect(r.received.messages.at(-1)).toEqual({
      role: 'user',
      content: 'scenario:attach\n\n[Attached files, in the sandbox: /sandbox/attachments/a.txt, /sandbox/attachments/b.csv]',
    });
    const [run] = await json<Array<Record<string, unknown>>>(['runs', 'list']);
    expect(run?.attachments).toEqual(['/sandbox/attachments/a.txt', '/sandbox/attachments/b.csv']);
  });

  it.each([
    ['a missing file', (d: string) => [join(d, 'nope.txt')], /Cannot attach .*nope.txt: ENOENT/],
    ['a directory', (d: string) => [d], /not a regular file/],
    ['two files with one name', (d: string) => [join(d, 'a.txt'), join(d, 'sub', 'a.txt')], /Two attachments are named 'a.txt'/],
  ])('refuses %s before anything runs', async (_what, files, message) => {
    mkdirSync(join(home.dir, 'sub'));
    writeFileSync(join(home.dir, 'a.txt'), 'x');
    writeFileSync(join(home.dir, 'sub', 'a.txt'), 'y');
    const r = await home.run(['run', '--json', ...files(home.dir).flatMap((f) => ['--attach', f]), 'x']);
    expect(r.code).toBe(2);
    expect(errorOf(r.stdout)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect(await json(['runs', 'list'])).toEqual([]);
  });
});

describe('logos chat', () => {
  it('refuses without a terminal (NO_TTY, exit 2) and points at logos run', async () => {
    const r = await home.run(['chat'], { input: 'hello\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('logos chat needs a terminal, and stdin is not one.');
    expect(r.stderr).toContain('logos run --session NAME');
    const j = await home.run(['chat', '--json']);
    expect(j.code).toBe(2);
    expect(errorOf(j.stdout).code).toBe('NO_TTY');
    // on a terminal, --json is still refused: chat has no JSON output
    const t = await runInTty(home, ['chat', '--json']);
    expect(t.code).toBe(2);
    expect(t.screen).toContain('"code":"INVALID_ARGUMENT"');
  });

  it('on a terminal: turns stream with tool lines, Ctrl-C cancels a turn, twice at the prompt leaves', async () => {
    const tmux = new TmuxSession({ ...home.env, COLUMNS: '150' }, logosArgv(['chat', '--session', 'talk']));
    try {
      const screen = (): string => tmux.screen();
      const prompts = (): number => screen().split('you ›').length - 1;
      await waitFor(() => prompts() === 1, 'the first prompt');
      expect(screen()).toContain('Session talk (new)');
      tmux.type('hello scenario:tools');
      tmux.keys('Enter');
      await waitFor(() => prompts() === 2, 'the second prompt');
      expect(screen()).toContain('Let me look.\n  ▹ shell  ls -la /sandbox  ✓ exit 0 · 12ms\n  ▹ read_file  missing.txt  ✗ 3ms\nDone: hello scenario:tools\n');

      tmux.type('scenario:hang');
      tmux.keys('Enter');
      await waitFor(() => screen().includes('▹ shell  sleep 1000'), 'the hanging tool call');
      tmux.keys('C-c');
      await waitFor(() => prompts() === 3, 'the prompt after the cancelled turn');
      expect(screen()).toContain('(turn cancelled)');
      expect(tmux.exitStatus()).toBeUndefined();

      tmux.keys('C-c');
      await waitFor(() => screen().includes('(Ctrl-C again to leave, or /exit)'), 'the hint');
      tmux.keys('C-c');
      await waitFor(() => tmux.exitStatus() !== undefined, 'chat to end');
      expect(tmux.exitStatus()).toBe(0);
    } finally {
      tmux.close();
    }
    const s = await json<{ messages: ChatMessage[]; runs: number }>(['sessions', 'show', 'talk']);
    expect(s.runs).toBe(2);
    expect(s.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['hello scenario:tools', 'scenario:hang']);
  });

  it('/help, /new and /exit; a new session name is generated and printed', async () => {
    const tmux = new TmuxSession(home.env, logosArgv(['chat', '--no-tools']));
    try {
      const screen = (): string => tmux.screen();
      await waitFor(() => screen().includes('you ›'), 'the prompt');
      const first = /Session (chat-\d{8}-\d{6}(?:-\d+)?) \(new\)/.exec(screen())?.[1];
      expect(first).toBeDefined();
      tmux.type('/help');
      tmux.keys('Enter');
      await waitFor(() => screen().includes('/new    start a fresh session'), 'the help');
      tmux.type('one scenario:plain');
      tmux.keys('Enter');
      await waitFor(() => screen().includes('Echo: one scenario:plain'), 'the reply');
      tmux.type('/new');
      tmux.keys('Enter');
      await waitFor(() => screen().split('(new)').length - 1 === 2, 'the new session');
      tmux.type('two scenario:plain');
      tmux.keys('Enter');
      await waitFor(() => screen().includes('Echo: two scenario:plain'), 'the second reply');
      tmux.type('/exit');
      tmux.keys('Enter');
      await waitFor(() => tmux.exitStatus() !== undefined, 'chat to end');
      expect(tmux.exitStatus()).toBe(0);
    } finally {
      tmux.close();
    }
    const list = await json<Array<{ name: string; turns: number }>>(['sessions', 'list']);
    expect(list).toHaveLength(2);
    expect(list.every((s) => s.turns === 1)).toBe(true);
  });
});
