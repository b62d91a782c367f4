/** The fake model servers themselves: they must behave like the real servers the worker meets. */
import { afterEach, describe, expect, it } from 'vitest';
import { floodPiece, floodReply, scenarioFromModel, startFakeAnthropic, startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';

let servers: FakeModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function openai(opts = {}): Promise<FakeModelServer> {
  const s = await startFakeOpenAI(opts);
  servers.push(s);
  return s;
}
async function anthropic(opts = {}): Promise<FakeModelServer> {
  const s = await startFakeAnthropic(opts);
  servers.push(s);
  return s;
}

const chatBody = (model: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hi there' }], stream: true, ...extra });

describe('fake OpenAI server', () => {
  it('lists models in the OpenAI and the LM Studio native shapes', async () => {
    const s = await openai({ models: ['qwen/qwen3.5-9b', 'other'], loadedModels: ['qwen/qwen3.5-9b'] });
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/v1`);
    const list = (await (await fetch(`${s.url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id)).toEqual(['qwen/qwen3.5-9b', 'other']);
    const native = (await (await fetch(`http://127.0.0.1:${s.port}/api/v1/models`)).json()) as {
      models: Array<{ key: string; loaded_instances: unknown[] }>;
    };
    expect(native.models.map((m) => [m.key, m.loaded_instances.length])).toEqual([
      ['qwen/qwen3.5-9b', 1],
      ['other', 0],
    ]);
  });

  it('streams SSE ending in [DONE]; usage chunk only when asked for', async () => {
    const s = await openai();
    const plain = await (await fetch(`${s.url}/chat/completions`, { method: 'POST', body: chatBody('m') })).text();
    expect(plain.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(plain).not.toContain('"usage"');
    expect(plain).toContain('"content":"Echo: "');
    const withUsage = await (
      await fetch(`${s.url}/chat/completions`, { method: 'POST', body: chatBody('m', { stream_options: { include_usage: true } }) })
    ).text();
    expect(withUsage).toContain('"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}');
    expect(s.requests.map((r) => [r.method, r.path, r.scenario])).toEqual([
      ['POST', '/v1/chat/completions', 'plain'],
      ['POST', '/v1/chat/completions', 'plain'],
    ]);
  });

  it('answers unknown routes like LM Studio: 200 "Unexpected endpoint or method"', async () => {
    const s = await openai();
    const res = await fetch(`http://127.0.0.1:${s.port}/chat/completions`, { method: 'POST', body: chatBody('m') });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ error: 'Unexpected endpoint or method. (POST /chat/completions)' });
  });

  it('requireKey: 401 with the real body unless the bearer key matches', async () => {
    const s = await openai({ requireKey: 'sk-good-000000' });
    const bad = await fetch(`${s.url}/models`, { headers: { authorization: 'Bearer sk-bad-1111111111' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_api_key', type: 'invalid_request_error' } });
    expect((await fetch(`${s.url}/models`, { headers: { authorization: 'Bearer sk-good-000000' } })).status).toBe(200);
  });

  it('setScenario changes the server; a scenario model name wins for that request', async () => {
    const s = await openai();
    s.setScenario('http-429');
    expect((await fetch(`${s.url}/chat/completions`, { method: 'POST', body: chatBody('m') })).status).toBe(429);
    expect((await fetch(`${s.url}/chat/completions`, { method: 'POST', body: chatBody('scenario:plain') })).status).toBe(200);
  });
});

describe('fake Anthropic server', () => {
  it('validates like the real API: anthropic-version, max_tokens, no system role', async () => {
    const s = await anthropic();
    const post = (headers: Record<string, string>, body: Record<string, unknown>): Promise<Response> =>
      fetch(`${s.url}/messages`, { method: 'POST', headers, body: JSON.stringify(body) });
    const base = { model: 'm', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] };
    expect((await post({}, base)).status).toBe(400);
    const v = { 'anthropic-version': '2023-06-01' };
    const noMax = await post(v, { ...base, max_tokens: undefined });
    expect(await noMax.json()).toMatchObject({ error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
    expect((await post(v, { ...base, messages: [{ role: 'system', content: 's' }] })).status).toBe(400);
    const ok = await post(v, base);
    expect(ok.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await ok.text();
    expect(text.startsWith('event: message_start\n')).toBe(true);
    expect(text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
  });

  it('requireKey checks x-api-key', async () => {
    const s = await anthropic({ requireKey: 'sk-ant-good' });
    const res = await fetch(`${s.url}/models`, { headers: { 'x-api-key': 'nope' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});

describe('flood scenario', () => {
  it('streams floodReply as one chunk per piece, ending like a normal stream', async () => {
    const s = await openai();
    const text = await (await fetch(`${s.url}/chat/completions`, { method: 'POST', body: chatBody('scenario:flood?tokens=300&piece_chars=30') })).text();
    const contents = text
      .split('\n\n')
      .filter((r) => r.startsWith('data: {'))
      .map((r) => (JSON.parse(r.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '');
    expect(contents.join('')).toBe(floodReply(300, 30));
    expect(contents.filter(Boolean)).toHaveLength(300);
    expect(floodPiece(7, 30).length).toBeGreaterThanOrEqual(30);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});

describe('scenarioFromModel', () => {
  it('parses names and knobs', () => {
    expect(scenarioFromModel('scenario:stall?stall_after=3&delay_ms=10')).toEqual({ name: 'stall', stallAfter: 3, delayMs: 10 });
    expect(scenarioFromModel('scenario:plain?reply=Hi%20there')).toEqual({ name: 'plain', reply: 'Hi there' });
    expect(scenarioFromModel('scenario:flood?tokens=5&piece_chars=40&drop_after=3')).toEqual({ name: 'flood', tokens: 5, pieceChars: 40, dropAfter: 3 });
    expect(scenarioFromModel('scenario:nope')).toBeUndefined();
    expect(scenarioFromModel('qwen/qwen3.5-9b')).toBeUndefined();
  });
});

describe('scripted agent mode', () => {
  const script = {
    steps: [
      { text: 'Two calls.', toolCalls: [{ name: 'shell', arguments: { command: 'ls' }, fragments: 3 }, { name: 'read_file', arguments: '{"path":"a"}' }] },
      { text: 'Done.' },
    ],
  };
  const post = (s: FakeModelServer, path: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const data = (text: string): Array<Record<string, unknown>> =>
    text
      .split('\n\n')
      .map((r) => r.split('\n').find((l) => l.startsWith('data: {')))
      .filter((l): l is string => l !== undefined)
      .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);

  it('OpenAI: step 1 streams tool_calls by index (id and name first, arguments in fragments), finish tool_calls', async () => {
    const s = await openai({ scripts: { two: script } });
    const text = await (await post(s, '/chat/completions', { model: 'agent:two', stream: true, messages: [{ role: 'user', content: 'go' }] })).text();
    const deltas = data(text).map((c) => (c.choices as Array<{ delta: { tool_calls?: Array<Record<string, unknown>> }; finish_reason: string | null }>)[0]!);
    const calls = deltas.flatMap((d) => d.delta.tool_calls ?? []);
    expect(calls[0]).toEqual({ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'shell', arguments: '' } });
    const args = (i: number): string => calls.filter((c) => c.index === i).map((c) => (c.function as { arguments: string }).arguments).join('');
    expect(args(0)).toBe('{"command":"ls"}');
    expect(calls.filter((c) => c.index === 0).length).toBe(4); // the start and 3 fragments
    expect(args(1)).toBe('{"path":"a"}');
    expect(deltas.at(-1)!.finish_reason).toBe('tool_calls');
    expect(s.requests[0]).toMatchObject({ script: 'two', step: 1, usage: { input_tokens: 1, output_tokens: expect.any(Number) } });
  });

  it('OpenAI: the step is the number of assistant turns + 1; tool results must answer every call (400 like the API)', async () => {
    const s = await openai({ scripts: { two: script } });
    const turn = { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'shell', arguments: '{}' } }] };
    const missing = await post(s, '/chat/completions', { model: 'agent:two', stream: true, messages: [{ role: 'user', content: 'go' }, turn] });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain('did not have response messages: c1');
    const orphan = await post(s, '/chat/completions', { model: 'agent:two', stream: true, messages: [{ role: 'user', content: 'go' }, { role: 'tool', tool_call_id: 'zz', content: 'x' }] });
    expect(orphan.status).toBe(400);
    const ok = await post(s, '/chat/completions', { model: 'agent:two', stream: true, messages: [{ role: 'user', content: 'go' }, turn, { role: 'tool', tool_call_id: 'c1', content: 'out' }] });
    expect(await ok.text()).toContain('"content":"Done."');
    expect(s.requests.at(-1)!.step).toBe(2);
    const past = await post(s, '/chat/completions', { model: 'agent:two', stream: true, messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: 'a' }, { role: 'assistant', content: 'b' }] });
    expect(past.status).toBe(500);
  });

  it('Anthropic: tool_use blocks with input_json_delta; results must follow; signatures are checked', async () => {
    const s = await anthropic({ scripts: { two: script } });
    const v = { 'anthropic-version': '2023-06-01' };
    const text = await (await post(s, '/messages', { model: 'agent:two', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'go' }] }, v)).text();
    const events = data(text);
    const starts = events.filter((e) => e.type === 'content_block_start').map((e) => (e.content_block as { type: string }).type);
    expect(starts).toEqual(['text', 'tool_use', 'tool_use']);
    const json = events
      .filter((e) => e.type === 'content_block_delta' && e.index === 1)
      .map((e) => (e.delta as { partial_json: string }).partial_json)
      .join('');
    expect(json).toBe('{"command":"ls"}');
    expect(events.find((e) => e.type === 'message_delta')).toMatchObject({ delta: { stop_reason: 'tool_use' } });
    const unanswered = await post(
      s,
      '/messages',
      { model: 'agent:two', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'shell', input: {} }] }, { role: 'user', content: 'hm' }] },
      v,
    );
    expect(JSON.stringify(await unanswered.json())).toContain('`tool_use` ids were found without `tool_result` blocks immediately after: t1');
    const forged = await post(
      s,
      '/messages',
      { model: 'agent:two', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 'x', signature: 'forged' }, { type: 'text', text: 'y' }] }, { role: 'user', content: 'z' }] },
      v,
    );
    expect(JSON.stringify(await forged.json())).toContain('Invalid `signature` in `thinking` block');
  });

  it('built-in scripts: loop repeats forever; an unknown script is an unknown model', async () => {
    const s = await openai();
    const many = Array.from({ length: 30 }, () => ({ role: 'assistant', content: 'x' }));
    const text = await (await post(s, '/chat/completions', { model: 'agent:loop', stream: true, messages: [{ role: 'user', content: 'go' }, ...many] })).text();
    expect(text).toContain('"function":{"name":"shell","arguments":""}');
    expect(s.requests.at(-1)!.step).toBe(31);
    expect((await post(s, '/chat/completions', { model: 'agent:nope', stream: true, messages: [{ role: 'user', content: 'go' }] })).status).toBe(404);
  });
});
