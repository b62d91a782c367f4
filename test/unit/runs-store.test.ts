import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/runs.js';
import { FileRunStore } from '../../src/store/runs-store.js';

const record = (i: number): RunRecord => ({
  id: `t_0m${String(i).padStart(4, '0')}abcdef`,
  sandbox: 's',
  route: 'r',
  provider: 'custom',
  model: 'm',
  driver: 'local',
  status: 'ok',
  started_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  prompt_preview: `task ${i}`,
  host_pid: 1,
});

describe('FileRunStore listings', () => {
  let dir: string;
  let store: FileRunStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'logos-runs-'));
    store = new FileRunStore(dir);
    for (let i = 0; i < 120; i++) await store.save(record(i));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the newest first, as many as asked (over several turns of the event loop), skipping a damaged record', async () => {
    writeFileSync(join(dir, `${record(110).id}.json`), '{"id": "t_0m0110abcdef", "sta');
    // Which turn of the event loop each record was read in.
    let turn = 0;
    let counting = true;
    const tick = (): void => {
      turn++;
      if (counting) setImmediate(tick);
    };
    const readTurns: number[] = [];
    store = new FileRunStore(dir, (path) => {
      readTurns.push(turn);
      return readFileSync(path, 'utf8');
    });
    setImmediate(tick);
    const list = await store.list(100);
    counting = false;
    expect(list.map((r) => r.prompt_preview)).toEqual(
      Array.from({ length: 100 }, (_, k) => 119 - k)
        .filter((i) => i !== 110)
        .map((i) => `task ${i}`),
    );
    // The event loop ran between batches of records (the daemon keeps answering meanwhile),
    // and not between every two (each read through the thread pool cost four round trips).
    expect(readTurns).toHaveLength(100);
    const batches = new Set(readTurns).size;
    expect(batches).toBeGreaterThanOrEqual(4);
    expect(batches).toBeLessThanOrEqual(10);
    await expect(store.get(record(110).id)).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('pages newest first with a cursor, every record once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await store.page(50, cursor);
      expect(page.total).toBe(120);
      seen.push(...page.items.map((r) => r.id));
      if (!page.next) break;
      cursor = page.next;
    }
    expect(seen).toEqual(Array.from({ length: 120 }, (_, k) => record(119 - k).id));
  });
});
