/**
 * The agent loop in-process (runTask) against the scripted fake servers: tools
 * run in a temp dir, the follow-up requests are checked the way the real APIs
 * check them, and the frames, usage, steps and messages are asserted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_FRAME_CONTENT_BYTES, type ChatMessage, type Frame, type RouteApi, type TaskInput } from '../../src/core/protocol.js';
import { deadlineFailure, WorkerFailure } from '../../src/worker/classify.js';
import type { WorkerLogger } from '../../src/worker/log.js';
import { runTask } from '../../src/worker/run.js';
import type { TaskOutcome } from '../../src/worker/agent.js';
import { fakeSignature, hangCommand, startFakeAnthropic, startFakeOpenAI, type AgentScript, type FakeModelServer, type RecordedRequest } from '../fakes/model-servers.js';
import { processesWith, uniqueMarker } from '../helpers/procs.js';

const quiet: WorkerLogger = { debug() {}, info() {}, warn() {}, error() {}, setTaskId() {} };

let openai: FakeModelServer;
let anthropic: FakeModelServer;
let cwd: string;
beforeAll(async () => {
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic();
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'logos-agent-'));
  return () => rmSync(cwd, { recursive: true, force: true });
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
      { role: 'system', content: 'You are a coder.' },
      { role: 'user', content: 'Make it so.' },
    ],
    tools: ['shell', 'read_file', 'write_file', 'edit_file', 'list_files', 'search'],
    ...extra,
  };
}

type AnyFrame = Record<string, unknown> & { type: string };

interface Run {
  frames: AnyFrame[];
  outcome?: TaskOutcome;
  error?: WorkerFailure;
  requests: RecordedRequest[];
}

async function go(t: TaskInput, opts: { signal?: AbortSignal; onFrame?: (f: Frame) => void } = {}): Promise<Run> {
  const s = server(t.route.api);
  const before = s.requests.length;
  const frames: AnyFrame[] = [];
  const run: Run = { frames, requests: [] };
  try {
    run.outcome = await runTask(t, {
      env: {},
      log: quiet,
      cwd,
      signal: opts.signal,
      idleTimeoutMs: 10_000,
      emit: (f) => {
        frames.push(f as unknown as AnyFrame);
        opts.onFrame?.(f);
      },
    });
  } catch (err) {
    if (!(err instanceof WorkerFailure)) throw err;
    run.error = err;
  }
  run.requests = s.requests.slice(before);
  return run;
}

const types = (r: Run): string[] => r.frames.map((f) => f.type).filter((t, i, a) => !(t === 'token' && a[i - 1] === 'token') && !(t === 'thinking' && a[i - 1] === 'thinking'));
const messages = (r: Run): ChatMessage[] => r.frames.filter((f) => f.type === 'message').map((f) => f.message as ChatMessage);
const sentMessages = (req: RecordedRequest | undefined): Array<Record<string, unknown>> => (req?.body as { messages: Array<Record<string, unknown>> }).messages;
const usageSum = (reqs: RecordedRequest[]): { input_tokens: number; output_tokens: number } => ({
  input_tokens: reqs.reduce((n, r) => n + r.usage!.input_tokens, 0),
  output_tokens: reqs.reduce((n, r) => n + r.usage!.output_tokens, 0),
});

const WRITE_RUN_READ: AgentScript = {
  steps: [
    { text: 'I will write the file.', toolCalls: [{ name: 'write_file', arguments: { path: 'notes/a.txt', content: 'alpha\nbeta\n' }, fragments: 5 }] },
    {
      toolCalls: [
        { name: 'shell', arguments: { command: 'wc -l notes/a.txt' } },
        { name: 'read_file', arguments: { path: 'notes/a.txt' }, fragments: 4 },
      ],
    },
    { text: 'The file has 2 lines.' },
  ],
};

for (const api of ['openai-chat', 'anthropic-messages'] as const) {
  describe(`agent loop ${api}`, () => {
    beforeAll(() => server(api).setScript('write-run-read', WRITE_RUN_READ));

    it('runs the tools, sends the results back, answers; usage summed, steps and tools_used counted, a message per turn and result', async () => {
      const r = await go(task(api, 'agent:write-run-read'));
      expect(r.error).toBeUndefined();
      expect(readFileSync(join(cwd, 'notes/a.txt'), 'utf8')).toBe('alpha\nbeta\n');
      expect(types(r)).toEqual([
        'token', 'message', 'tool_start', 'tool_end', 'message',
        'message', 'tool_start', 'tool_output', 'tool_end', 'message', 'tool_start', 'tool_end', 'message',
        'token', 'message',
      ]);
      expect(r.requests.map((q) => q.step)).toEqual([1, 2, 3]);
      expect(r.outcome).toMatchObject({ finalResponse: 'The file has 2 lines.', steps: 3, toolsUsed: { write_file: 1, shell: 1, read_file: 1 } });
      expect(r.outcome?.usage).toEqual({ model: 'agent:write-run-read', ...usageSum(r.requests) });
      const msgs = messages(r);
      expect(msgs.map((m) => m.role)).toEqual(['assistant', 'tool', 'assistant', 'tool', 'tool', 'assistant']);
      expect(msgs[0]).toMatchObject({ role: 'assistant', content: 'I will write the file.', tool_calls: [{ name: 'write_file', arguments: '{"path":"notes/a.txt","content":"alpha\\nbeta\\n"}' }] });
      expect(msgs[1]).toMatchObject({ role: 'tool', name: 'write_file', content: 'wrote 11 bytes to notes/a.txt (new file)' });
      expect(msgs[3]).toMatchObject({ role: 'tool', name: 'shell', content: '2 notes/a.txt\n[exit code 0]' });
      expect(msgs[4]).toMatchObject({ role: 'tool', name: 'read_file', content: '     1\talpha\n     2\tbeta\n' });
      expect(msgs[5]).toEqual({ role: 'assistant', content: 'The file has 2 lines.' });
      const starts = r.frames.filter((f) => f.type === 'tool_start');
      expect(starts.map((f) => [f.tool, f.step])).toEqual([['write_file', 1], ['shell', 2], ['read_file', 2]]);
      expect(r.frames.find((f) => f.type === 'tool_end' && f.tool === 'shell')).toMatchObject({ ok: true, exit_code: 0, preview: '2 notes/a.txt [exit code 0]' });
      // What the model got back, in the API's own format.
      const third = sentMessages(r.requests[2]);
      if (api === 'openai-chat') {
        expect(third.slice(-3)).toEqual([
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: expect.any(String), type: 'function', function: { name: 'shell', arguments: '{"command":"wc -l notes/a.txt"}' } },
              { id: expect.any(String), type: 'function', function: { name: 'read_file', arguments: '{"path":"notes/a.txt"}' } },
            ],
          },
          { role: 'tool', tool_call_id: msgs[2]!.role === 'assistant' ? msgs[2]!.tool_calls![0]!.id : '', content: '2 notes/a.txt\n[exit code 0]' },
          { role: 'tool', tool_call_id: msgs[2]!.role === 'assistant' ? msgs[2]!.tool_calls![1]!.id : '', content: '     1\talpha\n     2\tbeta\n' },
        ]);
      } else {
        expect(third.slice(-2)).toEqual([
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: expect.any(String), name: 'shell', input: { command: 'wc -l notes/a.txt' } },
              { type: 'tool_use', id: expect.any(String), name: 'read_file', input: { path: 'notes/a.txt' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: expect.any(String), content: '2 notes/a.txt\n[exit code 0]' },
              { type: 'tool_result', tool_use_id: expect.any(String), content: '     1\talpha\n     2\tbeta\n' },
            ],
          },
        ]);
      }
    });

    it('MAX_STEPS: a model that never stops is stopped at max_steps; the last calls are answered, not run', async () => {
      const r = await go(task(api, 'agent:loop', { max_steps: 3 }));
      expect(r.error?.code).toBe('MAX_STEPS');
      expect(r.error?.message).toBe('the model was still calling tools after 3 model calls (max_steps 3)');
      expect(r.error?.hint).toMatch(/Raise --max-steps .* or split the task/);
      expect(r.error?.progress).toEqual({ steps: 3, toolsUsed: { shell: 2 }, usage: { model: 'agent:loop', ...usageSum(r.requests) } });
      expect(r.requests).toHaveLength(3);
      expect(r.frames.filter((f) => f.type === 'tool_start')).toHaveLength(2);
      const last = messages(r).at(-1);
      expect(last).toMatchObject({ role: 'tool', name: 'shell', content: 'not run: the step limit (max_steps 3) was reached', is_error: true });
    });

    it('malformed arguments, an unknown tool and a missing argument go back to the model as errors', async () => {
      const r = await go(task(api, 'agent:malformed'));
      expect(r.error).toBeUndefined();
      expect(r.outcome).toMatchObject({ finalResponse: 'I will stop here.', steps: 2, toolsUsed: {} });
      const results = messages(r).filter((m) => m.role === 'tool');
      expect(results.every((m) => m.role === 'tool' && m.is_error)).toBe(true);
      expect(results[0]!.content).toMatch(/^error: the arguments are not valid JSON: /);
      expect(results[1]!.content).toBe('error: unknown tool "python"; the tools are: shell, read_file, write_file, edit_file, list_files, search');
      expect(results[2]!.content).toBe('error: missing required argument "path" (read_file takes path, offset, limit)');
      expect(r.frames.filter((f) => f.type === 'tool_end').map((f) => f.ok)).toEqual([false, false, false]);
      // The malformed call went back as {} so the server accepts the history.
      const second = JSON.stringify(sentMessages(r.requests[1]));
      expect(second).not.toContain('echo hi"');
    });

    it('a final answer over the message cap: the message frame is cut and flagged', async () => {
      const long = `${'word '.repeat(60_000)}end`;
      server(api).setScript('long-answer', { steps: [{ text: long, textPieceChars: 20_000 }] });
      const r = await go(task(api, 'agent:long-answer'));
      const frame = r.frames.find((f) => f.type === 'message') as unknown as { message: ChatMessage; truncated?: boolean };
      expect(frame.truncated).toBe(true);
      expect(Buffer.byteLength(frame.message.content)).toBe(MAX_MESSAGE_FRAME_CONTENT_BYTES);
      expect(long.startsWith(frame.message.content)).toBe(true);
    });

    it('the deadline kills a hanging command; the error names the step and the tool; nothing is left running', async () => {
      const marker = uniqueMarker();
      const ac = new AbortController();
      const r = await go(task(api, `agent:hang?marker=${marker}`), {
        signal: ac.signal,
        onFrame: (f) => {
          if (f.type === 'tool_output') ac.abort(deadlineFailure(1500));
        },
      });
      expect(r.error?.code).toBe('TIMEOUT');
      expect(r.error?.message).toBe('the task deadline of 1500 ms passed before the reply was complete (at step 1 of at most 50, while running shell)');
      expect(r.error?.progress).toMatchObject({ steps: 1, toolsUsed: { shell: 1 } });
      expect(messages(r).at(-1)).toMatchObject({ role: 'tool', is_error: true, content: 'started\n[stopped: the task was cancelled; the command and its processes were killed]' });
      expect(processesWith(marker)).toEqual([]);
      expect(hangCommand(marker)).toContain(marker);
    });
  });
}

describe('agent loop: tool calls written as text (a local server that did not parse them)', () => {
  it('both XML formats are run, kept out of the reply, and sent back as structured calls', async () => {
    openai.setScript('xml', {
      steps: [
        { text: 'Writing.\n<tool_call>\n{"name": "write_file", "arguments": {"path": "x.py", "content": "print(6 * 7)\\n"}}\n</tool_call>', textPieceChars: 4 },
        { text: '<tool_call>\n<function=shell>\n<parameter=command>\npython3 x.py\n</parameter>\n</function>\n</tool_call>', textPieceChars: 3 },
        { text: 'It prints 42.' },
      ],
    });
    const r = await go(task('openai-chat', 'agent:xml'));
    expect(r.error).toBeUndefined();
    expect(r.outcome).toMatchObject({ finalResponse: 'It prints 42.', steps: 3, toolsUsed: { write_file: 1, shell: 1 } });
    const tokens = r.frames.filter((f) => f.type === 'token').map((f) => f.content).join('');
    expect(tokens).toBe('Writing.\nIt prints 42.');
    expect(messages(r)[0]).toEqual({ role: 'assistant', content: 'Writing.', tool_calls: [{ id: 'call_logos_1_x0', name: 'write_file', arguments: '{"path":"x.py","content":"print(6 * 7)\\n"}' }] });
    expect(messages(r)[3]).toMatchObject({ role: 'tool', content: '42\n[exit code 0]' });
    const third = sentMessages(r.requests[2]);
    expect(third[4]).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'call_logos_2_x0', type: 'function', function: { name: 'shell', arguments: '{"command":"python3 x.py"}' } }] });
  });
});

describe('agent loop: Anthropic thinking', () => {
  it('thinking blocks (signed, and redacted) go back verbatim, first in the assistant turn', async () => {
    anthropic.setScript('think', {
      steps: [
        { thinking: 'I need the listing.', redactedThinking: 'secret', toolCalls: [{ name: 'list_files', arguments: {} }] },
        { thinking: 'Now answer.', text: 'Empty.' },
      ],
    });
    const r = await go(task('anthropic-messages', 'agent:think'));
    expect(r.error).toBeUndefined();
    expect(r.outcome?.finalResponse).toBe('Empty.');
    const sent = sentMessages(r.requests[1]);
    const content = sent[1]!.content as Array<Record<string, unknown>>;
    expect(content[0]).toEqual({ type: 'thinking', thinking: 'I need the listing.', signature: fakeSignature('I need the listing.') });
    expect(content[1]).toMatchObject({ type: 'redacted_thinking', data: expect.any(String) });
    expect(content[2]).toMatchObject({ type: 'tool_use', name: 'list_files', input: {} });
    expect(r.frames.filter((f) => f.type === 'thinking').map((f) => f.content).join('')).toBe('I need the listing.Now answer.');
  });

  it('the fake refuses a follow-up without the thinking block, as the API does', async () => {
    const res = await fetch(`${anthropic.url}/messages`, {
      method: 'POST',
      headers: { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'agent:think',
        max_tokens: 100,
        stream: true,
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'list_files', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'a' }] },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('must start with a thinking block');
  });
});

describe('agent loop: history and plain tasks', () => {
  it('earlier turns with tool calls (neutral form) are converted; the fake accepts them', async () => {
    openai.setScript('after-history', { steps: [{ text: 'unused' }, { text: 'Still 2 lines.' }] });
    const history: ChatMessage[] = [
      { role: 'user', content: 'Count lines.' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'old1', name: 'shell', arguments: '{"command":"wc -l a"}' }] },
      { role: 'tool', tool_call_id: 'old1', name: 'shell', content: '2 a\n[exit code 0]' },
      { role: 'user', content: 'And now?' },
    ];
    const r = await go(task('openai-chat', 'agent:after-history', { messages: history }));
    expect(r.error).toBeUndefined();
    expect(r.outcome).toMatchObject({ finalResponse: 'Still 2 lines.', steps: 1 });
    expect(r.requests[0]!.step).toBe(2);
    expect(messages(r)).toEqual([{ role: 'assistant', content: 'Still 2 lines.' }]);
  });

  it('without tools: no tools in the request, no message frames, no steps', async () => {
    const r = await go(task('openai-chat', 'scenario:plain', { tools: undefined }));
    expect(r.outcome).not.toHaveProperty('steps');
    expect(r.frames.every((f) => f.type === 'token')).toBe(true);
    expect(r.requests[0]!.body).not.toHaveProperty('tools');
    expect(existsSync(join(cwd, 'notes'))).toBe(false);
  });
});
