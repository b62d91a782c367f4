import { describe, expect, it } from 'vitest';
import type { TaskInput } from '../../src/core/protocol.js';
import { AnthropicStream, anthropicHeaders, anthropicRequestBody } from '../../src/worker/anthropic.js';
import { WorkerFailure } from '../../src/worker/classify.js';
import { OpenAIStream, openAIHeaders, openAIRequestBody, reasoningOf } from '../../src/worker/openai.js';
import { ReplyBuilder, type StreamHandler, type StreamOutcome } from '../../src/worker/reply.js';
import { idleTimeoutFromEnv, resolveEndpoint } from '../../src/worker/run.js';
import { parseSse } from '../../src/worker/sse.js';
import { parseTask } from '../../src/worker/task.js';

type Seen = Array<['token' | 'thinking', string]>;

function run(kind: 'openai' | 'anthropic', stream: string): { seen: Seen; outcome?: StreamOutcome; error?: WorkerFailure } {
  const seen: Seen = [];
  const reply = new ReplyBuilder({ token: (t) => seen.push(['token', t]), thinking: (t) => seen.push(['thinking', t]) });
  const ctx = { model: 'task-model', api: kind === 'openai' ? 'openai-chat' : 'anthropic-messages' };
  const h: StreamHandler = kind === 'openai' ? new OpenAIStream(reply, ctx) : new AnthropicStream(reply, ctx);
  try {
    for (const ev of parseSse([stream])) {
      h.onEvent(ev);
      if (h.finished) break;
    }
    return { seen, outcome: h.finish() };
  } catch (err) {
    if (err instanceof WorkerFailure) return { seen, error: err };
    throw err;
  }
}

const oa = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'served-model', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
const DONE = 'data: [DONE]\n\n';
const STOP = oa({}, {}, 'stop');

describe('OpenAIStream', () => {
  it('streams content as tokens and reads usage and model', () => {
    const r = run('openai', oa({ role: 'assistant', content: '' }) + oa({ content: 'The ' }) + oa({ content: 'answer' }) + oa({}, { usage: { prompt_tokens: 11, completion_tokens: 9 } }, 'stop') + DONE);
    expect(r.seen).toEqual([['token', 'The '], ['token', 'answer']]);
    expect(r.outcome).toEqual({ finalResponse: 'The answer', usage: { model: 'served-model', input_tokens: 11, output_tokens: 9 }, stopReason: 'stop' });
  });

  it('reads reasoning from reasoning_content, reasoning and reasoning_details without duplicates', () => {
    const r = run(
      'openai',
      oa({ reasoning_content: 'a ' }) +
        oa({ reasoning: 'b ' }) +
        oa({ reasoning: 'c ', reasoning_details: [{ type: 'reasoning.text', text: 'c ' }] }) +
        oa({ reasoning_details: [{ type: 'reasoning.text', text: 'd' }] }) +
        oa({ content: 'ok' }) +
        STOP +
        DONE,
    );
    expect(r.seen).toEqual([['thinking', 'a '], ['thinking', 'b '], ['thinking', 'c '], ['thinking', 'd'], ['token', 'ok']]);
    expect(r.outcome?.finalResponse).toBe('ok');
  });

  it('falls back to the reasoning when the content is empty', () => {
    const r = run('openai', oa({ reasoning_content: 'only ' }) + oa({ reasoning_content: 'thoughts' }) + oa({ content: '' }) + STOP + DONE);
    expect(r.outcome?.finalResponse).toBe('only thoughts');
    expect(r.seen.every(([k]) => k === 'thinking')).toBe(true);
  });

  it('splits inline <think> tags into thinking and strips them', () => {
    const r = run('openai', oa({ content: '<thi' }) + oa({ content: 'nk>hmm</th' }) + oa({ content: 'ink>\n\nYes' }) + STOP + DONE);
    expect(r.seen).toEqual([['thinking', 'hmm'], ['token', '\n\nYes']]);
    expect(r.outcome?.finalResponse).toBe('Yes');
  });

  it('keeps the inner text when the content was only a think block', () => {
    const r = run('openai', oa({ content: '<think>inner text</think>' }) + STOP + DONE);
    expect(r.outcome?.finalResponse).toBe('inner text');
  });

  it('a closing tag without an opening one turns the earlier text into reasoning for the final reply', () => {
    const r = run('openai', oa({ content: 'planning...' }) + oa({ content: '</think>\n\nFinal.' }) + STOP + DONE);
    expect(r.outcome?.finalResponse).toBe('Final.');
  });

  it('accepts a finish_reason without [DONE], and [DONE] without finish_reason', () => {
    expect(run('openai', oa({ content: 'x' }) + STOP).outcome?.finalResponse).toBe('x');
    expect(run('openai', oa({ content: 'y' }) + DONE).outcome?.finalResponse).toBe('y');
  });

  it('uses the task model when the chunks carry none', () => {
    const chunk = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'z' }, finish_reason: 'stop' }] })}\n\n`;
    expect(run('openai', chunk + DONE).outcome?.usage).toEqual({ model: 'task-model' });
  });

  const FAILS: Array<{ name: string; stream: string; code: string; message: RegExp }> = [
    { name: 'mid-stream error object', stream: oa({ content: 'par' }) + 'data: {"error":{"message":"The server is overloaded","type":"server_error"}}\n\n', code: 'UPSTREAM_5XX', message: /overloaded/ },
    { name: 'malformed chunk', stream: 'data: {"id": broken\n\n', code: 'INVALID_RESPONSE', message: /malformed stream chunk/ },
    { name: 'stream ends mid-reply', stream: oa({ content: 'part' }), code: 'NETWORK', message: /ended mid-reply/ },
    { name: 'stream with nothing in it', stream: ': keep-alive\n\n', code: 'INVALID_RESPONSE', message: /without any chat-completion chunk/ },
    { name: 'completed but empty', stream: oa({ content: '' }, {}, 'length') + DONE, code: 'INVALID_RESPONSE', message: /empty reply \(finish_reason: length\)/ },
  ];
  for (const f of FAILS) {
    it(`fails: ${f.name} → ${f.code}`, () => {
      const r = run('openai', f.stream);
      expect(r.outcome).toBeUndefined();
      expect(r.error?.code).toBe(f.code);
      expect(r.error?.message).toMatch(f.message);
    });
  }

  it('reasoningOf prefers one field', () => {
    expect(reasoningOf({ reasoning_content: 'a', reasoning: 'b' })).toBe('a');
    expect(reasoningOf({ reasoning_details: [{ summary: 's' }, { data: 'encrypted' }] })).toBe('s');
    expect(reasoningOf({})).toBe('');
  });
});

const an = (name: string, payload: Record<string, unknown>): string => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...payload })}\n\n`;
const START = an('message_start', { message: { id: 'm1', model: 'claude-x', usage: { input_tokens: 11, cache_read_input_tokens: 4, output_tokens: 1 } } });

describe('AnthropicStream', () => {
  it('streams text and thinking, ignores signature and ping, reads usage', () => {
    const r = run(
      'anthropic',
      START +
        an('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }) +
        an('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } }) +
        an('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'sig' } }) +
        an('content_block_stop', { index: 0 }) +
        an('ping', {}) +
        an('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }) +
        an('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'The answer' } }) +
        an('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{' } }) +
        an('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }) +
        an('message_stop', {}),
    );
    expect(r.seen).toEqual([['thinking', 'Let me '], ['token', 'The answer']]);
    expect(r.outcome).toEqual({ finalResponse: 'The answer', usage: { model: 'claude-x', input_tokens: 15, output_tokens: 9 }, stopReason: 'end_turn' });
  });

  it('works when a proxy drops the event: lines', () => {
    const stream = [START, an('content_block_delta', { delta: { type: 'text_delta', text: 'hi' } }), an('message_stop', {})]
      .map((r) => r.replace(/^event: .*\n/, ''))
      .join('');
    expect(run('anthropic', stream).outcome?.finalResponse).toBe('hi');
  });

  it('falls back to the thinking when there is no text', () => {
    const r = run('anthropic', START + an('content_block_delta', { delta: { type: 'thinking_delta', thinking: 'just thoughts' } }) + an('message_stop', {}));
    expect(r.outcome?.finalResponse).toBe('just thoughts');
  });

  it('mid-stream error event → classified', () => {
    const r = run('anthropic', START + an('content_block_delta', { delta: { type: 'text_delta', text: 'pa' } }) + an('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }));
    expect(r.error?.code).toBe('UPSTREAM_5XX');
    expect(r.error?.message).toContain('overloaded_error');
    expect(r.seen).toEqual([['token', 'pa']]);
  });

  it('ends mid-reply → NETWORK; nothing at all → INVALID_RESPONSE', () => {
    expect(run('anthropic', START + an('content_block_delta', { delta: { type: 'text_delta', text: 'pa' } })).error?.code).toBe('NETWORK');
    expect(run('anthropic', '').error?.code).toBe('INVALID_RESPONSE');
  });
});

const TASK: TaskInput = {
  v: 1,
  type: 'task',
  task_id: 't_1',
  sandbox: 'demo',
  route: { provider: 'lmstudio', model: 'qwen/qwen3.5-9b', api: 'openai-chat', base_url: 'https://inference.local/v1' },
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ],
  params: { max_tokens: 100, temperature: 0.2 },
};

describe('request building', () => {
  it('OpenAI body asks for a stream with usage', () => {
    expect(openAIRequestBody(TASK)).toEqual({
      model: 'qwen/qwen3.5-9b',
      messages: TASK.messages,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 100,
      temperature: 0.2,
    });
    expect(openAIRequestBody({ ...TASK, params: undefined })).not.toHaveProperty('max_tokens');
  });

  it('Anthropic body moves system messages to the top level and defaults max_tokens', () => {
    expect(anthropicRequestBody({ ...TASK, params: undefined })).toEqual({
      model: 'qwen/qwen3.5-9b',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4096,
      stream: true,
    });
  });

  it('headers carry the key when set and a placeholder otherwise', () => {
    expect(openAIHeaders(undefined).authorization).toBe('Bearer logos-placeholder');
    expect(openAIHeaders('sk-x').authorization).toBe('Bearer sk-x');
    expect(anthropicHeaders('')['x-api-key']).toBe('logos-placeholder');
    expect(anthropicHeaders('k')).toMatchObject({ 'x-api-key': 'k', 'anthropic-version': '2023-06-01' });
  });
});

describe('resolveEndpoint', () => {
  const anth = { ...TASK, route: { ...TASK.route, api: 'anthropic-messages' as const } };
  const CASES: Array<{ name: string; task: TaskInput; env: Record<string, string>; url: string; socket?: string }> = [
    { name: 'task base URL', task: TASK, env: {}, url: 'https://inference.local/v1/chat/completions' },
    { name: 'trailing slash', task: { ...TASK, route: { ...TASK.route, base_url: 'http://h:1234/v1/' } }, env: {}, url: 'http://h:1234/v1/chat/completions' },
    { name: 'OPENAI_BASE_URL wins', task: TASK, env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }, url: 'http://127.0.0.1:9/v1/chat/completions' },
    { name: 'empty OPENAI_BASE_URL is ignored', task: TASK, env: { OPENAI_BASE_URL: ' ' }, url: 'https://inference.local/v1/chat/completions' },
    { name: 'ANTHROPIC_BASE_URL is not used for openai-chat', task: TASK, env: { ANTHROPIC_BASE_URL: 'http://x/v1' }, url: 'https://inference.local/v1/chat/completions' },
    { name: 'anthropic path', task: anth, env: {}, url: 'https://inference.local/v1/messages' },
    { name: 'ANTHROPIC_BASE_URL wins', task: anth, env: { ANTHROPIC_BASE_URL: 'http://a:1/v1', OPENAI_BASE_URL: 'http://o:1/v1' }, url: 'http://a:1/v1/messages' },
    { name: 'Anthropic SDK-style base without /v1', task: anth, env: { ANTHROPIC_BASE_URL: 'https://api.anthropic.com' }, url: 'https://api.anthropic.com/v1/messages' },
    { name: 'query string kept', task: { ...TASK, route: { ...TASK.route, base_url: 'http://h/openai/v1?api-version=1' } }, env: {}, url: 'http://h/openai/v1/chat/completions?api-version=1' },
    { name: 'socket routing', task: TASK, env: { LOGOS_INFERENCE_SOCKET: '/run/logos/inference.sock' }, url: 'https://inference.local/v1/chat/completions', socket: '/run/logos/inference.sock' },
  ];
  for (const c of CASES) {
    it(c.name, () => {
      const e = resolveEndpoint(c.task, c.env);
      expect(e.url.toString()).toBe(c.url);
      expect(e.socketPath).toBe(c.socket);
    });
  }
  it('rejects a base URL that is not a URL', () => {
    expect(() => resolveEndpoint({ ...TASK, route: { ...TASK.route, base_url: 'inference.local' } }, {})).toThrow(/invalid base URL/);
  });
  it('idle timeout from env', () => {
    expect(idleTimeoutFromEnv({})).toBe(120_000);
    expect(idleTimeoutFromEnv({ LOGOS_IDLE_TIMEOUT_MS: '500' })).toBe(500);
    expect(idleTimeoutFromEnv({ LOGOS_IDLE_TIMEOUT_MS: 'soon' })).toBe(120_000);
  });
});

describe('parseTask', () => {
  const good = JSON.stringify({ ...TASK, deadline_ms: 1000 });
  it('accepts a valid task', () => {
    const r = parseTask(good);
    expect(r).toEqual({ ok: true, task: { ...TASK, deadline_ms: 1000 } });
  });
  it('accepts a task without a model (NO_MODEL is reported later)', () => {
    const t = { ...TASK, route: { provider: 'p', api: 'openai-chat', base_url: 'http://x/v1' } };
    const r = parseTask(JSON.stringify(t));
    expect(r.ok && r.task.route.model).toBe('');
  });
  const BAD: Array<[string, string, RegExp]> = [
    ['empty input', '', /empty input/],
    ['not JSON', '{"v":1,', /not valid JSON/],
    ['an array', '[]', /JSON object/],
    ['wrong version', JSON.stringify({ ...TASK, v: 2 }), /version 2/],
    ['wrong type', JSON.stringify({ ...TASK, type: 'job' }), /"type":"task"/],
    ['no task_id', JSON.stringify({ ...TASK, task_id: '' }), /task_id/],
    ['unknown api', JSON.stringify({ ...TASK, route: { ...TASK.route, api: 'responses' } }), /route.api/],
    ['no messages', JSON.stringify({ ...TASK, messages: [] }), /messages/],
    ['bad message role', JSON.stringify({ ...TASK, messages: [{ role: 'tool', content: 'x' }] }), /messages\[0\]/],
    ['bad max_tokens', JSON.stringify({ ...TASK, params: { max_tokens: -1 } }), /max_tokens/],
    ['bad deadline', JSON.stringify({ ...TASK, deadline_ms: 'soon' }), /deadline_ms/],
  ];
  for (const [name, text, msg] of BAD) {
    it(`rejects ${name}`, () => {
      const r = parseTask(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(msg);
    });
  }
  it('keeps the task_id of an invalid task when it can', () => {
    const r = parseTask(JSON.stringify({ ...TASK, messages: 'hi' }));
    expect(r).toMatchObject({ ok: false, taskId: 't_1' });
  });
});
