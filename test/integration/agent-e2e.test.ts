import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, startFakeOpenAI, type AgentScript, type FakeModelServer } from '../fakes/model-servers.js';
import { jsonLines, makeHome, processesMatching, sandboxWorkers, waitFor, type Home } from '../helpers/logos.js';

/**
 * The agent end to end: the real `logos` binary, the real bwrap sandbox, the real
 * proxy and the real worker bundle, against fake model servers whose "model" is a
 * script of tool calls in the real streaming formats.
 */

let openai: FakeModelServer;
let anthropic: FakeModelServer;
let home: Home;
beforeAll(async () => {
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic({ requireKey: 'sk-ant-e2e-0123456789abcdefWXYZ' });
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});
beforeEach(() => {
  home = makeHome();
});
afterEach(() => home.cleanup());

const HELLO_PY = 'import datetime\nprint("today is", datetime.date(2026, 12, 1).isoformat())\n';
/** "create hello.py that prints the date, run it, and tell me what it printed" */
const helloDate: AgentScript = {
  steps: [
    { text: 'I will write the script.', toolCalls: [{ name: 'write_file', arguments: { path: 'hello.py', content: HELLO_PY } }] },
    { toolCalls: [{ name: 'shell', arguments: { command: 'python3 hello.py' } }] },
    { text: 'It printed: today is 2026-12-01' },
  ],
};

const sandboxDir = (name: string): string => join(home.dir, 'logos', 'data', 'sandboxes', name, 'workdir');

async function route(server: FakeModelServer, spec: string, name: string): Promise<void> {
  const r = await home.run(['route', 'add', spec, '--endpoint', server.url, '--name', name, '--default']);
  expect(r.code, r.stderr).toBe(0);
}

/** The tool results the model received, in the order it received them (OpenAI format). */
function toolResults(server: FakeModelServer): string[] {
  const last = server.requests.filter((q) => q.path.endsWith('/chat/completions')).at(-1)?.body as { messages: Array<{ role: string; content: string }> };
  return last.messages.filter((m) => m.role === 'tool').map((m) => m.content);
}

describe('the agent through logos run (local sandbox)', () => {
  it('OpenAI: creates hello.py, runs it and says what it printed', async () => {
    openai.setScript('hello-date', helloDate);
    await route(openai, 'custom/agent:hello-date', 'agent');
    const r = await home.run(['run', 'create hello.py that prints the date, run it, and tell me what it printed']);
    expect(r.code, r.stderr).toBe(0);
    // Not a terminal: only the reply text (the narration and the answer).
    expect(r.stdout).toContain('It printed: today is 2026-12-01');
    expect(r.stdout).not.toContain('▹');
    expect(readFileSync(join(sandboxDir('agent'), 'hello.py'), 'utf8')).toBe(HELLO_PY);
    expect(toolResults(openai)).toEqual([`wrote ${Buffer.byteLength(HELLO_PY)} bytes to hello.py (new file)`, 'today is 2026-12-01\n[exit code 0]']);
    const runs = (JSON.parse((await home.run(['runs', 'list', '--json'])).stdout) as { items: unknown[] }).items as Array<{ status: string; steps: number; tools_used: Record<string, number> }>;
    expect(runs[0]).toMatchObject({ status: 'ok', steps: 3, tools_used: { write_file: 1, shell: 1 } });
  });

  it('--json passes the tool frames through; the files outlive the task', async () => {
    openai.setScript('hello-date', helloDate);
    await route(openai, 'custom/agent:hello-date', 'agent');
    const r = await home.run(['run', '--json', 'go']);
    const types = jsonLines(r.stdout).map((f) => f.type);
    expect(types.filter((t) => String(t).startsWith('tool_'))).toEqual(['tool_start', 'tool_end', 'tool_start', 'tool_output', 'tool_end']);
    expect(types.at(-1)).toBe('task_result');
    // The file outlives the task: the sandbox directory persists, and the host can fetch it.
    const out = join(home.dir, 'fetched.py');
    const got = await home.run(['sandbox', 'get', 'agent', 'hello.py', out]);
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(HELLO_PY);
  });

  it('Anthropic through the proxy with the stored key; the tools run in the sandbox', async () => {
    anthropic.setScript('hello-date', helloDate);
    expect((await home.run(['creds', 'set', 'anthropic', '--key-stdin'], { input: 'sk-ant-e2e-0123456789abcdefWXYZ' })).code).toBe(0);
    await route(anthropic, 'anthropic/agent:hello-date', 'claude');
    const r = await home.run(['run', '--json', 'create hello.py that prints the date, run it, and tell me what it printed']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ status: 'ok', final_response: 'It printed: today is 2026-12-01', steps: 3 });
    expect(readFileSync(join(sandboxDir('claude'), 'hello.py'), 'utf8')).toBe(HELLO_PY);
    expect(r.stdout + r.stderr + home.logText()).not.toContain('sk-ant-e2e-0123456789abcdefWXYZ');
  });

  it('a tool reaches neither the network nor host files outside the sandbox', async () => {
    const secret = join(home.dir, 'logos', 'config');
    openai.setScript('escape', {
      steps: [
        {
          toolCalls: [
            { name: 'shell', arguments: { command: `cat /etc/shadow 2>&1; ls ${secret} 2>&1; ls /home /root 2>&1; echo probe >/usr/probe 2>&1; echo done` } },
            { name: 'shell', arguments: { command: `python3 -c "import socket; socket.create_connection(('1.1.1.1', 80), 3)" 2>&1 | tail -1` } },
            { name: 'read_file', arguments: { path: `${secret}/credentials/credentials.json` } },
          ],
        },
        { text: 'contained' },
      ],
    });
    await route(openai, 'custom/agent:escape', 'escape');
    expect((await home.run(['creds', 'set', 'openai', '--key-stdin'], { input: 'sk-should-never-be-seen-0123456789' })).code).toBe(0);
    const r = await home.run(['run', 'try to get out']);
    expect(r.code, r.stderr).toBe(0);
    const [files, net, read] = toolResults(openai);
    expect(files).toContain('/etc/shadow: No such file or directory');
    expect(files).toContain(`${secret}': No such file or directory`);
    expect(files).toMatch(/\/usr\/probe: Read-only file system/);
    expect(net).toMatch(/Network is unreachable|No route to host|Errno 101/);
    expect(read).toMatch(/no such file|not found|ENOENT/i);
    expect(JSON.stringify(openai.requests)).not.toContain('sk-should-never-be-seen');
  });

  it('a session carries the tool turns into the next task, in the API format', async () => {
    // One conversation: the first task is steps 1-3, the follow-up is step 4.
    openai.setScript('session', { steps: [...helloDate.steps, { text: 'I ran python3 hello.py.' }] });
    await route(openai, 'custom/agent:session', 'agent');
    expect((await home.run(['run', '--session', 'work', 'first'])).code).toBe(0);
    const before = openai.requests.length;
    const r = await home.run(['run', '--session', 'work', 'what did you run?']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('I ran python3 hello.py.');
    const sent = (openai.requests.slice(before).find((q) => q.path.endsWith('/chat/completions'))?.body as { messages: Array<{ role: string; content: string | null; tool_calls?: unknown[] }> }).messages;
    expect(sent.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual([`wrote ${Buffer.byteLength(HELLO_PY)} bytes to hello.py (new file)`, 'today is 2026-12-01\n[exit code 0]']);
    expect(sent.filter((m) => m.role === 'assistant' && Array.isArray(m.tool_calls))).toHaveLength(2);
    expect(sent.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('what did you run?') });
    const show = JSON.parse((await home.run(['sessions', 'show', 'work', '--json'])).stdout) as unknown;
    expect(JSON.stringify(show)).toContain('I ran python3 hello.py.');
  });

  it('Ctrl-C while a tool runs: exit 130, the command and the worker are gone', async () => {
    const marker = String(Date.now()); // digits: the command is `sleep 1000.<marker>`
    await route(openai, `custom/agent:hang?marker=${marker}`, 'hang');
    const { child, done } = home.start(['run', '--json', 'hang please']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('"type":"tool_output"'), 'the command to start');
    await waitFor(() => processesMatching(marker).length > 0, 'the sleep to be running');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    await waitFor(() => processesMatching(marker).length === 0, 'the command to be gone', 5000);
    expect(sandboxWorkers(home.dir)).toEqual([]);
  });
});
