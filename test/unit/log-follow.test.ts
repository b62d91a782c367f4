import { appendFileSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/log/filter.js';
import { followLines, type FollowOptions } from '../../src/log/follow.js';
import { completeLinesEnd, linesBackward, openLog, readRecent } from '../../src/log/reader.js';
import { waitFor } from '../helpers/logos.js';

/** The file side of `logos debug tail`: reading backwards across logos.jsonl and .1, and following. */

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logos-log-'));
  file = join(dir, 'logs', 'logos.jsonl');
  mkdirSync(join(dir, 'logs'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const rec = (msg: string, extra: Record<string, unknown> = {}): string => `${JSON.stringify({ level: 'info', ts: '2025-01-01T10:00:00.000Z', source: 't', msg, ...extra })}\n`;
const msgs = (entries: Array<{ line: string }>): string[] => entries.map((e) => (JSON.parse(e.line) as { msg: string }).msg);

describe('linesBackward', () => {
  it.each([
    ['a\nb\nc\n', ['c', 'b', 'a']],
    ['a\nb\nc', ['c', 'b', 'a']],
    ['\n\na\n\n  \nb\n', ['b', 'a']],
    ['héllo\n日本語のテキスト\n✓✓✓\n', ['✓✓✓', '日本語のテキスト', 'héllo']],
    ['', []],
    ['single', ['single']],
  ])('%j, whatever the chunk size', async (text, want) => {
    writeFileSync(file, text);
    for (const chunk of [1, 2, 3, 5, 64 * 1024]) {
      const fh = await open(file, 'r');
      const got: string[] = [];
      for await (const l of linesBackward(fh, Buffer.byteLength(text), chunk)) got.push(l);
      await fh.close();
      expect(got, `chunk ${chunk}`).toEqual(want);
    }
  });

  it.each([
    ['a\nb\n', 4],
    ['a\nb\npart', 4],
    ['no newline', 0],
    ['', 0],
  ])('complete lines of %j end at %i', async (text, want) => {
    writeFileSync(file, text);
    const fh = await open(file, 'r');
    expect(await completeLinesEnd(fh, Buffer.byteLength(text), 2)).toBe(want);
    await fh.close();
  });
});

describe('readRecent', () => {
  const sel = { filters: [] };

  it.each([
    [2, ['n3', 'n4']],
    [4, ['o2', 'n1', 'n3', 'n4']],
    [50, ['o1', 'o2', 'n1', 'n3', 'n4']],
    [0, []],
  ])('the last %i lines come from logos.jsonl, then logos.jsonl.1', async (limit, want) => {
    writeFileSync(`${file}.1`, rec('o1') + rec('o2'));
    writeFileSync(file, rec('n1') + rec('n2', { level: 'debug' }) + rec('n3') + rec('n4'));
    const log = await openLog(file);
    const got = await readRecent(file, { limit, selection: { filters: [parseFilter('level!=debug')] }, current: log && { log, end: log.size } });
    await log?.fh.close();
    expect(msgs(got)).toEqual(want);
  });

  it('reads only logos.jsonl.1 when logos.jsonl is missing', async () => {
    writeFileSync(`${file}.1`, rec('old'));
    expect(msgs(await readRecent(file, { limit: 10, selection: sel }))).toEqual(['old']);
    expect(await readRecent(join(dir, 'nothing-here.jsonl'), { limit: 10, selection: sel })).toEqual([]);
  });

  it('does not read the same file twice when .1 is the file already open (rotated in between)', async () => {
    writeFileSync(file, rec('only'));
    linkSync(file, `${file}.1`);
    const log = await openLog(file);
    const got = await readRecent(file, { limit: 10, selection: sel, current: log && { log, end: log.size } });
    await log?.fh.close();
    expect(msgs(got)).toEqual(['only']);
  });

  it('with --since stops at records well before it, and keeps lines that are not JSON', async () => {
    writeFileSync(`${file}.1`, rec('ancient', { ts: '2025-01-01T08:00:00Z' }));
    writeFileSync(file, [rec('old', { ts: '2025-01-01T09:00:00Z' }), 'not json\n', rec('new', { ts: '2025-01-01T10:00:00Z' })].join(''));
    const log = await openLog(file);
    const got = await readRecent(file, { limit: Infinity, selection: { filters: [], since: Date.parse('2025-01-01T09:30:00Z') }, current: log && { log, end: log.size } });
    await log?.fh.close();
    expect(got.map((e) => e.line)).toEqual(['not json', rec('new', { ts: '2025-01-01T10:00:00Z' }).trimEnd()]);
  });
});

describe('followLines', () => {
  function follow(extra: Partial<FollowOptions> = {}) {
    const ac = new AbortController();
    const lines: string[] = [];
    let waits = 0;
    const done = (async () => {
      for await (const batch of followLines(file, { signal: ac.signal, pollMs: 20, onWait: () => waits++, ...extra })) lines.push(...batch);
    })();
    return {
      lines,
      waits: () => waits,
      stop: async () => {
        ac.abort();
        await done;
      },
    };
  }

  it('prints appended lines, whole lines only', async () => {
    writeFileSync(file, 'before\n');
    const f = follow();
    appendFileSync(file, 'one\npar');
    await waitFor(() => f.lines.includes('one'), 'one');
    // the poll that saw "one" also saw "par": it must wait for the rest of that line
    appendFileSync(file, 'tial\n');
    await waitFor(() => f.lines.includes('partial'), 'partial');
    await f.stop();
    expect(f.lines).toEqual(['before', 'one', 'partial']);
  });

  it('goes on from where an initial read stopped, without repeating or cutting a line', async () => {
    writeFileSync(file, 'a\nb\nhalf-');
    const log = await openLog(file);
    if (!log) throw new Error('no log');
    const end = await completeLinesEnd(log.fh, log.size);
    const first = await readRecent(file, { limit: 10, selection: { filters: [] }, current: { log, end } });
    expect(first.map((e) => e.line)).toEqual(['a', 'b']);
    const f = follow({ start: { log, pos: end } });
    appendFileSync(file, 'written\nc\n');
    await waitFor(() => f.lines.includes('c'), 'c');
    await f.stop();
    expect(f.lines).toEqual(['half-written', 'c']);
  });

  it('waits for a file that does not exist yet (nor its directory)', async () => {
    file = join(dir, 'later', 'logos.jsonl');
    const f = follow();
    await waitFor(() => f.waits() >= 2, 'the follower to look for the file');
    mkdirSync(join(dir, 'later'));
    writeFileSync(file, 'hello\n');
    await waitFor(() => f.lines.includes('hello'), 'hello');
    appendFileSync(file, 'again\n');
    await waitFor(() => f.lines.includes('again'), 'again');
    await f.stop();
    expect(f.lines).toEqual(['hello', 'again']);
  });

  it('survives rotation: the file renamed to .1 and a new one created', async () => {
    writeFileSync(file, '');
    const f = follow();
    appendFileSync(file, 'one\n');
    await waitFor(() => f.lines.includes('one'), 'one');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'two\n');
    await waitFor(() => f.lines.includes('two'), 'two');
    appendFileSync(file, 'three\n');
    await waitFor(() => f.lines.includes('three'), 'three');
    await f.stop();
    expect(f.lines).toEqual(['one', 'two', 'three']);
  });

  it('survives removal and re-creation, and truncation in place', async () => {
    writeFileSync(file, 'one\n');
    const f = follow();
    await waitFor(() => f.lines.includes('one'), 'one');
    rmSync(file);
    await waitFor(() => f.waits() >= 1, 'the follower to notice the file is gone');
    writeFileSync(file, 'two and more\n');
    await waitFor(() => f.lines.includes('two and more'), 'two');
    // shorter than what was read: whatever order the follower sees it in, it starts over
    writeFileSync(file, 'x\n');
    await waitFor(() => f.lines.includes('x'), 'x');
    await f.stop();
    expect(f.lines).toEqual(['one', 'two and more', 'x']);
  });

  it('ends when the signal aborts, also while waiting for a missing file', async () => {
    file = join(dir, 'never', 'logos.jsonl');
    const f = follow({ pollMs: 60_000 });
    await waitFor(() => f.waits() >= 1, 'the first look');
    await f.stop();
    expect(f.lines).toEqual([]);
  });
});
