import { describe, expect, it } from 'vitest';
import { nullLogger, type Logger } from '../../src/core/context.js';
import { buildTask, dispatchTask, encodeTask, relayWorkerLog, WorkerLogRelay } from '../../src/core/dispatch.js';
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
    putFile: async () => ({ bytes: 0 }),
    getFile: async () => ({ bytes: 0 }),
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
    const o = await dispatchTask({ clock, logger: nullLogger, driver }, { taskId: 't_1', sandbox, route, messages: [{ role: 'user', content: 'hi' }], timeoutMs: 5000, onFrame: (f) => void frames.push(f.type) });
    expect(frames).toEqual(['ready', 'custom', 'task_result']);
    expect(o.stats).toEqual({ frames: 4, malformed: 2, oversized: 0, afterResult: 1, lingered: false, logLinesDropped: 0 });
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

  it('a worker that lingers after its result: served no more at once, stopped after a short grace, the result stands', async () => {
    const calls: string[] = [];
    let killed!: () => void;
    const driver: SandboxDriver = {
      ...scripted([], {}),
      exec: async (_rec, _route, req) => {
        req.onStdoutLine(ready);
        req.onStdoutLine(result({ status: 'ok', final_response: 'done' }));
        // The process does not exit by itself: only kill() ends it.
        const outcome = new Promise<ExecOutcome>((resolve) => {
          killed = () => resolve({ exitCode: null, signal: 'SIGTERM', timedOut: false, cancelled: false, stderrTail: '', durationMs: 1 });
        });
        return {
          outcome,
          kill: () => {
            calls.push('kill');
            killed();
          },
          resultReceived: () => calls.push('resultReceived'),
        };
      },
    };
    const o = await run(driver);
    expect(calls).toEqual(['resultReceived', 'kill']);
    expect(o).toMatchObject({ status: 'ok', finalResponse: 'done' });
    expect(o.stats.lingered).toBe(true);
  });

  it('a worker that exits after its result is not killed and not counted as lingering', async () => {
    const calls: string[] = [];
    const driver: SandboxDriver = {
      ...scripted([], {}),
      exec: async (_rec, _route, req) => {
        req.onStdoutLine(result({ status: 'ok', final_response: 'done' }));
        return {
          outcome: Promise.resolve({ exitCode: 0, signal: null, timedOut: false, cancelled: false, stderrTail: '', durationMs: 1 }),
          kill: () => calls.push('kill'),
          resultReceived: () => calls.push('resultReceived'),
        };
      },
    };
    const o = await run(driver);
    expect(calls).toEqual(['resultReceived']);
    expect(o.stats.lingered).toBe(false);
  });

  it.each(['constructor', '__proto__', 'toString', 'lower_case', 'A'.repeat(60)])('a worker error code it should not send (%s) is not trusted as a reason code', async (code) => {
    const o = await run(scripted([result({ status: 'error', final_response: '', error: { code, message: 'x' } })], {}));
    expect(o.error?.code).toBe('INVALID_RESPONSE');
    expect(o.error?.exitCode).toBe(1);
  });

  it('keeps only the beginning of a streamed reply (bounded), with its full length', async () => {
    const piece = 'x'.repeat(64 * 1024);
    const lines = [ready, ...Array.from({ length: 40 }, () => token(piece))];
    const o = await run(scripted(lines, { exitCode: 3 }));
    expect(o.error?.code).toBe('WORKER_EXIT_WITHOUT_RESULT');
    expect(o.responseChars).toBe(40 * piece.length);
    expect(o.finalResponse.length).toBe(256 * 1024);
    expect(o.finalResponseTruncated).toBe(true);
  });

  it('a truncated final_response keeps the streamed length as the reply length', async () => {
    const o = await run(
      scripted([ready, token('a'.repeat(1000)), token('b'.repeat(1000)), result({ status: 'ok', final_response: 'a'.repeat(100), final_response_truncated: true, final_response_bytes: 2000 })], {}),
    );
    expect(o).toMatchObject({ status: 'ok', finalResponseTruncated: true, responseChars: 2000 });
  });

  it('pauses the worker output while the frame consumer is full, and resumes it after', async () => {
    const calls: string[] = [];
    let release!: () => void;
    const full = new Promise<void>((r) => (release = r));
    const driver: SandboxDriver = {
      ...scripted([], {}),
      exec: async (_rec, _route, req) => {
        const outcome = new Promise<ExecOutcome>((resolve) => {
          setImmediate(() => {
            req.onStdoutLine(ready);
            req.onStdoutLine(token('a'));
            req.onStdoutLine(token('b'));
            setImmediate(() => {
              release();
              setImmediate(() => {
                req.onStdoutLine(result({ status: 'ok', final_response: 'ab' }));
                resolve({ exitCode: 0, signal: null, timedOut: false, cancelled: false, stderrTail: '', durationMs: 1 });
              });
            });
          });
        });
        return { outcome, kill() {}, pauseOutput: () => calls.push('pause'), resumeOutput: () => calls.push('resume') };
      },
    };
    const o = await dispatchTask(
      { clock, logger: nullLogger, driver },
      { taskId: 't_1', sandbox, route, messages: [{ role: 'user', content: 'hi' }], timeoutMs: 5000, onFrame: (f) => (f.type === 'token' ? full : undefined) },
    );
    expect(o.status).toBe('ok');
    expect(calls).toEqual(['pause', 'resume']);
  });
});

/** A Logger that records what it is asked to write, with the fields its parents added. */
function capture(): { logger: Logger; records: Array<{ level: string; msg: string; fields: Record<string, unknown> }> } {
  const records: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const make = (bound: Record<string, unknown>): Logger => {
    const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => records.push({ level, msg, fields: { ...bound, ...fields } });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (f) => make({ ...bound, ...f }) };
  };
  return { logger: make({}), records };
}

describe('worker log relay', () => {
  it("keeps the host's fields: a worker record cannot set source, task_id, sandbox, route or pid", () => {
    const { logger, records } = capture();
    const log = logger.child({ source: 'worker', task_id: 't_1', sandbox: 'sb', route: 'r' });
    relayWorkerLog(log, JSON.stringify({ level: 'error', msg: 'hello', source: 'cli', sandbox: 'evil', route: 'x', task_id: 't_9', pid: 1, extra: 2 }));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 'error', msg: 'hello', fields: { source: 'worker', task_id: 't_1', sandbox: 'sb', route: 'r' } });
    expect(records[0]?.fields.worker).toEqual({ source: 'cli', sandbox: 'evil', route: 'x', pid: 1, extra: 2 });
  });

  it('cuts long messages and relays at most the per-run cap, counting the rest', () => {
    const { logger, records } = capture();
    const relay = new WorkerLogRelay(logger, { bytes: 10_000, lines: 5 });
    relay.line(JSON.stringify({ msg: 'y'.repeat(5000) }));
    expect(records[0]?.msg.length).toBe(2000);
    for (let i = 0; i < 20; i++) relay.line(JSON.stringify({ msg: `line ${i}` }));
    expect(relay.finish()).toBeGreaterThan(15);
    expect(records.filter((r) => r.msg.startsWith('line ')).length).toBeLessThan(5);
    expect(records.at(-1)?.msg).toContain('not relayed');
  });
});

