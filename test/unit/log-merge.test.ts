import { describe, expect, it } from 'vitest';
import { mergeSandboxLog, workerLineRecord } from '../../src/log/merge.js';
import { parseLine, type LogEntry } from '../../src/log/record.js';

/** `debug tail --sandbox`: the host's records and the sandbox's worker log, merged by time, each line once. */

const host = (rec: Record<string, unknown>): LogEntry => parseLine(JSON.stringify(rec));
const msgs = (list: LogEntry[]): string[] => list.map((e) => (e.kind === 'record' ? String(e.record.msg) : e.line));

describe('workerLineRecord', () => {
  it('keeps time, level, message and task; the rest goes under worker; source is sandbox', () => {
    const r = workerLineRecord(JSON.stringify({ ts: '2025-01-01T10:00:00.000Z', level: 'warn', msg: 'slow', task_id: 't_1', step: 3 }), 'work');
    expect(r).toEqual({ ts: '2025-01-01T10:00:00.000Z', level: 'warn', source: 'sandbox', sandbox: 'work', msg: 'slow', task_id: 't_1', worker: { step: 3 } });
  });
  it('a line that is not JSON becomes an info record with the text as its message', () => {
    expect(workerLineRecord('Segmentation fault', 'work')).toEqual({ level: 'info', source: 'sandbox', sandbox: 'work', msg: 'Segmentation fault' });
  });
});

describe('mergeSandboxLog', () => {
  const hostRecords = [
    host({ ts: '2025-01-01T10:00:00.000Z', level: 'info', source: 'cli', sandbox: 'work', msg: 'task started' }),
    // Relayed from the worker while the run lasted: the worker's own time is under `worker`.
    host({ ts: '2025-01-01T10:00:01.100Z', level: 'info', source: 'worker', sandbox: 'work', msg: 'model call', worker: { ts: '2025-01-01T10:00:01.000Z' } }),
    host({ ts: '2025-01-01T10:00:05.000Z', level: 'info', source: 'cli', sandbox: 'work', msg: 'task finished' }),
  ];
  const workerLines = [
    JSON.stringify({ ts: '2025-01-01T10:00:01.000Z', level: 'info', msg: 'model call' }),
    JSON.stringify({ ts: '2025-01-01T10:00:03.000Z', level: 'debug', msg: 'over the relay cap' }),
    '',
    JSON.stringify({ ts: '2025-01-01T10:00:09.000Z', level: 'error', msg: 'after the run' }),
  ];

  it('orders by time and shows a relayed line once (as the host recorded it)', () => {
    const out = mergeSandboxLog(hostRecords, workerLines, 'work', { filters: [] }, Infinity);
    expect(msgs(out)).toEqual(['task started', 'model call', 'over the relay cap', 'task finished', 'after the run']);
    const sources = out.map((e) => (e.kind === 'record' ? e.record.source : undefined));
    expect(sources).toEqual(['cli', 'worker', 'sandbox', 'cli', 'sandbox']);
  });

  it('applies the selection to the sandbox lines and keeps the last `limit`', () => {
    const out = mergeSandboxLog(hostRecords, workerLines, 'work', { filters: [], minLevel: 'info' }, 3);
    expect(msgs(out)).toEqual(['model call', 'task finished', 'after the run']);
    const errorsOnly = mergeSandboxLog([], workerLines, 'work', { filters: [{ key: 'level', op: '=', value: 'error' }] }, Infinity);
    expect(msgs(errorsOnly)).toEqual(['after the run']);
  });

  it('a line without a time keeps its place after the line before it', () => {
    const out = mergeSandboxLog(hostRecords, [JSON.stringify({ ts: '2025-01-01T10:00:04.000Z', msg: 'a' }), 'no time here'], 'work', { filters: [] }, Infinity);
    expect(msgs(out)).toEqual(['task started', 'model call', 'a', 'no time here', 'task finished']);
  });
});
