import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/log/filter.js';
import { followLines, type FollowOptions } from '../../src/log/follow.js';
import { completeLinesEnd, linesBackward, markLogEnd, readRecent, readRecentLog } from '../../src/log/reader.js';
import { waitFor } from '../helpers/logos.js';

/** The file side of `logos debug tail`: reading backwards across the numbered log files (logos.N.jsonl), and following them. */

let dir: string;
let logs: string;
let file: string;
/** The log file numbered n. */
const nth = (n: number): string => join(logs, `logos.${n}.jsonl`);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logos-log-'));
  logs = join(dir, 'logs');
  file = nth(1);
  mkdirSync(logs);
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
    [50, ['a1', 'o1', 'o2', 'n1', 'n3', 'n4']],
    [0, []],
  ])('the last %i lines come from the highest number, then the lower ones (numbers, not names, in order)', async (limit, want) => {
    writeFileSync(nth(9), rec('a1'));
    writeFileSync(nth(10), rec('o1') + rec('o2'));
    writeFileSync(nth(11), rec('n1') + rec('n2', { level: 'debug' }) + rec('n3') + rec('n4'));
    // Not the log's: an older layout's file, other names.
    writeFileSync(join(logs, 'logos.jsonl'), rec('legacy'));
    writeFileSync(join(logs, 'logos.x.jsonl'), rec('other'));
    writeFileSync(join(logs, 'daemon.stderr'), 'noise\n');
    const got = await readRecentLog(logs, limit, { filters: [parseFilter('level!=debug')] });
    expect(msgs(got)).toEqual(want);
  });

  it('nothing from a missing or empty directory', async () => {
    expect(await readRecentLog(join(dir, 'nothing-here'), 10, sel)).toEqual([]);
    expect(await readRecentLog(logs, 10, sel)).toEqual([]);
  });

  it('with --since stops at records well before it, and keeps lines that are not JSON', async () => {
    writeFileSync(nth(1), rec('ancient', { ts: '2025-01-01T08:00:00Z' }));
    writeFileSync(nth(2), [rec('old', { ts: '2025-01-01T09:00:00Z' }), 'not json\n', rec('new', { ts: '2025-01-01T10:00:00Z' })].join(''));
    const { entries } = await readRecent(logs, { limit: Infinity, selection: { filters: [], since: Date.parse('2025-01-01T09:30:00Z') } });
    expect(entries.map((e) => e.line)).toEqual(['not json', rec('new', { ts: '2025-01-01T10:00:00Z' }).trimEnd()]);
  });

  it('marks where each file was read to; with completeLines, before a line still being written', async () => {
    writeFileSync(nth(1), 'a\n');
    writeFileSync(nth(2), 'b\nhalf-');
    const whole = await readRecent(logs, { limit: 10, selection: sel });
    expect(whole.entries.map((e) => e.line)).toEqual(['a', 'b', 'half-']);
    const complete = await readRecent(logs, { limit: 10, selection: sel, completeLines: true });
    expect(complete.entries.map((e) => e.line)).toEqual(['a', 'b']);
    expect(complete.mark.files.map((f) => [f.path, f.end])).toEqual([
      [nth(1), 2],
      [nth(2), 2],
    ]);
    expect((await markLogEnd(logs)).files.map((f) => f.end)).toEqual([2, 2]);
  });
});

describe('followLines', () => {
  function follow(extra: Partial<FollowOptions> = {}, at = logs) {
    const ac = new AbortController();
    const lines: string[] = [];
    let waits = 0;
    const done = (async () => {
      for await (const batch of followLines(at, { signal: ac.signal, pollMs: 20, onWait: () => waits++, ...extra })) lines.push(...batch);
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
    writeFileSync(nth(1), 'old\n');
    writeFileSync(nth(2), 'a\nb\nhalf-');
    const first = await readRecent(logs, { limit: 10, selection: { filters: [] }, completeLines: true });
    expect(first.entries.map((e) => e.line)).toEqual(['old', 'a', 'b']);
    const f = follow({ start: first.mark });
    appendFileSync(nth(2), 'written\nc\n');
    await waitFor(() => f.lines.includes('c'), 'c');
    await f.stop();
    expect(f.lines).toEqual(['half-written', 'c']);
  });

  it('waits for the first file (and its directory)', async () => {
    const later = join(dir, 'later');
    const f = follow({}, later);
    await waitFor(() => f.waits() >= 2, 'the follower to look for the log');
    mkdirSync(later);
    writeFileSync(join(later, 'logos.1.jsonl'), 'hello\n');
    await waitFor(() => f.lines.includes('hello'), 'hello');
    appendFileSync(join(later, 'logos.1.jsonl'), 'again\n');
    await waitFor(() => f.lines.includes('again'), 'again');
    await f.stop();
    expect(f.lines).toEqual(['hello', 'again']);
  });

  it('follows a new number from its start, and still reads what a slower writer adds to the one before', async () => {
    writeFileSync(nth(1), '');
    const f = follow();
    appendFileSync(nth(1), 'one\n');
    await waitFor(() => f.lines.includes('one'), 'one');
    writeFileSync(nth(2), 'two\n');
    await waitFor(() => f.lines.includes('two'), 'two');
    // A process that opened logos.1 before the roll writes there until it joins logos.2.
    appendFileSync(nth(1), 'late\n');
    appendFileSync(nth(2), 'three\n');
    await waitFor(() => f.lines.includes('three') && f.lines.includes('late'), 'three and late');
    await f.stop();
    expect(f.lines.slice(0, 2)).toEqual(['one', 'two']);
    expect(f.lines.slice(2).sort()).toEqual(['late', 'three']);
  });

  it('lets a removed file go, reads a re-created one from its start, and starts over after truncation in place', async () => {
    writeFileSync(file, 'one\n');
    const f = follow();
    await waitFor(() => f.lines.includes('one'), 'one');
    rmSync(file);
    await waitFor(() => f.waits() >= 1, 'the follower to notice the log is gone');
    writeFileSync(file, 'two and more\n');
    await waitFor(() => f.lines.includes('two and more'), 'two');
    // shorter than what was read: whatever order the follower sees it in, it starts over
    writeFileSync(file, 'x\n');
    await waitFor(() => f.lines.includes('x'), 'x');
    await f.stop();
    expect(f.lines).toEqual(['one', 'two and more', 'x']);
  });

  it('survives the directory removed and made again', async () => {
    writeFileSync(file, 'first\n');
    const f = follow();
    await waitFor(() => f.lines.includes('first'), 'first');
    rmSync(logs, { recursive: true });
    await waitFor(() => f.waits() >= 1, 'the follower to notice');
    mkdirSync(logs);
    writeFileSync(nth(1), 'second\n');
    await waitFor(() => f.lines.includes('second'), 'second');
    await f.stop();
    expect(f.lines).toEqual(['first', 'second']);
  });

  it('ends when the signal aborts, also while waiting for a missing directory', async () => {
    const f = follow({ pollMs: 60_000 }, join(dir, 'never'));
    await waitFor(() => f.waits() >= 1, 'the first look');
    await f.stop();
    expect(f.lines).toEqual([]);
  });
});
