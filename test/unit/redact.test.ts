import { afterEach, describe, expect, it } from 'vitest';
import { clearRegisteredSecrets, maskSecret, redactEnv, redactText, redactValue, registerSecret } from '../../src/core/redact.js';

afterEach(() => clearRegisteredSecrets());

describe('maskSecret', () => {
  it.each([
    ['sk-proj-abcdefghijklmnop1234', 'sk-proj-…1234'],
    ['sk-ant-api03-xxxxxxxxxxxxWXYZ', 'sk-ant-…WXYZ'],
    ['nvapi-0123456789abcd', 'nvapi-…abcd'],
    ['plainsecretvalue9876', '…9876'],
    ['short', '****'],
  ])('%s → %s', (s, want) => expect(maskSecret(s)).toBe(want));
});

describe('redactText', () => {
  it.each([
    ['Authorization: Bearer abcdef123456789', 'abcdef123456789'],
    ['key sk-abcdefghijklmnopqrstu in text', 'sk-abcdefghijklmnopqrstu'],
    ['sk-ant-api03-AAAAAAAAAAAAAAAAAAAA', 'sk-ant-api03-AAAAAAAAAAAAAAAAAAAA'],
    ['token ghp_abcdefghijklmnopqrstuvwxyz012345', 'ghp_abcdefghijklmnopqrstuvwxyz012345'],
    ['hf_abcdefghijklmnopqrstuv', 'hf_abcdefghijklmnopqrstuv'],
    ['OPENAI_API_KEY=supersecretvalue1', 'supersecretvalue1'],
    ['MY_TOKEN=abc123def456', 'abc123def456'],
    ['DB_PASSWORD=hunter2hunter2', 'hunter2hunter2'],
    ['{"api_key": "zzzzzzzzzzzz1111"}', 'zzzzzzzzzzzz1111'],
    ['x-api-key: qqqqqqqqqqqq2222', 'qqqqqqqqqqqq2222'],
  ])('masks the secret in %j', (text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(secret.slice(-4));
  });

  it('masks registered secrets of any shape, everywhere', () => {
    registerSecret('weird$(rm -rf)\'"key;|&');
    expect(redactText('value is weird$(rm -rf)\'"key;|& ok')).not.toContain('weird$(rm');
  });

  it('leaves ordinary text alone', () => {
    const t = 'route qwen-qwen3-5-9b at http://127.0.0.1:1234/v1 took 1.2s';
    expect(redactText(t)).toBe(t);
  });
});

describe('redactValue / redactEnv', () => {
  it('masks values under secret-looking keys and strings anywhere', () => {
    const v = redactValue({ apiKey: 'abcdefghijkl9999', nested: { token: 'tttttttttttt8888', list: ['sk-abcdefghijklmnopqrst'] }, model: 'gpt' });
    const s = JSON.stringify(v);
    expect(s).not.toContain('abcdefghijkl9999');
    expect(s).not.toContain('tttttttttttt8888');
    expect(s).not.toContain('sk-abcdefghijklmnopqrst');
    expect(v.model).toBe('gpt');
  });
  it('keeps env names, masks secret values', () => {
    const e = redactEnv({ OPENAI_API_KEY: 'sk-abcdefghijklmnopqrst', PATH: '/usr/bin' });
    expect(e.PATH).toBe('/usr/bin');
    expect(e.OPENAI_API_KEY).toBe('sk-…qrst');
  });
});
