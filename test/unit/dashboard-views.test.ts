import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/app/status.js';
import { errorView, logRecordView, runView, snapshotOf, versionLine } from '../../src/cli/dashboard/views.js';

/** What the dashboard shows, from the status report both sources read (the daemon's /v1/status, or the files). */

const REPORT: StatusReport = {
  version: '0.1.0',
  checked_at: '2026-12-01T10:00:00.000Z',
  daemon: { running: true, pid: 1, version: '0.1.0', uptime_s: 5 },
  gateways: [
    { name: 'logos', endpoint: 'http://127.0.0.1:17670', kind: 'local', reachable: true, status: 'connected', version: '0.1.10', latency_ms: 3, checked_at: '2026-12-01T10:00:00.000Z' },
    { name: 'lab', endpoint: 'https://lab.example:8443', kind: 'remote', reachable: false, status: 'unreachable', error: 'connection refused', latency_ms: 0, checked_at: '2026-12-01T10:00:00.000Z' },
    { name: 'new', kind: 'local', reachable: false, status: 'not probed', latency_ms: 0, checked_at: '2026-12-01T10:00:00.000Z' },
  ],
  routes: [
    { name: 'qwen', provider: 'lmstudio', model: 'qwen3', status: 'ready', default: true, reason: 'OK', latency_ms: 12 },
    { name: 'cloud', provider: 'openai', model: 'gpt-4o-mini', status: 'ready', default: false, gateway: 'logos', reason: 'AUTH', latency_ms: null },
  ],
  sandboxes: [
    { name: 'work', driver: 'local', route: 'qwen', phase: 'Ready', running: 1, tools: ['shell'] },
    { name: 'cloud', driver: 'openshell', route: 'cloud', phase: 'Provisioning', running: 0 },
  ],
  providers: [{ provider: 'openai', endpoint: 'https://api.openai.com/v1', state: 'error', reason: 'AUTH', hint: 'logos creds set openai', latency_ms: 40, checked_at: '2026-12-01T10:00:00.000Z' } as unknown as StatusReport['providers'][number]],
  runs: [
    { id: 't_1', status: 'ok', sandbox: 'work', route: 'qwen', started_at: '2026-12-01T09:59:00.000Z', duration_ms: 1200, steps: 2, usage: { input_tokens: 10, output_tokens: 4 }, prompt_preview: 'hi' },
    { id: 't_2', status: 'error', sandbox: 'work', route: 'qwen', started_at: '2026-12-01T09:58:00.000Z', error: { code: 'AUTH', message: 'no', hint: 'logos creds set openai' }, prompt_preview: 'x' },
  ],
};

describe('snapshotOf', () => {
  it('maps gateways (reachability unknown when not probed, the line from the version, sandboxes per gateway)', () => {
    const s = snapshotOf(REPORT, { running: true, uptimeS: 5 });
    expect(s.gateways).toEqual([
      { name: 'logos', endpoint: 'http://127.0.0.1:17670', kind: 'local', reachable: true, version: '0.1.10', line: '0.1.x', sandboxes: 1 },
      { name: 'lab', endpoint: 'https://lab.example:8443', kind: 'remote', reachable: false, detail: 'connection refused' },
      { name: 'new', endpoint: '', kind: 'local', reachable: null },
    ]);
  });
  it('maps routes with the provider hint when the reason is not OK, sandboxes with lower-case phases, and runs', () => {
    const s = snapshotOf(REPORT, { running: false });
    expect(s.daemon).toEqual({ running: false });
    expect(s.routes).toEqual([
      { name: 'qwen', provider: 'lmstudio', model: 'qwen3', status: 'ready', isDefault: true, reason: 'OK', latencyMs: 12 },
      { name: 'cloud', provider: 'openai', model: 'gpt-4o-mini', status: 'ready', isDefault: false, gateway: 'logos', reason: 'AUTH', hint: 'logos creds set openai' },
    ]);
    expect(s.sandboxes.map((x) => x.phase)).toEqual(['ready', 'provisioning']);
    expect(s.sandboxes[0]?.tools).toEqual(['shell']);
    expect(s.runs).toEqual([
      { id: 't_1', sandbox: 'work', route: 'qwen', status: 'ok', startedAt: '2026-12-01T09:59:00.000Z', durationMs: 1200, steps: 2, inputTokens: 10, outputTokens: 4, promptPreview: 'hi' },
      { id: 't_2', sandbox: 'work', route: 'qwen', status: 'error', startedAt: '2026-12-01T09:58:00.000Z', promptPreview: 'x', error: { code: 'AUTH', message: 'no', hint: 'logos creds set openai' } },
    ]);
    expect(s.takenAt).toBe(REPORT.checked_at);
  });
});

describe('the smaller views', () => {
  it('a run without an id is no run; a log record keeps its other fields', () => {
    expect(runView({ status: 'ok' })).toBeUndefined();
    expect(logRecordView({ ts: 't', level: 'warn', source: 'cli', msg: 'm', pid: 9, sandbox: 'work' })).toEqual({ ts: 't', level: 'warn', source: 'cli', msg: 'm', fields: { sandbox: 'work' } });
    expect(logRecordView({ level: 'info' }).msg).toBe('{"level":"info"}');
  });
  it('errors and version lines', () => {
    expect(errorView({ code: 'AUTH', message: 'm', hint: 'h' })).toEqual({ code: 'AUTH', message: 'm', hint: 'h' });
    expect(errorView('x')).toBeUndefined();
    expect(versionLine('0.0.111')).toBe('0.0.x');
    expect(versionLine('v0.1.10')).toBe('0.1.x');
    expect(versionLine('dev')).toBeUndefined();
  });
});
