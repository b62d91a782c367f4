/**
 * runTask in-process against the fake model servers: every scenario of both
 * fakes, end to end through HTTP, SSE parsing, think splitting and
 * classification (the process-level tests cover stdin/stdout/exit codes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, RouteApi, TaskInput } from '../../src/core/protocol.js';
import { deadlineFailure, WorkerFailure } from '../../src/worker/classify.js';
import type { WorkerLogger } from '../../src/worker/log.js';
import { runTask, type WorkerEnv } from '../../src/worker/run.js';
import { startFakeAnthropic, startFakeOpenAI, UNICODE_REPLY_PREFIX, type FakeModelServer } from '../fakes/model-servers.js';

const quiet: WorkerLogger = { debug() {}, info() {}, warn() {}, error() {}, setTaskId() {} };

function task(api: RouteApi, baseUrl: string, model: string, extra: Partial<TaskInput> = {}): TaskInput {
  return {
    v: 1,
    type: 'task',
    task_id: 't_run',
    sandbox: 'demo',
    route: { provider: 'fake', model, api, base_url: baseUrl },
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello world' },
    ],
    ...extra,
  };
}

interface Outcome {
  frames: Frame[];
  tokens: string;
  thinking: string;
  final?: string;
  usage?: unknown;
  error?: WorkerFailure;
}

async function go(
  t: TaskInput,
  env: WorkerEnv = {},
  opts: { idleTimeoutMs?: number; signal?: AbortSignal; onFrame?: (f: Frame) => void } = {},
): Promise<Outcome> {
  const frames: Frame[] = [];
  const out: Outcome = { frames, tokens: '', thinking: '' };
  try {
    const r = await runTask(t, { env, log: quiet, emit: (f) => {
        frames.push(f);
        opts.onFrame?.(f);
      }, idleTimeoutMs: opts.idleTimeoutMs ?? 10_000, signal: opts.signal });
    out.final = r.finalResponse;
    out.usage = r.usage;
  } catch (err) {
    if (!(err instanceof WorkerFailure)) throw err;
    out.error = err;
  }
  for (const f of frames) {
    if (f.type === 'token') out.tokens += String(f.content);
    if (f.type === 'thinking') out.thinking += String(f.content);
  }
  return out;
}

let openai: FakeModelServer;
let anthropic: FakeModelServer;
beforeAll(async () => {
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic();
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});

const ECHO = 'Echo: hello world';
const THOUGHT = 'Thinking about: hello world';

const OK: Array<{ scenario: string; final: string; tokens?: string; thinking?: string }> = [
  { scenario: 'plain', final: ECHO, tokens: ECHO, thinking: '' },
  { scenario: 'reasoning', final: ECHO, tokens: ECHO, thinking: THOUGHT },
  { scenario: 'reasoning-field', final: ECHO, tokens: ECHO, thinking: THOUGHT },
  { scenario: 'reasoning-details', final: ECHO, tokens: ECHO, thinking: THOUGHT },
  { scenario: 'think-tags', final: ECHO, tokens: `\n\n${ECHO}`, thinking: THOUGHT },
  { scenario: 'think-only', final: THOUGHT, tokens: '', thinking: THOUGHT },
  { scenario: 'reasoning-only', final: THOUGHT, tokens: '', thinking: THOUGHT },
  { scenario: 'keepalive', final: ECHO },
  { scenario: 'split-bytes', final: `${UNICODE_REPLY_PREFIX} ${ECHO}` },
  { scenario: 'split-bytes?chunk_bytes=1', final: `${UNICODE_REPLY_PREFIX} ${ECHO}` },
  { scenario: 'crlf', final: ECHO },
  { scenario: 'multiline-data', final: ECHO },
  { scenario: 'usage-last-chunk', final: ECHO },
  { scenario: 'no-done', final: ECHO },
  { scenario: 'slow?delay_ms=5', final: ECHO },
];

const FAIL: Array<{ scenario: string; code: string; message?: RegExp }> = [
  { scenario: 'http-400-context', code: 'CONTEXT_OVERFLOW' },
  { scenario: 'http-400-model-not-loaded', code: 'MODEL_NOT_FOUND' },
  { scenario: 'http-401', code: 'AUTH' },
  { scenario: 'http-403', code: 'AUTH' },
  { scenario: 'http-404', code: 'MODEL_NOT_FOUND' },
  { scenario: 'http-413', code: 'CONTEXT_OVERFLOW' },
  { scenario: 'http-429', code: 'RATE_LIMIT' },
  { scenario: 'http-500', code: 'UPSTREAM_5XX' },
  { scenario: 'http-503', code: 'UPSTREAM_5XX' },
  { scenario: 'http-529', code: 'UPSTREAM_5XX' },
  { scenario: 'mid-stream-error', code: 'UPSTREAM_5XX', message: /mid-stream/ },
  { scenario: 'unexpected-endpoint', code: 'INVALID_RESPONSE', message: /Unexpected endpoint or method/ },
  { scenario: 'drop', code: 'NETWORK' },
  { scenario: 'truncated', code: 'NETWORK', message: /ended mid-reply/ },
  { scenario: 'empty', code: 'INVALID_RESPONSE' },
  { scenario: 'malformed', code: 'INVALID_RESPONSE', message: /malformed/ },
  { scenario: 'stall', code: 'TIMEOUT', message: /idle timeout/ },
  { scenario: 'hang', code: 'TIMEOUT', message: /idle timeout/ },
];

for (const api of ['openai-chat', 'anthropic-messages'] as const) {
  describe(`runTask ${api}`, () => {
    const base = (): string => (api === 'openai-chat' ? openai.url : anthropic.url);

    for (const c of OK) {
      it(`scenario ${c.scenario} → ok`, async () => {
        const r = await go(task(api, base(), `scenario:${c.scenario}`));
        expect(r.error).toBeUndefined();
        expect(r.final).toBe(c.final);
        if (c.tokens !== undefined) expect(r.tokens).toBe(c.tokens);
        if (c.thinking !== undefined) expect(r.thinking).toBe(c.thinking);
        expect(r.frames.every((f) => f.type === 'token' || f.type === 'thinking')).toBe(true);
      });
    }

    for (const c of FAIL) {
      it(`scenario ${c.scenario} → ${c.code}`, async () => {
        const r = await go(task(api, base(), `scenario:${c.scenario}`), {}, { idleTimeoutMs: c.code === 'TIMEOUT' ? 300 : 10_000 });
        expect(r.final).toBeUndefined();
        expect(r.error?.code).toBe(c.code);
        if (c.message) expect(r.error?.message).toMatch(c.message);
        expect(r.error?.hint).toBeTruthy();
      });
    }

    it('reports usage with the served model', async () => {
      const r = await go(task(api, base(), 'scenario:plain'));
      // fake counts words: prompt "Be brief." + "hello world" = 4, reply "Echo: hello world" = 3
      expect(r.usage).toEqual({ model: 'scenario:plain', input_tokens: 4, output_tokens: 3 });
    });

    it('NO_MODEL without a request when the route has no model', async () => {
      const server = api === 'openai-chat' ? openai : anthropic;
      const before = server.requests.length;
      const r = await go(task(api, base(), ''));
      expect(r.error?.code).toBe('NO_MODEL');
      expect(server.requests.length).toBe(before);
    });

    it('deadline abort → TIMEOUT with a stalled stream', async () => {
      const ac = new AbortController();
      // abort once the first token has arrived: the stream is open and then stalls
      const r = await go(task(api, base(), 'scenario:stall?stall_after=4'), {}, {
        signal: ac.signal,
        idleTimeoutMs: 60_000,
        onFrame: (f) => {
          if (f.type === 'token' && !ac.signal.aborted) ac.abort(deadlineFailure(1234));
        },
      });
      expect(r.tokens.length).toBeGreaterThan(0);
      expect(r.error?.code).toBe('TIMEOUT');
      expect(r.error?.message).toMatch(/deadline of 1234 ms/);
    });
  });
}

describe('runTask stream cut after the model finished', () => {
  it('OpenAI: finish_reason arrived, then the stream stalls before [DONE] → the reply is kept', async () => {
    // records: role, "Echo: ", "hello ", "world", finish(stop) | usage, [DONE] never sent
    const r = await go(task('openai-chat', openai.url, 'scenario:stall?stall_after=5'), {}, { idleTimeoutMs: 300 });
    expect(r.error).toBeUndefined();
    expect(r.final).toBe(ECHO);
  });
  it('OpenAI: stalls before finish_reason → TIMEOUT', async () => {
    const r = await go(task('openai-chat', openai.url, 'scenario:stall?stall_after=4'), {}, { idleTimeoutMs: 300 });
    expect(r.error?.code).toBe('TIMEOUT');
  });
  it('Anthropic: stop_reason arrived, then the connection drops before message_stop → the reply is kept', async () => {
    // records: message_start, block start, ping, 3 deltas, block stop, message_delta | message_stop
    const r = await go(task('anthropic-messages', anthropic.url, 'scenario:drop?drop_after=8'));
    expect(r.error).toBeUndefined();
    expect(r.final).toBe(ECHO);
    expect(r.usage).toEqual({ model: 'scenario:drop?drop_after=8', input_tokens: 4, output_tokens: 3 });
  });
});

describe('runTask request shape', () => {
  it('OpenAI: path, placeholder key, stream options', async () => {
    const before = openai.requests.length;
    await go(task('openai-chat', openai.url, 'fake-model', { params: { max_tokens: 50, temperature: 0.1 } }));
    const req = openai.requests[before]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer logos-placeholder');
    expect(req.body).toEqual({
      model: 'fake-model',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello world' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 50,
      temperature: 0.1,
    });
  });

  it('Anthropic: path, headers, top-level system', async () => {
    const before = anthropic.requests.length;
    await go(task('anthropic-messages', anthropic.url, 'fake-model'), { ANTHROPIC_API_KEY: 'sk-ant-test-0000000000' });
    const req = anthropic.requests[before]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe('sk-ant-test-0000000000');
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.body).toEqual({ model: 'fake-model', system: 'Be brief.', messages: [{ role: 'user', content: 'hello world' }], max_tokens: 4096, stream: true });
  });

  it('requireKey: the right key passes, a wrong or placeholder key is AUTH', async () => {
    const guarded = await startFakeOpenAI({ requireKey: 'sk-right-key-123456' });
    try {
      expect((await go(task('openai-chat', guarded.url, 'fake-model'), { OPENAI_API_KEY: 'sk-right-key-123456' })).final).toBe(ECHO);
      const wrong = await go(task('openai-chat', guarded.url, 'fake-model'), { OPENAI_API_KEY: 'sk-wrong-key-654321' });
      expect(wrong.error?.code).toBe('AUTH');
      expect(wrong.error?.message).not.toContain('sk-wrong-key-654321');
      expect((await go(task('openai-chat', guarded.url, 'fake-model'))).error?.code).toBe('AUTH');
    } finally {
      await guarded.close();
    }
  });

  it('connection refused → NETWORK', async () => {
    const gone = await startFakeOpenAI();
    const url = gone.url;
    await gone.close();
    const r = await go(task('openai-chat', url, 'fake-model'));
    expect(r.error?.code).toBe('NETWORK');
    expect(r.error?.message).toMatch(/refused/);
  });
});

describe('runTask backpressure', () => {
  it('reads no further while the frame reader is behind, then finishes the reply', async () => {
    const frames: Frame[] = [];
    let calls = 0;
    let framesAtHold = -1;
    let release: () => void = () => undefined;
    const done = runTask(task('openai-chat', openai.url, 'scenario:slow?delay_ms=5'), {
      env: {},
      log: quiet,
      emit: (f) => frames.push(f),
      idleTimeoutMs: 10_000,
      backpressure: () => {
        calls++;
        if (calls > 1) return undefined;
        framesAtHold = frames.length;
        return new Promise<void>((r) => (release = r));
      },
    });
    // The server sends the whole reply in ~40 ms; while held, nothing more may be read.
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
    expect(frames.length).toBe(framesAtHold);
    release();
    const outcome = await done;
    expect(outcome.finalResponse).toBe(ECHO);
    expect(frames.length).toBeGreaterThan(framesAtHold); // the rest came after the release
  });

  it('a reader that holds the worker longer than the idle timeout does not make the model look idle', async () => {
    let release: () => void = () => undefined;
    let held = false;
    const done = runTask(task('openai-chat', openai.url, 'scenario:slow?delay_ms=5'), {
      env: {},
      log: quiet,
      emit: () => {},
      idleTimeoutMs: 100,
      backpressure: () => {
        if (held) return undefined;
        held = true;
        return new Promise<void>((r) => (release = r));
      },
    });
    // Held for several idle timeouts: only time spent waiting for the model counts.
    await new Promise((r) => setTimeout(r, 500));
    release();
    const outcome = await done;
    expect(outcome.finalResponse).toBe(ECHO);
  });
});
