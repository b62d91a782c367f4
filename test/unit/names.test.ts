import { describe, expect, it } from 'vitest';
import { newTaskId, parseDuration, sanitizeModelId, validateModelId, validateRouteName, validateSandboxName } from '../../src/core/names.js';
import { LogosError } from '../../src/core/errors.js';

describe('sanitizeModelId', () => {
  it.each([
    ['qwen/qwen3.5-9b', 'qwen-qwen3-5-9b'],
    ['Meta-Llama/Llama-3.1-8B-Instruct', 'meta-llama-llama-3-1-8b-instruct'],
    ['gpt-4o-mini', 'gpt-4o-mini'],
    ['--weird__name--', 'weird-name'],
    ['///', 'unknown'],
    ['', 'unknown'],
    ['a'.repeat(80), 'a'.repeat(63)],
    [`${'a'.repeat(62)}-b`, 'a'.repeat(62)],
  ])('%s → %s', (input, want) => {
    expect(sanitizeModelId(input)).toBe(want);
  });
});

describe('name validation', () => {
  it.each(['demo', 'work-1', 'a.b', 'x'])('accepts sandbox %s', (n) => expect(validateSandboxName(n)).toBe(n));
  it.each(['', '-a', 'A', 'a_b', 'a b', 'a-', 'a'.repeat(64), 'é'])('rejects sandbox %j', (n) => {
    expect(() => validateSandboxName(n)).toThrow(LogosError);
  });
  it.each(['demo', 'qwen-qwen3-5-9b'])('accepts route %s', (n) => expect(validateRouteName(n)).toBe(n));
  it.each(['Demo', 'a.b', '-x', 'x-'])('rejects route %j', (n) => expect(() => validateRouteName(n)).toThrow(/Invalid route name/));
  it.each(['gpt 4', 'a\nb', ''])('rejects model id %j', (m) => {
    try {
      validateModelId(m);
      expect.unreachable();
    } catch (err) {
      expect((err as LogosError).code).toBe('INVALID_ARGUMENT');
      expect((err as LogosError).message).not.toContain('\n');
    }
  });
});

describe('parseDuration', () => {
  it.each([
    ['600s', 600_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1500ms', 1500],
    ['90', 90_000],
    ['1.5s', 1500],
  ])('%s = %d ms', (t, ms) => expect(parseDuration(t)).toBe(ms));
  it.each(['', 'abc', '10x', '-5s'])('rejects %j', (t) => expect(() => parseDuration(t)).toThrow(/Invalid duration/));
});

describe('newTaskId', () => {
  it('sorts by time and is unique', () => {
    const a = newTaskId(new Date(1_700_000_000_000));
    const b = newTaskId(new Date(1_700_000_000_001));
    const c = newTaskId(new Date(1_800_000_000_000));
    expect(a < c && b < c).toBe(true);
    expect(a).toMatch(/^t_[0-9a-z]{15}$/);
    const many = new Set(Array.from({ length: 1000 }, () => newTaskId(new Date(0))));
    expect(many.size).toBeGreaterThan(995);
  });
});
