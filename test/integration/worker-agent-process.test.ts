/**
 * The agent worker as the host runs it: `node dist/worker/logos-worker.mjs` with
 * its cwd a temp dir (the sandbox), a task with tools on stdin, JSON-line frames
 * on stdout, against the scripted fake servers. Asserts what lands on disk, the
 * frames, what the model got back, and that nothing is left running.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, MAX_TOOL_OUTPUT_BYTES, type RouteApi, type TaskInput } from '../../src/core/protocol.js';
import { fakeSignature, startFakeAnthropic, startFakeOpenAI, type AgentScript, type FakeModelServer, type RecordedRequest } from '../fakes/model-servers.js';
import { processesWith, uniqueMarker } from '../helpers/procs.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE = join(ROOT, 'dist', 'worker', 'logos-worker.mjs');

type AnyFrame = Record<string, unknown> & { type: string };

interface WorkerRun {
  code: number | null;
  stdout: string;
  stderr: string;
  frames: AnyFrame[];
  pid: number;
}

let openai: FakeModelServer;
let anthropic: FakeModelServer;
let logDir: string;
let sandbox: string;

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-worker.mjs')], { cwd: ROOT, stdio: 'pipe' });
  logDir = mkdtempSync(join(tmpdir(), 'logos-agent-proc-log-'));
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic();
});

afterAll(async () => {
  await openai?.close();
  await anthropic?.close();
  if (logDir) rmSync(logDir, { recursive: true, force: true });
});

beforeEach(() => {
  sandbox = mkdtempSync(join(tmpdir(), 'logos-sandbox-'));
  return () => rmSync(sandbox, { recursive: true, force: true });
});

const server = (api: RouteApi): FakeModelServer => (api === 'openai-chat' ? openai : anthropic);

function task(api: RouteApi, model: string, extra: Partial<TaskInput> = {}): TaskInput {
  return {
    v: 1,
    type: 'task',
    task_id: 't_agent',
    sandbox: 'demo',
    route: { provider: 'fake', model, api, base_url: server(api).url },
    messages: [
      { role: 'system', content: 'You can run tools in /sandbox.' },
      { role: 'user', content: 'Write hello.py, run it and tell me what it prints.' },
    ],
    tools: ['shell', 'read_file', 'write_file', 'edit_file', 'list_files', 'search'],
    ...extra,
  };
}

/** The worker in `sandbox` as its cwd, a clean environment; `onFrame` sees frames live. */
function runWorker(input: TaskInput, onFrame?: (f: AnyFrame, child: ReturnType<typeof spawn>) => void): Promise<WorkerRun> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [BUNDLE], {
      cwd: sandbox,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LOGOS_WORKER_LOG: join(logDir, 'worker.jsonl') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        onFrame?.(JSON.parse(line) as AnyFrame, child);
      }
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const frames = stdout === '' ? [] : stdout.slice(0, -1).split('\n').map((l) => JSON.parse(l) as AnyFrame);
      done({ code, stdout, stderr, frames, pid: child.pid ?? -1 });
    });
    child.stdin.end(JSON.stringify(input));
  });
}

function resultOf(run: WorkerRun): AnyFrame {
  expect(run.frames[0]?.type).toBe('ready');
  expect(run.frames.filter((f) => f.type === 'task_result')).toHaveLength(1);
  const last = run.frames.at(-1)!;
  expect(last.type).toBe('task_result');
  for (const line of run.stdout.slice(0, -1).split('\n')) expect(Buffer.byteLength(line)).toBeLessThan(MAX_FRAME_BYTES);
  return last;
}

const requestsSince = (s: FakeModelServer, before: number): RecordedRequest[] => s.requests.slice(before);
const usageSum = (reqs: RecordedRequest[]): { input_tokens: number; output_tokens: number } => ({
  input_tokens: reqs.reduce((n, r) => n + r.usage!.input_tokens, 0),
  output_tokens: reqs.reduce((n, r) => n + r.usage!.output_tokens, 0),
});
type Sent = Array<Record<string, unknown>>;
const sent = (r: RecordedRequest | undefined): Sent => (r?.body as { messages: Sent }).messages;

const HELLO = 'print("hello from python")\n';
const helloScript = (thinking: boolean): AgentScript => ({
  steps: [
    {
      ...(thinking ? { thinking: 'First the file.' } : {}),
      text: 'Writing hello.py.',
      toolCalls: [{ name: 'write_file', arguments: { path: 'hello.py', content: HELLO }, fragments: 4 }],
    },
    { ...(thinking ? { thinking: 'Now run it.' } : {}), toolCalls: [{ name: 'shell', arguments: { command: 'python3 hello.py' }, fragments: 2 }] },
    { text: 'It printed: hello from python' },
  ],
});

const HELLO_FRAMES = [
  'ready',
  'token', 'token', // "Writing ", "hello.py."
  'message', // the assistant turn with its write_file call
  'tool_start', 'tool_end',
  'message', // the write_file result
  'message', // the assistant turn with its shell call
  'tool_start', 'tool_output', 'tool_end',
  'message', // the shell result
  'token', 'token', 'token', 'token', 'token', // "It ", "printed: ", "hello ", "from ", "python"
  'message', // the answer
  'task_result',
];

describe('worker process: an agent task', () => {
  it('OpenAI: writes hello.py, runs it, reads the output and answers', async () => {
    openai.setScript('hello', helloScript(false));
    const before = openai.requests.length;
    const run = await runWorker(task('openai-chat', 'agent:hello'));
    const result = resultOf(run);
    expect(readFileSync(join(sandbox, 'hello.py'), 'utf8')).toBe(HELLO);
    expect(run.frames.map((f) => f.type)).toEqual(HELLO_FRAMES);
    const reqs = requestsSince(openai, before);
    expect(reqs.map((r) => r.step)).toEqual([1, 2, 3]);
    // What the model got back, as OpenAI tool messages after its tool_calls.
    const [, second, third] = reqs;
    const writeCall = (sent(second).at(-2)!.tool_calls as Array<{ id: string }>)[0]!;
    expect(sent(second).at(-1)).toEqual({ role: 'tool', tool_call_id: writeCall.id, content: 'wrote 27 bytes to hello.py (new file)' });
    const shellCall = (sent(third).at(-2)!.tool_calls as Array<{ id: string; function: unknown }>)[0]!;
    expect(shellCall.function).toEqual({ name: 'shell', arguments: '{"command":"python3 hello.py"}' });
    expect(sent(third).at(-1)).toEqual({ role: 'tool', tool_call_id: shellCall.id, content: 'hello from python\n[exit code 0]' });
    expect(run.frames.find((f) => f.type === 'tool_output')).toMatchObject({ call_id: shellCall.id, content: 'hello from python\n' });
    expect(run.frames.find((f) => f.type === 'tool_end' && f.tool === 'shell')).toMatchObject({ call_id: shellCall.id, ok: true, exit_code: 0 });
    expect(run.frames.find((f) => f.type === 'tool_start' && f.tool === 'shell')).toMatchObject({ step: 2, preview: '{"command":"python3 hello.py"}' });
    expect(result).toEqual({
      type: 'task_result',
      task_id: 't_agent',
      status: 'ok',
      final_response: 'It printed: hello from python',
      usage: { model: 'agent:hello', ...usageSum(reqs) },
      duration_ms: expect.any(Number),
      steps: 3,
      tools_used: { write_file: 1, shell: 1 },
    });
    expect(run.code).toBe(0);
  });

  it('Anthropic: the same, with thinking blocks sent back signed and tool results as tool_result blocks', async () => {
    anthropic.setScript('hello', helloScript(true));
    const before = anthropic.requests.length;
    const run = await runWorker(task('anthropic-messages', 'agent:hello'));
    const result = resultOf(run);
    expect(readFileSync(join(sandbox, 'hello.py'), 'utf8')).toBe(HELLO);
    const types = run.frames.map((f) => f.type);
    expect(types.filter((t) => t !== 'thinking')).toEqual(HELLO_FRAMES);
    expect(run.frames.filter((f) => f.type === 'thinking').map((f) => f.content).join('')).toBe('First the file.Now run it.');
    const reqs = requestsSince(anthropic, before);
    const [, second, third] = reqs;
    expect(sent(second).at(-2)).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'First the file.', signature: fakeSignature('First the file.') },
        { type: 'text', text: 'Writing hello.py.' },
        { type: 'tool_use', id: expect.any(String), name: 'write_file', input: { path: 'hello.py', content: HELLO } },
      ],
    });
    expect(sent(second).at(-1)).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: expect.any(String), content: 'wrote 27 bytes to hello.py (new file)' }] });
    expect((sent(third).at(-2)!.content as Sent)[0]).toEqual({ type: 'thinking', thinking: 'Now run it.', signature: fakeSignature('Now run it.') });
    expect(sent(third).at(-1)).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: expect.any(String), content: 'hello from python\n[exit code 0]' }] });
    expect(result).toMatchObject({ status: 'ok', final_response: 'It printed: hello from python', usage: usageSum(reqs), steps: 3, tools_used: { write_file: 1, shell: 1 } });
    expect(run.code).toBe(0);
  });

  it('a hanging command is killed at the task deadline; the error names the step; nothing is left running', async () => {
    const marker = uniqueMarker();
    let sawStart = false;
    const run = await runWorker(task('openai-chat', `agent:hang?marker=${marker}`, { deadline_ms: 3000 }), (f) => {
      if (f.type === 'tool_output') sawStart = processesWith(marker).length > 0;
    });
    const result = resultOf(run);
    expect(sawStart).toBe(true); // it was running while the worker waited
    expect(result).toMatchObject({
      status: 'error',
      error: { code: 'TIMEOUT', message: 'the task deadline of 3000 ms passed before the reply was complete (at step 1 of at most 50, while running shell)' },
      steps: 1,
      tools_used: { shell: 1 },
    });
    expect(run.code).toBe(1);
    expect(processesWith(marker)).toEqual([]);
  });

  it('SIGTERM while a command runs: the command goes with the worker (exit 143)', async () => {
    const marker = uniqueMarker();
    const run = await runWorker(task('anthropic-messages', `agent:hang?marker=${marker}`), (f, child) => {
      if (f.type === 'tool_output') child.kill('SIGTERM');
    });
    expect(run.code).toBe(143);
    expect(run.frames.some((f) => f.type === 'task_result')).toBe(false);
    expect(processesWith(marker)).toEqual([]);
  });

  it('MAX_STEPS: a model that never stops calling tools', async () => {
    const before = openai.requests.length;
    const run = await runWorker(task('openai-chat', 'agent:loop', { max_steps: 2 }));
    const result = resultOf(run);
    expect(result).toMatchObject({
      status: 'error',
      error: { code: 'MAX_STEPS', message: 'the model was still calling tools after 2 model calls (max_steps 2)', hint: expect.stringMatching(/--max-steps/) },
      steps: 2,
      tools_used: { shell: 1 },
      usage: usageSum(requestsSince(openai, before)),
    });
    expect(requestsSince(openai, before)).toHaveLength(2);
    expect(result.final_response).toBe('Once more.Once more.');
    expect(run.code).toBe(1);
  });

  it('10 MB of output: the model gets the head and tail with a note; the frames stay bounded', async () => {
    const before = openai.requests.length;
    const run = await runWorker(task('openai-chat', 'agent:flood-output'));
    const result = resultOf(run);
    expect(result).toMatchObject({ status: 'ok', final_response: 'That was a lot of output.', steps: 2, tools_used: { shell: 1 } });
    const toolMsg = sent(requestsSince(openai, before)[1]).at(-1)!;
    const content = String(toolMsg.content);
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_BYTES);
    expect(content).toMatch(/^0123456789abcdef\n/);
    expect(content).toMatch(/\n\[… \d+ bytes of output cut here: 10485760 bytes in all, the first \d+ and the last \d+ are shown …\]\n/);
    expect(content.endsWith('\n0123456\n[exit code 0]')).toBe(true);
    const streamed = run.frames.filter((f) => f.type === 'tool_output').reduce((n, f) => n + Buffer.byteLength(String(f.content)), 0);
    expect(streamed).toBeLessThan(1024 * 1024 + 1024);
    expect(run.code).toBe(0);
  });
});
