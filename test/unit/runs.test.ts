import { describe, expect, it } from 'vitest';
import { effectiveRunStatus, type RunRecord } from '../../src/core/runs.js';

const run = (status: RunRecord['status'], pid: number): RunRecord => ({
  id: 't_x',
  sandbox: 's',
  route: 'r',
  provider: 'p',
  model: 'm',
  driver: 'local',
  status,
  started_at: '2026-01-01T00:00:00Z',
  prompt_preview: 'x',
  host_pid: pid,
});

describe('effectiveRunStatus', () => {
  it.each([
    ['running', true, 'running'],
    ['running', false, 'interrupted'],
    ['ok', false, 'ok'],
    ['error', false, 'error'],
  ] as const)('%s with host alive=%s → %s', (status, alive, want) => {
    expect(effectiveRunStatus(run(status, 42), () => alive)).toBe(want);
  });
});
