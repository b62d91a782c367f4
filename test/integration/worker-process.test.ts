/**
 * The worker bundle as the host runs it: `node dist/worker/logos-worker.mjs`,
 * one task on stdin (then EOF), JSON-line frames on stdout, its log on stderr
 * and in a file, an exit code. Runs against the fake model servers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, MAX_INLINE_RESPONSE_BYTES, type RouteApi, type TaskInput } from '../../src/core/protocol.js';
import { floodReply, startFakeAnthropic, startFakeOpenAI, UNICODE_REPLY_PREFIX, type FakeModelServer } from '../fakes/model-servers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE = join(ROOT, 'dist', 'worker', 'logos-worker.mjs');

type AnyFrame = Record<string, unknown> & { type: string };

interface WorkerRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  frames: AnyFrame[];
  pid: number;
  /** 'data' events on the stdout pipe: at most one per write the worker made (reads may merge writes, never split one into more than its pipe-sized pieces). */
  stdoutChunks: number;
}

let tmp: string;
let logFile: string;
let openai: FakeModelServer;
let anthropic: FakeModelServer;

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-worker.mjs')], { cwd: ROOT, stdio: 'pipe' });
  tmp = mkdtempSync(join(tmpdir(), 'logos-worker-test-'));
  logFile = join(tmp, 'worker.jsonl');
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic();
});

afterAll(async () => {
  await openai?.close();
  await anthropic?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function task(api: RouteApi, baseUrl: string, model: string, extra: Partial<TaskInput> = {}): TaskInput {
  return {
    v: 1,
    type: 'task',
    task_id: 't_proc',
    sandbox: 'demo',
    gateway: 'local',
    route: { provider: 'fake', model, api, base_url: baseUrl },
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello world' },
    ],
    ...extra,
  };
}

/**
 * Spawn the worker with a clean environment (nothing inherited but PATH), write
 * the input, close stdin, collect everything. `onFrame` sees frames live.
 */
function runWorker(
  input: string | TaskInput,
  env: Record<string, string> = {},
  onFrame?: (f: AnyFrame, child: ReturnType<typeof spawn>) => void,
): Promise<WorkerRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BUNDLE], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LOGOS_WORKER_LOG: logFile, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let stdoutChunks = 0;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdoutChunks++;
      stdout += d;
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          onFrame?.(JSON.parse(line) as AnyFrame, child);
        } catch {
          // framing is asserted on the whole stdout below
        }
      }
    });
    child.stderr.on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolvePromise({ code, signal, stdout, stderr, frames: parseStdout(stdout), pid: child.pid ?? -1, stdoutChunks });
    });
    child.stdin.end(typeof input === 'string' ? input : JSON.stringify(input));
  });
}

/** Every stdout line is one JSON frame with a type, newline-terminated; nothing else. */
function parseStdout(stdout: string): AnyFrame[] {
  if (stdout === '') return [];
  expect(stdout.endsWith('\n'), 'stdout ends with a newline').toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const f = JSON.parse(line) as AnyFrame;
      expect(typeof f.type).toBe('string');
      return f;
    });
}

/** ready first (when the task was readable), exactly one task_result and it is last. */
function expectFraming(run: WorkerRun, withReady = true): AnyFrame {
  const { frames } = run;
  if (withReady) {
    expect(frames[0]).toMatchObject({ v: 1, type: 'ready', task_id: 't_proc', worker: { version: '1.0.0', runtime: `node ${process.versions.node}`, pid: run.pid } });
    expect(Number.isNaN(Date.parse(String(frames[0]!.ts)))).toBe(false);
  }
  expect(frames.filter((f) => f.type === 'task_result')).toHaveLength(1);
  const last = frames[frames.length - 1]!;
  expect(last.type).toBe('task_result');
  expect(typeof last.duration_ms).toBe('number');
  // stderr is the worker's log: JSON lines only
  for (const line of run.stderr.split('\n').filter(Boolean)) {
    expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
  }
  return last;
}

/** [type, content] of the middle frames, for exact sequence assertions. */
function stream(run: WorkerRun): Array<[string, unknown]> {
  return run.frames.filter((f) => f.type !== 'ready' && f.type !== 'task_result').map((f) => [f.type, f.content]);
}

describe('worker process: replies', () => {
  it('plain OpenAI reply: ready, tokens, one task_result with usage; exit 0', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:plain'));
    const result = expectFraming(run);
    expect(stream(run)).toEqual([
      ['token', 'Echo: '],
      ['token', 'hello '],
      ['token', 'world'],
    ]);
    expect(result).toEqual({
      type: 'task_result',
      task_id: 't_proc',
      status: 'ok',
      final_response: 'Echo: hello world',
      usage: { input_tokens: 4, output_tokens: 3, model: 'scenario:plain' },
      duration_ms: expect.any(Number),
    });
    expect(run.code).toBe(0);
    const logLines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logLines.some((l) => l.task_id === 't_proc' && l.msg === 'task done')).toBe(true);
  });

  it('LM Studio reasoning_content: thinking frames, then tokens', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:reasoning'));
    const result = expectFraming(run);
    expect(stream(run)).toEqual([
      ['thinking', 'Thinking '],
      ['thinking', 'about: '],
      ['thinking', 'hello '],
      ['thinking', 'world'],
      ['token', 'Echo: '],
      ['token', 'hello '],
      ['token', 'world'],
    ]);
    expect(result.final_response).toBe('Echo: hello world');
    expect(run.code).toBe(0);
  });

  it('reasoning only, empty content: the reasoning becomes the reply', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:reasoning-only'));
    const result = expectFraming(run);
    expect(stream(run).every(([t]) => t === 'thinking')).toBe(true);
    expect(result).toMatchObject({ status: 'ok', final_response: 'Thinking about: hello world' });
  });

  it('inline <think> split across chunks: thinking frames, tags stripped', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:think-tags'));
    const result = expectFraming(run);
    const s = stream(run);
    expect(s.filter(([t]) => t === 'thinking').map(([, c]) => c).join('')).toBe('Thinking about: hello world');
    expect(s.filter(([t]) => t === 'token').map(([, c]) => c).join('')).toBe('\n\nEcho: hello world');
    expect(run.stdout).not.toContain('<think>');
    expect(run.stdout).not.toContain('</think>');
    expect(result.final_response).toBe('Echo: hello world');
  });

  it('bytes split mid-UTF-8 and CRLF/keep-alive noise do not corrupt the text', async () => {
    for (const scenario of ['split-bytes?chunk_bytes=1', 'crlf', 'keepalive']) {
      const run = await runWorker(task('openai-chat', openai.url, `scenario:${scenario}`));
      const result = expectFraming(run);
      const expected = scenario.startsWith('split') ? `${UNICODE_REPLY_PREFIX} Echo: hello world` : 'Echo: hello world';
      expect(result.final_response, scenario).toBe(expected);
      expect(run.stdout).not.toContain('\uFFFD');
    }
  });

  it('Anthropic thinking + text: exact frames and usage', async () => {
    const run = await runWorker(task('anthropic-messages', anthropic.url, 'scenario:reasoning'));
    const result = expectFraming(run);
    expect(stream(run)).toEqual([
      ['thinking', 'Thinking '],
      ['thinking', 'about: '],
      ['thinking', 'hello '],
      ['thinking', 'world'],
      ['token', 'Echo: '],
      ['token', 'hello '],
      ['token', 'world'],
    ]);
    expect(result).toMatchObject({ status: 'ok', final_response: 'Echo: hello world', usage: { input_tokens: 4, output_tokens: 7, model: 'scenario:reasoning' } });
    expect(run.code).toBe(0);
  });
});

describe('worker process: replies of any size', () => {
  const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

  /** Every line a JSON frame under the host's limit; the token contents joined. */
  function checkLines(run: WorkerRun): string {
    for (const l of run.stdout.slice(0, -1).split('\n')) expect(bytes(l)).toBeLessThan(MAX_FRAME_BYTES);
    return run.frames.filter((f) => f.type === 'token').map((f) => String(f.content)).join('');
  }

  /** final_response is the longest whole-character beginning of `full` within the cap. */
  function expectHead(result: AnyFrame, full: string): void {
    const head = String(result.final_response);
    expect(full.startsWith(head)).toBe(true);
    expect(Buffer.from(head).toString()).toBe(head); // no lone surrogate
    expect(bytes(head)).toBeLessThanOrEqual(MAX_INLINE_RESPONSE_BYTES);
    const next = String.fromCodePoint(full.codePointAt(head.length)!);
    expect(bytes(head) + bytes(next)).toBeGreaterThan(MAX_INLINE_RESPONSE_BYTES);
  }

  /** The worker's own count of frames and stdout writes, from its 'task done' / 'task failed' log line. */
  function writeStats(run: WorkerRun): { frames: number; stdout_writes: number } {
    const line = run.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'task done' || l.msg === 'task failed');
    return { frames: Number(line?.frames), stdout_writes: Number(line?.stdout_writes) };
  }

  it('a 5 MB reply streamed fast: lines under 1 MiB, tokens carry all of it, the result is the capped head; writes coalesced', async () => {
    const tokens = 50_000;
    const chars = 100;
    const reply = floodReply(tokens, chars);
    expect(bytes(reply)).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    const run = await runWorker(task('openai-chat', openai.url, `scenario:flood?tokens=${tokens}&piece_chars=${chars}`));
    const result = expectFraming(run);
    expect(checkLines(run)).toBe(reply);
    expect(run.frames.filter((f) => f.type === 'token')).toHaveLength(tokens);
    expect(result).toMatchObject({ status: 'ok', final_response_truncated: true, final_response_bytes: bytes(reply), usage: { output_tokens: tokens } });
    expectHead(result, reply);
    expect(run.code).toBe(0);
    // Coalesced: the worker made far fewer writes than it sent frames (its own count, and what the pipe delivered).
    const stats = writeStats(run);
    expect(stats.frames).toBe(run.frames.length);
    expect(stats.stdout_writes * 10).toBeLessThan(stats.frames);
    expect(run.stdoutChunks * 10).toBeLessThan(run.frames.length);
  });

  it('one multi-megabyte delta (Anthropic) goes out as several frames under 1 MiB', async () => {
    const reply = floodReply(1, 2_000_000);
    expect(bytes(reply)).toBeGreaterThan(MAX_FRAME_BYTES);
    const run = await runWorker(task('anthropic-messages', anthropic.url, 'scenario:flood?tokens=1&piece_chars=2000000'));
    const result = expectFraming(run);
    expect(checkLines(run)).toBe(reply);
    expect(run.frames.filter((f) => f.type === 'token').length).toBeGreaterThan(1);
    expect(result).toMatchObject({ status: 'ok', final_response_truncated: true, final_response_bytes: bytes(reply) });
    expectHead(result, reply);
  });

  it('an error after megabytes of tokens: the error result keeps the capped head of what was shown', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:flood?tokens=40000&piece_chars=100&drop_after=30000'));
    const result = expectFraming(run);
    const shown = checkLines(run);
    expect(bytes(shown)).toBeGreaterThan(MAX_INLINE_RESPONSE_BYTES);
    expect(floodReply(40_000, 100).startsWith(shown)).toBe(true);
    expect(result).toMatchObject({ status: 'error', error: { code: 'NETWORK' }, final_response_truncated: true, final_response_bytes: bytes(shown) });
    expectHead(result, shown);
    expect(run.code).toBe(1);
  });

  it('a small reply carries no truncation fields', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:flood?tokens=100'));
    const result = expectFraming(run);
    expect(result.final_response).toBe(floodReply(100));
    expect(result).not.toHaveProperty('final_response_truncated');
    expect(result).not.toHaveProperty('final_response_bytes');
  });
});

describe('worker process: classified failures', () => {
  const CASES: Array<{ api: RouteApi; scenario: string; code: string }> = [
    { api: 'openai-chat', scenario: 'http-401', code: 'AUTH' },
    { api: 'openai-chat', scenario: 'http-403', code: 'AUTH' },
    { api: 'openai-chat', scenario: 'http-404', code: 'MODEL_NOT_FOUND' },
    { api: 'openai-chat', scenario: 'http-400-model-not-loaded', code: 'MODEL_NOT_FOUND' },
    { api: 'openai-chat', scenario: 'http-400-context', code: 'CONTEXT_OVERFLOW' },
    { api: 'openai-chat', scenario: 'http-429', code: 'RATE_LIMIT' },
    { api: 'openai-chat', scenario: 'http-500', code: 'UPSTREAM_5XX' },
    { api: 'openai-chat', scenario: 'unexpected-endpoint', code: 'INVALID_RESPONSE' },
    { api: 'openai-chat', scenario: 'empty', code: 'INVALID_RESPONSE' },
    { api: 'openai-chat', scenario: 'drop', code: 'NETWORK' },
    { api: 'anthropic-messages', scenario: 'http-401', code: 'AUTH' },
    { api: 'anthropic-messages', scenario: 'http-404', code: 'MODEL_NOT_FOUND' },
    { api: 'anthropic-messages', scenario: 'http-429', code: 'RATE_LIMIT' },
    { api: 'anthropic-messages', scenario: 'http-529', code: 'UPSTREAM_5XX' },
    { api: 'anthropic-messages', scenario: 'http-400-context', code: 'CONTEXT_OVERFLOW' },
  ];
  for (const c of CASES) {
    it(`${c.api} ${c.scenario} → ${c.code}, exit 1`, async () => {
      const base = c.api === 'openai-chat' ? openai.url : anthropic.url;
      const run = await runWorker(task(c.api, base, `scenario:${c.scenario}`));
      const result = expectFraming(run);
      expect(result).toMatchObject({ status: 'error', error: { code: c.code, message: expect.any(String), hint: expect.any(String) } });
      // an error result keeps exactly the text the user already saw as tokens
      const shown = stream(run).filter(([t]) => t === 'token').map(([, c]) => c).join('');
      expect(result.final_response).toBe(shown);
      expect(run.code).toBe(1);
    });
  }

  it('the error message carries the upstream text', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:unexpected-endpoint'));
    const result = expectFraming(run);
    expect((result.error as { message: string }).message).toContain('Unexpected endpoint or method. (POST /v1/chat/completions)');
  });

  it('mid-stream error after some tokens: tokens, then an error result keeping the partial text', async () => {
    for (const [api, base, code] of [
      ['openai-chat', openai.url, 'UPSTREAM_5XX'],
      ['anthropic-messages', anthropic.url, 'UPSTREAM_5XX'],
    ] as const) {
      const run = await runWorker(task(api, base, 'scenario:mid-stream-error'));
      const result = expectFraming(run);
      const tokens = stream(run).filter(([t]) => t === 'token');
      expect(tokens.length, api).toBeGreaterThan(0);
      expect(result).toMatchObject({ status: 'error', error: { code } });
      expect(result.final_response).toBe(tokens.map(([, c]) => c).join(''));
      expect(run.code).toBe(1);
    }
  });

  it('no model → NO_MODEL after ready, no request sent', async () => {
    const before = openai.requests.length;
    const run = await runWorker(task('openai-chat', openai.url, ''));
    const result = expectFraming(run);
    expect(result).toMatchObject({ status: 'error', final_response: '', error: { code: 'NO_MODEL' } });
    expect(run.frames).toHaveLength(2);
    expect(openai.requests.length).toBe(before);
    expect(run.code).toBe(1);
  });

  it('invalid task JSON → INVALID_TASK, exit 2, no ready', async () => {
    const run = await runWorker('{"v":1,"type":"task",');
    expectFraming(run, false);
    expect(run.frames).toHaveLength(1);
    expect(run.frames[0]).toMatchObject({ type: 'task_result', task_id: '', status: 'error', final_response: '', error: { code: 'INVALID_TASK' } });
    expect(run.code).toBe(2);
  });

  it('a task of the wrong shape → INVALID_TASK naming the field, keeping the task_id', async () => {
    const run = await runWorker(JSON.stringify({ ...task('openai-chat', openai.url, 'm'), messages: 'hello' }));
    expect(run.frames).toHaveLength(1);
    expect(run.frames[0]).toMatchObject({ task_id: 't_proc', error: { code: 'INVALID_TASK', message: expect.stringContaining('messages') } });
    expect(run.code).toBe(2);
  });

  it('empty stdin → INVALID_TASK, exit 2', async () => {
    const run = await runWorker('');
    expect(run.frames).toEqual([expect.objectContaining({ type: 'task_result', error: expect.objectContaining({ code: 'INVALID_TASK' }) })]);
    expect(run.code).toBe(2);
  });
});

describe('worker process: endpoints and routing', () => {
  it('OPENAI_BASE_URL takes precedence over route.base_url', async () => {
    const before = openai.requests.length;
    const run = await runWorker(task('openai-chat', 'http://127.0.0.1:9/v1', 'scenario:plain'), { OPENAI_BASE_URL: openai.url });
    expect(expectFraming(run)).toMatchObject({ status: 'ok', final_response: 'Echo: hello world' });
    expect(openai.requests.length).toBe(before + 1);
  });

  it('ANTHROPIC_BASE_URL takes precedence for anthropic-messages (OPENAI_BASE_URL is ignored there)', async () => {
    const run = await runWorker(task('anthropic-messages', 'http://127.0.0.1:9/v1', 'scenario:plain'), {
      ANTHROPIC_BASE_URL: anthropic.url,
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    });
    expect(expectFraming(run)).toMatchObject({ status: 'ok', final_response: 'Echo: hello world' });
  });

  it('without a key it sends the placeholder; with one it sends the key', async () => {
    const before = openai.requests.length;
    await runWorker(task('openai-chat', openai.url, 'scenario:plain'));
    await runWorker(task('openai-chat', openai.url, 'scenario:plain'), { OPENAI_API_KEY: 'sk-test-key-0000000000000' });
    expect(openai.requests[before]!.headers.authorization).toBe('Bearer logos-placeholder');
    expect(openai.requests[before + 1]!.headers.authorization).toBe('Bearer sk-test-key-0000000000000');
  });

  describe('LOGOS_INFERENCE_SOCKET', () => {
    let proxy: http.Server;
    let socketPath: string;
    const seen: Array<{ path: string; host: string | undefined }> = [];

    beforeAll(async () => {
      socketPath = join(tmp, 'inference.sock');
      // The host-side proxy in miniature: listens on a Unix socket, forwards to the fake server.
      proxy = http.createServer((req, res) => {
        seen.push({ path: req.url ?? '', host: req.headers.host });
        // Hop-by-hop headers stay on their hop: forwarding the worker's `Connection: close`
        // over a pooled keep-alive socket makes the next request a parse error upstream.
        const { connection: _c, 'keep-alive': _k, ...headers } = req.headers;
        const upstream = http.request(
          { host: '127.0.0.1', port: openai.port, method: req.method, path: req.url, headers: { ...headers, host: `127.0.0.1:${openai.port}` } },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      });
      await new Promise<void>((r) => proxy.listen(socketPath, r));
    });

    afterAll(async () => {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    });

    it('sends every request over the socket, whatever the URL host and scheme', async () => {
      for (const base of ['http://inference.local/v1', 'https://inference.local/v1']) {
        const run = await runWorker(task('openai-chat', base, 'scenario:reasoning'), { LOGOS_INFERENCE_SOCKET: socketPath });
        expect(expectFraming(run), `${base} ${run.stdout}`).toMatchObject({ status: 'ok', final_response: 'Echo: hello world' });
      }
      expect(seen).toEqual([
        { path: '/v1/chat/completions', host: 'inference.local' },
        { path: '/v1/chat/completions', host: 'inference.local' },
      ]);
    });

    it('a missing socket → NETWORK naming the socket', async () => {
      const missing = join(tmp, 'missing.sock');
      const run = await runWorker(task('openai-chat', 'http://inference.local/v1', 'scenario:plain'), { LOGOS_INFERENCE_SOCKET: missing });
      const result = expectFraming(run);
      expect(result).toMatchObject({ status: 'error', error: { code: 'NETWORK' } });
      expect(JSON.stringify(result.error)).toContain(missing);
      expect(run.code).toBe(1);
    });
  });

  it('no network name resolution outside the socket → NETWORK with a hint about the sandbox', async () => {
    const run = await runWorker(task('openai-chat', 'http://no-such-host.invalid/v1', 'scenario:plain'));
    const result = expectFraming(run);
    expect(result).toMatchObject({ status: 'error', error: { code: 'NETWORK' } });
    expect(run.code).toBe(1);
  });
});

describe('worker process: time limits and signals', () => {
  it('deadline_ms with a stalled stream → TIMEOUT result, exit 1', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:stall', { deadline_ms: 700 }), { LOGOS_IDLE_TIMEOUT_MS: '600000' });
    const result = expectFraming(run);
    expect(stream(run).length).toBeGreaterThan(0);
    expect(result).toMatchObject({ status: 'error', error: { code: 'TIMEOUT', message: expect.stringContaining('deadline of 700 ms') } });
    expect(run.code).toBe(1);
  });

  it('idle timeout between chunks → TIMEOUT result', async () => {
    const run = await runWorker(task('anthropic-messages', anthropic.url, 'scenario:stall?stall_after=4'), { LOGOS_IDLE_TIMEOUT_MS: '400' });
    const result = expectFraming(run);
    expect(result).toMatchObject({ status: 'error', error: { code: 'TIMEOUT', message: expect.stringContaining('idle') } });
  });

  it('SIGTERM mid-stream: exits promptly with 143 and no task_result', async () => {
    const run = await runWorker(task('openai-chat', openai.url, 'scenario:stall'), { LOGOS_IDLE_TIMEOUT_MS: '600000' }, (f, child) => {
      if (f.type === 'token') child.kill('SIGTERM');
    });
    expect(run.code).toBe(143);
    expect(run.frames[0]!.type).toBe('ready');
    expect(run.frames.some((f) => f.type === 'task_result')).toBe(false);
  });
});

describe('worker process: secrets', () => {
  it('never writes the API key to stdout, stderr or the log file, even when the upstream echoes it', async () => {
    const key = 'sk-proj-SECRETabcdefghijklmnopqrstuvwxyz0123';
    // An upstream that repeats the whole Authorization header in its error.
    const echo = http.createServer((req, res) => {
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Invalid authorization header: ${String(req.headers.authorization)} (key ${key})` } }));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as { port: number }).port;
    try {
      const ownLog = join(tmp, 'secret-test.jsonl');
      const run = await runWorker(task('openai-chat', `http://127.0.0.1:${port}/v1`, 'm'), { OPENAI_API_KEY: key, LOGOS_WORKER_LOG: ownLog });
      const result = expectFraming(run);
      expect(result).toMatchObject({ status: 'error', error: { code: 'AUTH' } });
      expect((result.error as { message: string }).message).toContain('Invalid authorization header');
      for (const text of [run.stdout, run.stderr, readFileSync(ownLog, 'utf8')]) {
        expect(text).not.toContain(key);
        expect(text).not.toContain('SECRETabcdef');
      }
    } finally {
      echo.closeAllConnections();
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });
});
