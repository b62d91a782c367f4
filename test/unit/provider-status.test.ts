/** The pure part of provider status: classification, hints, configured targets, cache freshness. */
import { describe, expect, it } from 'vitest';
import {
  classifyHttpStatus,
  classifyNetworkError,
  configuredTargets,
  hintFor,
  isFresh,
  needsKeyButHasNone,
  parseModelList,
  probeKindFor,
  probeUrl,
  PROBE_REASONS,
  stateFor,
  statusKey,
  toStatus,
  type ProbeKind,
  type ProbeReason,
} from '../../src/core/provider-status.js';
import { PROVIDERS } from '../../src/core/providers.js';
import type { RouteRecord } from '../../src/core/routes.js';

describe('classifyHttpStatus', () => {
  it.each([
    [200, undefined],
    [204, undefined],
    [400, 'INVALID_RESPONSE'],
    [401, 'HTTP_401'],
    [403, 'HTTP_403'],
    [404, 'HTTP_404'],
    [405, 'INVALID_RESPONSE'],
    [429, 'HTTP_429'],
    [500, 'HTTP_5XX'],
    [503, 'HTTP_5XX'],
    [529, 'HTTP_5XX'],
  ] as const)('HTTP %i → %s', (status, reason) => {
    expect(classifyHttpStatus(status)).toBe(reason);
  });
});

describe('classifyNetworkError', () => {
  const url = 'http://127.0.0.1:1234/api/v1/models';
  it.each([
    [{ name: 'TimeoutError' }, 'TIMEOUT', /within 1\.5s/],
    [{ name: 'AbortError' }, 'TIMEOUT', /No answer from 127\.0\.0\.1:1234/],
    [{ name: 'TypeError', code: 'UND_ERR_CONNECT_TIMEOUT' }, 'TIMEOUT', /No answer/],
    [{ name: 'TypeError', code: 'ECONNREFUSED' }, 'CONN_REFUSED', /refused by 127\.0\.0\.1:1234/],
    [{ name: 'TypeError', code: 'ENOTFOUND' }, 'CONN_REFUSED', /resolve the host name.*ENOTFOUND/],
    [{ name: 'TypeError', code: 'EAI_AGAIN' }, 'CONN_REFUSED', /DNS: EAI_AGAIN/],
    [{ name: 'TypeError', code: 'EHOSTUNREACH' }, 'CONN_REFUSED', /unreachable/],
    [{ name: 'TypeError', code: 'ECONNRESET' }, 'CONN_REFUSED', /closed the connection/],
    [{ name: 'TypeError', code: 'CERT_HAS_EXPIRED' }, 'CONN_REFUSED', /TLS/],
    [{ name: 'TypeError', message: 'fetch failed' }, 'CONN_REFUSED', /fetch failed/],
  ] as const)('%o → %s', (err, reason, message) => {
    const r = classifyNetworkError(err, url, 1500);
    expect(r.reason).toBe(reason);
    expect(r.message).toMatch(message);
  });
});

describe('parseModelList', () => {
  const lm = (models: unknown) => ({ models });
  it.each<[string, ProbeKind, unknown, ReturnType<typeof parseModelList>]>([
    [
      'LM Studio native list: keys and loaded instances',
      'lmstudio-native',
      lm([
        { key: 'qwen/qwen3.5-9b', type: 'llm', loaded_instances: [{ id: 'qwen/qwen3.5-9b' }] },
        { key: 'other', type: 'llm', loaded_instances: [] },
        { key: 'no-field', type: 'llm' },
      ]),
      { ok: true, models: ['qwen/qwen3.5-9b', 'other', 'no-field'], loaded: ['qwen/qwen3.5-9b'] },
    ],
    ['LM Studio "Unexpected endpoint" 200', 'lmstudio-native', { error: 'Unexpected endpoint or method. (GET /api/v1/models)' }, { ok: false, message: 'LM Studio answered: Unexpected endpoint or method. (GET /api/v1/models)' }],
    ['LM Studio: the OpenAI shape is not the native one', 'lmstudio-native', { object: 'list', data: [{ id: 'x' }] }, { ok: false, message: expect.stringContaining('no `models` list') }],
    ['LM Studio: a model without key', 'lmstudio-native', lm([{ id: 'x' }]), { ok: false, message: expect.stringContaining('no `key`') }],
    ['Ollama tags', 'ollama-tags', { models: [{ name: 'llama3.2:latest' }, { model: 'qwen3:8b' }] }, { ok: true, models: ['llama3.2:latest', 'qwen3:8b'] }],
    ['Ollama: not a list', 'ollama-tags', { models: 'x' }, { ok: false, message: expect.stringContaining('Ollama') }],
    ['OpenAI list', 'openai-models', { object: 'list', data: [{ id: 'gpt-4o' }] }, { ok: true, models: ['gpt-4o'] }],
    ['OpenAI-compatible "Unexpected endpoint" 200', 'openai-models', { error: 'Unexpected endpoint or method. (GET /models)' }, { ok: false, message: expect.stringContaining('Unexpected endpoint') }],
    ['OpenAI: error object in a 200', 'openai-models', { error: { message: 'boom' } }, { ok: false, message: expect.stringContaining('boom') }],
    ['OpenAI: wrong shape', 'openai-models', [1, 2], { ok: false, message: expect.stringContaining('`data`') }],
    ['OpenAI: entry without id', 'openai-models', { data: [{ name: 'x' }] }, { ok: false, message: expect.stringContaining('`id`') }],
    ['Anthropic list', 'anthropic-models', { data: [{ type: 'model', id: 'claude-sonnet-4-5' }], has_more: false }, { ok: true, models: ['claude-sonnet-4-5'] }],
  ])('%s', (_name, kind, body, want) => {
    expect(parseModelList(kind, body)).toEqual(want);
  });
});

describe('probe kinds and URLs', () => {
  it.each([
    ['lmstudio', 'http://127.0.0.1:1234/v1', 'http://127.0.0.1:1234/api/v1/models'],
    ['lmstudio', 'http://127.0.0.1:1234/v1/', 'http://127.0.0.1:1234/api/v1/models'],
    ['ollama', 'http://127.0.0.1:11434/v1', 'http://127.0.0.1:11434/api/tags'],
    ['llamacpp', 'http://127.0.0.1:8080/v1', 'http://127.0.0.1:8080/v1/models'],
    ['openai', 'https://api.openai.com/v1', 'https://api.openai.com/v1/models'],
    ['openrouter', 'https://openrouter.ai/api/v1', 'https://openrouter.ai/api/v1/models'],
    ['anthropic', 'https://api.anthropic.com/v1', 'https://api.anthropic.com/v1/models'],
    ['custom', 'http://10.0.0.5:8000/v1', 'http://10.0.0.5:8000/v1/models'],
  ])('%s at %s → %s', (provider, endpoint, url) => {
    expect(probeUrl(probeKindFor(provider), endpoint)).toBe(url);
  });
});

describe('states and hints', () => {
  it('maps reasons to states', () => {
    expect(PROBE_REASONS.map((r) => [r, stateFor(r)])).toEqual(PROBE_REASONS.map((r) => [r, r === 'OK' ? 'ok' : r === 'NO_CONFIG' ? 'unconfigured' : 'error']));
  });

  it('has a hint for every reason and provider; every non-OK hint names a command', () => {
    for (const p of PROVIDERS) {
      for (const reason of PROBE_REASONS) {
        const h = hintFor(reason, { provider: p.id, endpoint: p.defaultEndpoint ?? 'http://10.0.0.5:8000/v1', routes: ['r1'] });
        expect(h.length, `${p.id} ${reason}`).toBeGreaterThan(10);
        expect(h, `${p.id} ${reason}`).toMatch(/`[^`]+`/);
      }
    }
  });

  it.each<[ProbeReason, string, RegExp]>([
    ['CONN_REFUSED', 'lmstudio', /Start LM Studio's server \(Developer tab, or `lms server start`\)/],
    ['CONN_REFUSED', 'ollama', /`ollama serve`/],
    ['CONN_REFUSED', 'llamacpp', /`llama-server/],
    ['CONN_REFUSED', 'openai', /logos route show r1/],
    ['HTTP_401', 'openai', /`logos creds set openai`/],
    ['HTTP_401', 'lmstudio', /`logos creds set lmstudio`/],
    ['HTTP_403', 'anthropic', /`logos creds set anthropic`/],
    ['NO_CONFIG', 'openai', /logos creds set openai --key-stdin.*OPENAI_API_KEY/],
    ['NO_CONFIG', 'anthropic', /ANTHROPIC_API_KEY/],
    ['INVALID_RESPONSE', 'lmstudio', /Unexpected endpoint or method.*logos creds set lmstudio/],
    ['HTTP_404', 'lmstudio', /0\.4 or newer/],
    ['PERMISSION_NOT_600', 'openai', /`logos creds fix-permissions`/],
    ['TIMEOUT', 'lmstudio', /logos providers status --refresh/],
    ['OK', 'openai', /logos run --route r1/],
  ])('%s for %s', (reason, provider, want) => {
    expect(hintFor(reason, { provider, endpoint: 'http://x/v1', routes: ['r1'] })).toMatch(want);
  });

  it('builds the reported status from an outcome', () => {
    const t = { provider: 'lmstudio', endpoint: 'http://127.0.0.1:1234/v1', routes: ['a', 'b'] };
    expect(toStatus(t, { reason: 'OK', latency_ms: 12, checked_at: '2026-01-01T00:00:00.000Z', models: ['m'], loaded: [] }, true)).toEqual({
      provider: 'lmstudio',
      endpoint: 'http://127.0.0.1:1234/v1',
      state: 'ok',
      reason: 'OK',
      hint: expect.stringContaining('logos run --route a'),
      latency_ms: 12,
      checked_at: '2026-01-01T00:00:00.000Z',
      cached: true,
      models: ['m'],
      loaded: [],
      routes: ['a', 'b'],
    });
  });
});

describe('configuredTargets', () => {
  const route = (name: string, provider: string, endpoint: string, extra: Partial<RouteRecord> = {}): RouteRecord => ({
    name,
    provider,
    model: 'm',
    api: provider === 'anthropic' ? 'anthropic-messages' : 'openai-chat',
    endpoint,
    timeout_sec: 600,
    created_at: '2026-01-01T00:00:00.000Z',
    status: 'ready',
    ...extra,
  });

  it('one target per distinct provider+endpoint, with the routes that use it', () => {
    const t = configuredTargets(
      [
        route('b', 'lmstudio', 'http://127.0.0.1:1234/v1'),
        route('a', 'lmstudio', 'http://127.0.0.1:1234/v1'),
        route('c', 'custom', 'http://127.0.0.1:1234/v1'),
        route('d', 'openai', 'https://api.openai.com/v1'),
      ],
      [],
    );
    expect(t).toEqual([
      { provider: 'lmstudio', endpoint: 'http://127.0.0.1:1234/v1', routes: ['a', 'b'] },
      { provider: 'openai', endpoint: 'https://api.openai.com/v1', routes: ['d'] },
      { provider: 'custom', endpoint: 'http://127.0.0.1:1234/v1', routes: ['c'] },
    ]);
  });

  it('adds providers with a key but no route at their default endpoint; skips demo routes and providers without a default', () => {
    const t = configuredTargets(
      [route('demo', 'custom', 'http://127.0.0.1:40000/v1', { demo: true }), route('o', 'openai', 'http://127.0.0.1:9999/v1')],
      ['openai', 'anthropic', 'custom', 'openrouter'],
    );
    expect(t).toEqual([
      { provider: 'openai', endpoint: 'http://127.0.0.1:9999/v1', routes: ['o'] },
      { provider: 'anthropic', endpoint: 'https://api.anthropic.com/v1', routes: [] },
      { provider: 'openrouter', endpoint: 'https://openrouter.ai/api/v1', routes: [] },
    ]);
  });

  it('a keyed provider already used at its default endpoint is not added twice', () => {
    expect(configuredTargets([route('g', 'openai', 'https://api.openai.com/v1')], ['openai'])).toEqual([{ provider: 'openai', endpoint: 'https://api.openai.com/v1', routes: ['g'] }]);
    expect(configuredTargets([], [])).toEqual([]);
  });

  it('only cloud providers that need a key are NO_CONFIG without one', () => {
    expect(PROVIDERS.map((p) => [p.id, needsKeyButHasNone(p.id, false), needsKeyButHasNone(p.id, true)])).toEqual([
      ['lmstudio', false, false],
      ['ollama', false, false],
      ['llamacpp', false, false],
      ['openai', true, false],
      ['anthropic', true, false],
      ['openrouter', true, false],
      ['custom', false, false],
    ]);
  });

  it('keys a cache entry by provider and endpoint', () => {
    expect(statusKey('lmstudio', 'http://a/v1')).not.toBe(statusKey('custom', 'http://a/v1'));
    expect(statusKey('lmstudio', 'http://a/v1')).not.toBe(statusKey('lmstudio', 'http://b/v1'));
  });
});

describe('isFresh (TTL)', () => {
  const now = new Date('2026-01-01T00:01:00.000Z');
  const at = (iso: string, credential: string | null = null) => ({ checked_at: iso, credential });
  it.each<[string, ReturnType<typeof at>, Parameters<typeof isFresh>[1], boolean]>([
    ['just checked', at('2026-01-01T00:01:00.000Z'), { now, ttlMs: 30_000, credential: null }, true],
    ['29 s old', at('2026-01-01T00:00:31.000Z'), { now, ttlMs: 30_000, credential: null }, true],
    ['exactly the TTL', at('2026-01-01T00:00:30.000Z'), { now, ttlMs: 30_000, credential: null }, true],
    ['31 s old', at('2026-01-01T00:00:29.000Z'), { now, ttlMs: 30_000, credential: null }, false],
    ['a longer TTL', at('2026-01-01T00:00:29.000Z'), { now, ttlMs: 60_000, credential: null }, true],
    ['TTL 0', at('2026-01-01T00:00:59.999Z'), { now, ttlMs: 0, credential: null }, false],
    ['from the future', at('2026-01-01T00:02:00.000Z'), { now, ttlMs: 30_000, credential: null }, false],
    ['unparsable time', at('yesterday'), { now, ttlMs: 30_000, credential: null }, false],
    ['another key', at('2026-01-01T00:01:00.000Z', 'aaaa'), { now, ttlMs: 30_000, credential: 'bbbb' }, false],
    ['a key added since', at('2026-01-01T00:01:00.000Z', null), { now, ttlMs: 30_000, credential: 'bbbb' }, false],
    ['same key', at('2026-01-01T00:01:00.000Z', 'aaaa'), { now, ttlMs: 30_000, credential: 'aaaa' }, true],
    ['--refresh: checked before this call began', at('2026-01-01T00:00:59.000Z'), { now, ttlMs: 30_000, credential: null, notBefore: new Date('2026-01-01T00:00:59.500Z') }, false],
    ['--refresh: checked the moment this call began', at('2026-01-01T00:00:59.500Z'), { now, ttlMs: 30_000, credential: null, notBefore: new Date('2026-01-01T00:00:59.500Z') }, false],
    ['--refresh: checked after this call began', at('2026-01-01T00:00:59.800Z'), { now, ttlMs: 30_000, credential: null, notBefore: new Date('2026-01-01T00:00:59.500Z') }, true],
  ])('%s → %s', (_name, entry, opts, want) => {
    expect(isFresh(entry, opts)).toBe(want);
  });
});
