import { describe, expect, it } from 'vitest';
import {
  classifyHttpError,
  classifyNetworkError,
  classifyStreamError,
  errorInfoFromBody,
  toWorkerFailure,
  WorkerFailure,
} from '../../src/worker/classify.js';
import { registerSecret } from '../../src/worker/redact.js';

const ctx = { provider: 'lmstudio', model: 'qwen/qwen3.5-9b', baseUrl: 'https://inference.local/v1' };

const HTTP_CASES: Array<{ status: number; body: string; code: string; message: RegExp }> = [
  { status: 401, body: '{"error":{"message":"Incorrect API key provided: sk-ab****1234.","type":"invalid_request_error","code":"invalid_api_key"}}', code: 'AUTH', message: /HTTP 401.*Incorrect API key/ },
  { status: 403, body: '{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission"}}', code: 'AUTH', message: /HTTP 403.*permission/ },
  { status: 429, body: '{"error":{"message":"Rate limit reached for gpt-4o","type":"tokens","code":"rate_limit_exceeded"}}', code: 'RATE_LIMIT', message: /Rate limit reached/ },
  { status: 404, body: '{"error":{"message":"The model `x` does not exist","code":"model_not_found"}}', code: 'MODEL_NOT_FOUND', message: /does not exist/ },
  { status: 404, body: '<html><body><h1>404 Not Found</h1></body></html>', code: 'MODEL_NOT_FOUND', message: /HTTP 404.*404 Not Found/ },
  { status: 400, body: '{"error":"No models loaded. Please load a model in the developer page or use the `lms load` command."}', code: 'MODEL_NOT_FOUND', message: /No models loaded/ },
  { status: 400, body: '{"error":{"message":"Model \\"foo\\" not found. Please specify a valid model."}}', code: 'MODEL_NOT_FOUND', message: /not found/ },
  { status: 400, body: '{"error":{"message":"This model\'s maximum context length is 4096 tokens. However, your messages resulted in 5000 tokens.","code":"context_length_exceeded"}}', code: 'CONTEXT_OVERFLOW', message: /maximum context length/ },
  { status: 400, body: '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}', code: 'CONTEXT_OVERFLOW', message: /prompt is too long/ },
  { status: 400, body: '{"error":"the request exceeds the available context size, try increasing it"}', code: 'CONTEXT_OVERFLOW', message: /context size/ },
  { status: 413, body: '{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}', code: 'CONTEXT_OVERFLOW', message: /HTTP 413/ },
  { status: 400, body: '{"error":{"message":"temperature: must be <= 2"}}', code: 'INVALID_RESPONSE', message: /HTTP 400.*temperature/ },
  { status: 500, body: '{"error":{"message":"The server had an error while processing your request."}}', code: 'UPSTREAM_5XX', message: /HTTP 500/ },
  { status: 502, body: 'Bad Gateway', code: 'UPSTREAM_5XX', message: /HTTP 502.*Bad Gateway/ },
  { status: 502, body: '{"error":{"type":"network_error","message":"Logos could not reach the model server at http://127.0.0.1:9 (ECONNREFUSED)."}}', code: 'NETWORK', message: /could not reach the model server at http:\/\/127\.0\.0\.1:9/ },
  { status: 503, body: '', code: 'UPSTREAM_5XX', message: /^HTTP 503 from the model server$/ },
  { status: 529, body: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', code: 'UPSTREAM_5XX', message: /Overloaded/ },
  { status: 408, body: 'Request Timeout', code: 'TIMEOUT', message: /HTTP 408/ },
  { status: 302, body: '', code: 'INVALID_RESPONSE', message: /HTTP 302/ },
];

describe('classifyHttpError', () => {
  for (const c of HTTP_CASES) {
    it(`HTTP ${c.status} ${c.body.slice(0, 40)} → ${c.code}`, () => {
      const f = classifyHttpError(c.status, c.body, ctx);
      expect(f).toBeInstanceOf(WorkerFailure);
      expect(f.code).toBe(c.code);
      expect(f.message).toMatch(c.message);
      expect(f.status).toBe(c.status);
      expect(f.hint.length).toBeGreaterThan(20);
    });
  }

  it('hints name what to check', () => {
    expect(classifyHttpError(401, '{}', ctx).hint).toContain('"lmstudio"');
    expect(classifyHttpError(404, '{}', ctx).hint).toContain('"qwen/qwen3.5-9b"');
    expect(classifyHttpError(404, '{}', ctx).hint).toContain('https://inference.local/v1');
  });

  it('cuts long upstream messages to about 300 characters', () => {
    const f = classifyHttpError(500, JSON.stringify({ error: { message: 'x'.repeat(5000) } }), ctx);
    expect(f.message.length).toBeLessThan(360);
  });

  it('never repeats a key the upstream echoed back', () => {
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
    registerSecret(key);
    const f = classifyHttpError(401, JSON.stringify({ error: { message: `Incorrect API key provided: ${key}` } }), ctx);
    expect(f.code).toBe('AUTH');
    expect(f.message).not.toContain(key);
    expect(f.message).toContain('…6789');
    const bearer = classifyHttpError(401, 'bad header Authorization: Bearer abcdef0123456789xyz', ctx);
    expect(bearer.message).not.toContain('abcdef0123456789xyz');
  });
});

const STREAM_CASES: Array<{ name: string; obj: unknown; code: string }> = [
  { name: 'Anthropic overloaded_error', obj: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, code: 'UPSTREAM_5XX' },
  { name: 'Anthropic rate_limit_error', obj: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, code: 'RATE_LIMIT' },
  { name: 'Anthropic api_error', obj: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }, code: 'UPSTREAM_5XX' },
  { name: 'Anthropic authentication_error', obj: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }, code: 'AUTH' },
  { name: 'Anthropic not_found_error', obj: { type: 'error', error: { type: 'not_found_error', message: 'model: x' } }, code: 'MODEL_NOT_FOUND' },
  { name: 'OpenAI server_error', obj: { error: { message: 'The server is overloaded', type: 'server_error', code: null } }, code: 'UPSTREAM_5XX' },
  { name: 'OpenAI context_length_exceeded code', obj: { error: { message: 'too long', type: 'invalid_request_error', code: 'context_length_exceeded' } }, code: 'CONTEXT_OVERFLOW' },
  { name: 'invalid_request_error with a context message', obj: { error: { message: 'maximum context length is 8192 tokens', type: 'invalid_request_error' } }, code: 'CONTEXT_OVERFLOW' },
  { name: 'OpenRouter numeric 429 code', obj: { error: { code: 429, message: 'Provider returned error' } }, code: 'RATE_LIMIT' },
  { name: 'OpenRouter numeric 502 code', obj: { error: { code: 502, message: 'Provider returned error' } }, code: 'UPSTREAM_5XX' },
  { name: 'plain string error (llama.cpp, Ollama)', obj: { error: 'model "x" not found, try pulling it first' }, code: 'MODEL_NOT_FOUND' },
  { name: 'untyped message', obj: { error: { message: 'something broke' } }, code: 'UPSTREAM_5XX' },
];

describe('classifyStreamError', () => {
  for (const c of STREAM_CASES) {
    it(`${c.name} → ${c.code}`, () => {
      const f = classifyStreamError(c.obj, ctx);
      expect(f.code).toBe(c.code);
      expect(f.message).toMatch(/^model server error mid-stream/);
      expect(f.hint.length).toBeGreaterThan(20);
    });
  }
  it('keeps the upstream type and message in the text', () => {
    const f = classifyStreamError({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, ctx);
    expect(f.message).toBe('model server error mid-stream (overloaded_error): Overloaded');
  });
});

function errno(code: string, message = code): Error {
  return Object.assign(new Error(message), { code, syscall: 'connect' });
}

describe('classifyNetworkError', () => {
  const NET: Array<{ err: unknown; socket?: string; code: string; hint: RegExp }> = [
    { err: errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1234'), code: 'NETWORK', hint: /Nothing is listening/ },
    { err: errno('ENOENT', 'connect ENOENT /run/logos/inference.sock'), socket: '/run/logos/inference.sock', code: 'NETWORK', hint: /host inference proxy.*\/run\/logos\/inference.sock/ },
    { err: errno('ENOTFOUND', 'getaddrinfo ENOTFOUND api.openai.com'), code: 'NETWORK', hint: /no general network/ },
    { err: errno('EAI_AGAIN'), code: 'NETWORK', hint: /no general network/ },
    { err: errno('ECONNRESET', 'socket hang up'), code: 'NETWORK', hint: /dropped/ },
    { err: Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), code: 'NETWORK', hint: /dropped/ },
    { err: errno('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), code: 'NETWORK', hint: /NODE_EXTRA_CA_CERTS/ },
  ];
  for (const c of NET) {
    it(`${(c.err as Error).message} → ${c.code}`, () => {
      const f = classifyNetworkError(c.err, { ...ctx, socketPath: c.socket });
      expect(f.code).toBe(c.code);
      expect(f.hint).toMatch(c.hint);
    });
  }
  it('passes a WorkerFailure through untouched', () => {
    const timeout = new WorkerFailure('TIMEOUT', 'deadline', 'raise it');
    expect(classifyNetworkError(timeout)).toBe(timeout);
    expect(toWorkerFailure(timeout)).toBe(timeout);
  });
  it('toWorkerFailure treats errno errors as network and anything else as an invalid response', () => {
    expect(toWorkerFailure(errno('ECONNREFUSED')).code).toBe('NETWORK');
    expect(toWorkerFailure(new TypeError('x is undefined')).code).toBe('INVALID_RESPONSE');
  });
});

describe('errorInfoFromBody', () => {
  it('reads the common error shapes', () => {
    expect(errorInfoFromBody('{"error":{"message":"m","type":"t","code":"c"}}')).toEqual({ message: 'm', type: 't', code: 'c' });
    expect(errorInfoFromBody('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')).toMatchObject({ message: 'Overloaded', type: 'overloaded_error' });
    expect(errorInfoFromBody('{"error":"Unexpected endpoint or method. (POST /v1/x)"}')).toMatchObject({ message: 'Unexpected endpoint or method. (POST /v1/x)' });
    expect(errorInfoFromBody('{"detail":"Not authenticated"}')).toMatchObject({ message: 'Not authenticated' });
    expect(errorInfoFromBody('{"detail":[{"msg":"field required"}]}')).toMatchObject({ message: 'field required' });
    expect(errorInfoFromBody('plain text').message).toBe('plain text');
  });
});
