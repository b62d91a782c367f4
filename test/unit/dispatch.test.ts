import { describe, expect, it } from 'vitest';
import { nullLogger } from '../../src/core/context.js';
import { buildTask, dispatchTask, encodeTask } from '../../src/core/dispatch.js';
import { LogosError } from '../../src/core/errors.js';
import type { RouteRecord } from '../../src/core/routes.js';
import type { ExecOutcome, ExecRequest, RunningExec, SandboxDriver, SandboxRecord } from '../../src/core/sandboxes.js';

/**
 * The dispatch rules on their own, with a scripted driver port: what the worker
 * printed and how its process ended → exactly one outcome. (End-to-end, the same
 * rules are tested through bwrap and the fake openshell.)
 */

const sandbox: SandboxRecord = { name: 'sb', driver: 'local', route: 'r', created_at: '2026-01-01T00:00:00Z' };
const route: RouteRecord = { name: 'r', provider: 'custom', model: 'm', api: 'openai-chat', endpoint: 'http://127.0.0.1:9/v1', timeout_sec: 600, created_at: '', status: 'ready' };
const clock = { now: () => new Date() };

function scripted(lines: string[], end: Partial<ExecOutcome>, seen: { task?: string } = {}): SandboxDriver {
  const exec = async (_rec: SandboxRecord, _route: RouteRecord, req: ExecRequest): Promise<RunningExec> => {
    seen.task = req.taskJson;
    for (const l of lines) req.onStdoutLine(l);
    req.onStdoutEnd?.();
    return {
      outcome: Promise.resolve({ exitCode: 0, signal: null, timedOut: false, cancelled: false, stderrTail: '', durationMs: 1, ...end }),
      kill() {},
    };
  };
  return {
    kind: 'local',
    inferenceBaseUrl: 'http://inference.local/v1',
    preflight: async () => {},
    create: async (r) => r,
    remove: async () => {},
    status: async () => ({ phase: 'Ready' }),
    exec,
    logs: async () => [],
  };
}

const run = (driver: SandboxDriver) =>
  dispatchTask({ clock, logger: nullLogger, driver }, { taskId: 't_1', sandbox, route, messages: [{ role: 'user', content: 'hi' }], timeoutMs: 5000 });

const ready = JSON.stringify({ v: 1, type: 'ready', task_id: 't_1', worker: { version: 'x', runtime: 'node', pid: 1 }, ts: '' });
const token = (c: string) => JSON.stringify({ type: 'token', task_id: 't_1', content: c });
const result = (extra: Record<string, unknown>) => JSON.stringify({ type: 'task_result', task_id: 't_1', duration_ms: 1, ...extra });

describe('dispatchTask', () => {
  it('ok result with usage', async () => {
    const o = await run(scripted([ready, token('a'), result({ status: 'ok', final_response: 'a', usage: { input_tokens: 1, output_tokens: 1 } })], {}));
    expect(o).toMatchObject({ status: 'ok', finalResponse: 'a', usage: { input_tokens: 1 } });
  });

  it('a worker-reported error keeps its code and hint, even if the driver also flagged the exit', async () => {
    const o = await run(
      scripted([ready, result({ status: 'error', final_response: '', error: { code: 'MODEL_NOT_FOUND', message: 'model not found', hint: 'load it' } })], {
        exitCode: 1,
        startError: new LogosError('SANDBOX_UNAVAILABLE', 'would be wrong'),
      }),
    );
    expect(o.error).toMatchObject({ code: 'MODEL_NOT_FOUND', hint: 'load it' });
  });

  it.each([
    [{ exitCode: 3, stderrTail: '{"level":"error","msg":"boom"}\n' }, 'WORKER_EXIT_WITHOUT_RESULT'],
    [{ exitCode: null, signal: 'SIGKILL' }, 'SANDBOX_DISCONNECTED'],
    [{ exitCode: 137 }, 'SANDBOX_DISCONNECTED'],
    [{ exitCode: 124 }, 'TASK_TIMEOUT'],
    [{ exitCode: null, timedOut: true }, 'TASK_TIMEOUT'],
    [{ exitCode: null, cancelled: true }, 'CANCELLED'],
  ] as const)('no result, process ended %j → %s', async (end, code) => {
    const o = await run(scripted([ready, token('partial')], end));
    expect(o.status).toBe('error');
    expect(o.error?.code).toBe(code);
    expect(o.finalResponse).toBe('partial');
    if (code === 'WORKER_EXIT_WITHOUT_RESULT') expect(o.error?.message).toContain('boom');
  });

  it('a driver that could not start reports its own error', async () => {
    const o = await run(scripted([], { exitCode: null, startError: new LogosError('BWRAP_MISSING', 'no bwrap', { hint: 'install it' }) }));
    expect(o.error).toMatchObject({ code: 'BWRAP_MISSING', hint: 'install it' });
  });

  it('counts junk, passes unknown frames, ignores frames after the result', async () => {
    const frames: string[] = [];
    const driver = scripted([ready, '', 'junk', '{"no":"type"}', JSON.stringify({ type: 'custom', x: 1 }), result({ status: 'ok', final_response: '' }), token('late')], {});
    const o = await dispatchTask({ clock, logger: nullLogger, driver }, { taskId: 't_1', sandbox, route, messages: [{ role: 'user', content: 'hi' }], timeoutMs: 5000, onFrame: (f) => frames.push(f.type) });
    expect(frames).toEqual(['ready', 'custom', 'task_result']);
    expect(o.stats).toEqual({ frames: 4, malformed: 2, oversized: 0, afterResult: 1 });
  });

  it("sends the driver's inference URL and the deadline in the task, never the real endpoint", async () => {
    const seen: { task?: string } = {};
    await run(scripted([ready, result({ status: 'ok', final_response: '' })], {}, seen));
    const task = JSON.parse(seen.task ?? '{}');
    expect(task.route).toEqual({ provider: 'custom', model: 'm', api: 'openai-chat', base_url: 'http://inference.local/v1' });
    expect(task.deadline_ms).toBe(5000);
    expect(seen.task).not.toContain('127.0.0.1:9');
  });

  it('refuses tasks over 4 MiB', () => {
    const big = buildTask({ taskId: 't', sandbox, route, messages: [{ role: 'user', content: 'x'.repeat(4 * 1024 * 1024) }], deadlineMs: 1, baseUrl: 'u' });
    expect(() => encodeTask(big)).toThrow(/limit is 4 MiB/);
  });
});
