import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseFilter, filterLog, filterRows } from '../../src/tui/filter.js';
import { paneHeights, scrollOffset } from '../../src/tui/layout.js';
import type { FrameView, RunView, Update } from '../../src/tui/model.js';
import { transcriptLines, wrap } from '../../src/tui/run-lines.js';
import { applyUpdates, framesLoaded, INITIAL_STATE, prependLogs, startWatching } from '../../src/tui/state.js';
import { DashboardStore } from '../../src/tui/store.js';
import { EMPTY_TRANSCRIPT, foldFrames, MAX_TOOL_OUTPUT_CHARS, MAX_TRANSCRIPT_CHARS } from '../../src/tui/transcript.js';
import { INITIAL_UI, reduce, type Ctx, type UiState } from '../../src/tui/ui.js';
import { agentFrames, FakeSource, fixtureSnapshot, logRecord, manyRuns, resultFrame, RUNS } from '../helpers/fake-source.js';

/** The dashboard's pure parts: folding frames and updates, filters, sizes, keys. */

const T = 't1';
const tok = (content: string, seq?: number): FrameView => ({ type: 'token', task_id: T, content, ...(seq !== undefined ? { seq } : {}) });

describe('foldFrames', () => {
  it('joins streamed text, keeps reasoning apart, one block per tool call with its output and outcome, then the result', () => {
    const t = foldFrames(EMPTY_TRANSCRIPT, [...agentFrames(T), tok('It printed'), tok(' 2026-12-01'), resultFrame(T)]);
    expect(t.blocks.map((b) => b.kind)).toEqual(['thinking', 'text', 'tool', 'tool', 'text', 'result']);
    expect(t.blocks[4]).toEqual({ kind: 'text', text: 'It printed 2026-12-01' });
    expect(t.blocks[3]).toMatchObject({ kind: 'tool', tool: 'shell', output: '2026-12-01\n', end: { ok: true, outcome: '✓ exit 0 · 41ms' } });
    expect(t.blocks[5]).toEqual({ kind: 'result', ok: true, summary: 'in 3.2s · 412 in / 96 out tokens · 3 steps' });
    expect(t.done).toBe(true);
  });

  it('shows a reply that came only as the final response, and an error with its hint', () => {
    const ok = foldFrames(EMPTY_TRANSCRIPT, [resultFrame(T)]);
    expect(ok.blocks[0]).toEqual({ kind: 'text', text: 'It printed: 2026-12-01' });
    const failed = foldFrames(EMPTY_TRANSCRIPT, [{ type: 'task_result', task_id: T, status: 'error', final_response: '', duration_ms: 10, error: { code: 'AUTH', message: 'refused', hint: 'logos creds set openai' } }]);
    expect(failed.blocks).toEqual([{ kind: 'result', ok: false, summary: 'in 10ms', error: { code: 'AUTH', message: 'refused', hint: 'logos creds set openai' } }]);
  });

  it('drops frames already seen (by seq), so fetched and pushed frames merge without repeats', () => {
    const t = foldFrames(foldFrames(EMPTY_TRANSCRIPT, [tok('a', 0), tok('b', 1)]), [tok('b', 1), tok('c', 2)]);
    expect(t.blocks).toEqual([{ kind: 'text', text: 'abc' }]);
    expect(t.lastSeq).toBe(2);
  });

  it('shows a tool end without its start (a run opened late), and keeps only the tail of a long output', () => {
    const big = 'x'.repeat(MAX_TOOL_OUTPUT_CHARS) + 'END';
    const t = foldFrames(EMPTY_TRANSCRIPT, [
      { type: 'tool_end', task_id: T, call_id: 'c0', tool: 'read_file', ok: false, duration_ms: 3 },
      { type: 'tool_start', task_id: T, call_id: 'c1', tool: 'shell', preview: '{"command":"yes"}' },
      { type: 'tool_output', task_id: T, call_id: 'c1', content: big },
    ]);
    expect(t.blocks[0]).toMatchObject({ kind: 'tool', tool: 'read_file', end: { ok: false, outcome: '✗ 3ms' } });
    const b = t.blocks[1];
    expect(b?.kind === 'tool' && b.output.length).toBe(MAX_TOOL_OUTPUT_CHARS);
    expect(b?.kind === 'tool' && b.output.endsWith('END') && b.outputCut).toBe(true);
  });

  it('stays bounded on a long run: the oldest blocks go first', () => {
    const chunk = 'y'.repeat(64 * 1024);
    let t = EMPTY_TRANSCRIPT;
    for (let i = 0; i < 20; i += 1) t = foldFrames(t, [{ type: i % 2 ? 'thinking' : 'token', task_id: T, content: chunk }]);
    expect(t.chars).toBeLessThanOrEqual(MAX_TRANSCRIPT_CHARS);
    expect(t.dropped).toBeGreaterThan(0);
    expect(t.blocks.length + t.dropped).toBe(20);
  });
});

describe('run view lines', () => {
  it.each([
    ['short', 10, ['short']],
    ['two words here', 8, ['two', 'words', 'here']],
    ['abcdefghij', 4, ['abcd', 'efgh', 'ij']],
    ['a\n\nb', 5, ['a', '', 'b']],
  ])('wrap(%j, %i)', (text, width, lines) => {
    expect(wrap(text, width)).toEqual(lines);
  });

  it('reuses the lines of blocks that did not change', () => {
    const cache = new WeakMap();
    const t1 = foldFrames(EMPTY_TRANSCRIPT, agentFrames(T));
    const a = transcriptLines(t1, 80, new Set(), cache);
    const t2 = foldFrames(t1, [tok('more')]);
    const b = transcriptLines(t2, 80, new Set(), cache);
    expect(b.slice(0, a.length)).toEqual(a);
    a.forEach((l, i) => expect(b[i]).toBe(l));
  });
});

describe('applyUpdates', () => {
  const opts = { maxLogs: 100, now: 0 };

  it('keeps at most maxLogs records, numbered in arrival order', () => {
    let s = INITIAL_STATE;
    for (let b = 0; b < 3; b += 1) s = applyUpdates(s, [{ kind: 'log', records: Array.from({ length: 70 }, (_, i) => logRecord(b * 70 + i)) }], opts);
    expect(s.logs).toHaveLength(100);
    expect(s.logSeen).toBe(210);
    expect(s.logs[0]?.msg).toBe('record 110');
    expect(s.logs.at(-1)).toMatchObject({ msg: 'record 209', seq: 209 });
    // A burst larger than the bound keeps its newest records.
    const burst = applyUpdates(INITIAL_STATE, [{ kind: 'log', records: Array.from({ length: 250 }, (_, i) => logRecord(i)) }], opts);
    expect(burst.logs.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i));
  });

  it('puts the records from before the start in front, without repeating one received live', () => {
    const live = applyUpdates(INITIAL_STATE, [{ kind: 'log', records: [logRecord(9), logRecord(10)] }], opts);
    const s = prependLogs(live, Array.from({ length: 10 }, (_, i) => logRecord(i)), 100);
    expect(s.logs.map((r) => r.msg)).toEqual(Array.from({ length: 11 }, (_, i) => `record ${i}`));
  });

  it('keeps the objects of rows that did not change (a polled snapshot redraws nothing)', () => {
    const a = applyUpdates(INITIAL_STATE, [{ kind: 'snapshot', snapshot: fixtureSnapshot() }], opts);
    const b = applyUpdates(a, [{ kind: 'snapshot', snapshot: JSON.parse(JSON.stringify(fixtureSnapshot())) }], opts);
    expect(b.snapshot?.gateways).toBe(a.snapshot?.gateways);
    expect(b.snapshot?.sandboxes).toBe(a.snapshot?.sandboxes);
    expect(b.runs).toBe(a.runs);
    const changed = fixtureSnapshot({ runs: RUNS.map((r, i) => (i === 1 ? { ...r, status: 'cancelled' } : r)) });
    const c = applyUpdates(b, [{ kind: 'snapshot', snapshot: changed }], opts);
    expect(c.runs[0]).toBe(b.runs[0]);
    expect(c.runs[1]).not.toBe(b.runs[1]);
    expect(c.runs[2]).toBe(b.runs[2]);
  });

  it('adds a new run in its place (newest first) and replaces a known one', () => {
    const base = applyUpdates(INITIAL_STATE, [{ kind: 'snapshot', snapshot: fixtureSnapshot({ runs: manyRuns(3) }) }], opts);
    expect(base.runs.map((r) => r.id)).toEqual(['t_bulk00002', 't_bulk00001', 't_bulk00000']);
    const newer: RunView = { ...manyRuns(1)[0]!, id: 't_new', startedAt: '2027-01-01T00:00:00.000Z' };
    const middle: RunView = { ...manyRuns(1)[0]!, id: 't_mid', startedAt: '2026-12-01T09:00:01.500Z' };
    const s = applyUpdates(base, [{ kind: 'run', run: newer }, { kind: 'run', run: middle }, { kind: 'run', run: { ...base.runs[2]!, status: 'error' } }], opts);
    expect(s.runs.map((r) => r.id)).toEqual(['t_new', 't_bulk00002', 't_mid', 't_bulk00001', 't_bulk00000']);
    expect(s.runs[4]?.status).toBe('error');
  });

  it('follows only the watched run; frames that come while its history loads go after it', () => {
    let s = startWatching(INITIAL_STATE, T);
    const push = (frame: FrameView, runId = T): Update => ({ kind: 'frame', runId, frame });
    s = applyUpdates(s, [push(tok('c', 2)), push(tok('other', 0), 't2')], opts);
    expect(s.watched?.pending).toHaveLength(1);
    s = framesLoaded(s, T, [tok('a', 0), tok('b', 1), tok('c', 2)]);
    s = applyUpdates(s, [push(tok('d', 3))], opts);
    expect(s.watched?.transcript.blocks).toEqual([{ kind: 'text', text: 'abcd' }]);
  });
});

describe('filters', () => {
  it.each([
    ['', { words: [] }],
    ['Notes  AUTH', { words: ['notes', 'auth'] }],
    ['level:warn source:daemon sandbox:work boom', { words: ['boom'], level: 40, source: 'daemon', sandbox: 'work' }],
    ['level:nonsense', { words: ['level:nonsense'] }],
  ])('parseFilter(%j)', (q, f) => {
    expect(parseFilter(q)).toEqual(f);
  });

  it('narrows rows by every word, and the log by level, source and sandbox', () => {
    expect(filterRows(RUNS, 'notes ok', (r) => `${r.sandbox} ${r.status}`).map((r) => r.id)).toEqual([RUNS[1]?.id]);
    const logs = Array.from({ length: 100 }, (_, i) => logRecord(i));
    expect(filterLog(logs, 'level:warn').map((r) => r.msg)).toEqual(['record 0', 'record 50']);
    expect(filterLog(logs, 'source:daemon sandbox:notes')).toHaveLength(17);
    expect(filterLog(logs, '')).toBe(logs);
  });
});

describe('layout', () => {
  const counts = { gateways: 2, routes: 3, sandboxes: 3, runs: 1000, log: 2000 };
  it.each([
    [17, 24, { gateways: 0, routes: 0, sandboxes: 0, runs: 12, log: 0 }],
    [33, 40, { gateways: 2, routes: 3, sandboxes: 3, runs: 16, log: 4 }],
  ])('paneHeights(%i rows for panes at %i)', (available, rows, heights) => {
    expect(paneHeights(available, 'runs', counts, rows)).toEqual(heights);
  });

  it('gives the room a short focused list does not need to the log', () => {
    expect(paneHeights(33, 'runs', { ...counts, runs: 3 }, 40)).toEqual({ gateways: 2, routes: 3, sandboxes: 3, runs: 4, log: 16 });
  });

  it.each([
    [0, 0, 10, 100, 0],
    [0, 9, 10, 100, 0],
    [0, 10, 10, 100, 1],
    [50, 45, 10, 100, 45],
    [0, 99, 10, 100, 90],
    [5, 3, 10, 8, 0],
  ])('scrollOffset(from %i, selected %i, height %i, total %i) = %i', (offset, selected, height, total, want) => {
    expect(scrollOffset(offset, selected, height, total)).toBe(want);
  });
});

describe('keys (reduce)', () => {
  const ctx = (over: Partial<Ctx> = {}): Ctx => ({ readonly: false, list: { id: 'sandboxes', keys: ['work', 'notes'], selectedIndex: 1 }, pageSize: 10, defaultRoute: 'qwen3', run: undefined, ...over });
  const key = (input: string, flags = {}) => ({ kind: 'key' as const, input, key: flags });
  const onSandboxes: UiState = { ...INITIAL_UI, focus: 'sandboxes' };

  it('asks before deleting, acts on y only', () => {
    const asked = reduce(onSandboxes, key('d'), ctx());
    expect(asked.ui.mode).toEqual({ kind: 'confirm', action: { kind: 'deleteSandbox', name: 'notes' }, question: 'Delete sandbox notes and its files?' });
    expect(asked.effects).toEqual([]);
    expect(reduce(asked.ui, key('n'), ctx()).effects).toEqual([]);
    expect(reduce(asked.ui, key('y'), ctx()).effects).toEqual([{ kind: 'perform', action: { kind: 'deleteSandbox', name: 'notes' } }]);
  });

  it('read-only: every action key is refused with a note and no effect', () => {
    for (const k of ['d', 'r', 'n']) {
      const r = reduce(onSandboxes, key(k), ctx({ readonly: true }));
      expect(r.effects).toEqual([]);
      expect(r.ui.mode.kind).toBe('normal');
      expect(r.ui.status).toEqual({ kind: 'info', text: 'Read-only: actions are off (started with --readonly).' });
    }
  });

  it('a task needs a message; the session may stay empty', () => {
    let ui = reduce(onSandboxes, key('r'), ctx()).ui;
    ui = reduce(ui, key('', { return: true }), ctx()).ui;
    expect(ui.status).toEqual({ kind: 'info', text: 'Task for notes: required.' });
    for (const ch of 'hi') ui = reduce(ui, key(ch), ctx()).ui;
    ui = reduce(ui, key('', { return: true }), ctx()).ui;
    const done = reduce(ui, key('', { return: true }), ctx());
    expect(done.effects).toEqual([{ kind: 'perform', action: { kind: 'startRun', sandbox: 'notes', message: 'hi' } }]);
  });

  it('the store coalesces a burst of updates into one flush', async () => {
    vi.useFakeTimers();
    const source = new FakeSource();
    const store = new DashboardStore(source, { flushMs: 100, tickMs: 0 });
    store.start();
    await vi.advanceTimersByTimeAsync(200);
    const before = store.flushes;
    for (let i = 0; i < 1000; i += 1) source.push({ kind: 'log', records: [logRecord(i)] });
    await vi.advanceTimersByTimeAsync(150);
    expect(store.flushes - before).toBe(1);
    expect(store.getState().logSeen).toBe(1000);
    store.stop();
  });
});

afterEach(() => {
  vi.useRealTimers();
});
