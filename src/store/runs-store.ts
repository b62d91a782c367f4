import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogosError } from '../core/errors.js';
import type { RunRecord, RunStore } from '../core/runs.js';
import { atomicWrite } from './json-file.js';

/** One JSON file per run under state/runs/: no contention between concurrent runs. */
export class FileRunStore implements RunStore {
  constructor(private readonly dir: string) {}

  private file(id: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) {
      throw new LogosError('INVALID_ARGUMENT', `Invalid run id '${id}'.`, { hint: 'Run ids look like t_0m3k2x9abc123; see `logos runs list`.' });
    }
    return join(this.dir, `${id}.json`);
  }

  async save(run: RunRecord): Promise<void> {
    await atomicWrite(this.file(run.id), `${JSON.stringify(run, null, 2)}\n`);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.file(id), 'utf8')) as RunRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (err instanceof SyntaxError) {
        throw new LogosError('STATE_CORRUPT', `The record of run ${id} is damaged.`, { hint: `Look at ${this.file(id)}.` });
      }
      throw err;
    }
  }

  /**
   * Newest first, `limit` at a time: `cursor` is the id the previous page ended
   * with (ids sort by time); `next` is the cursor of the page after this one.
   */
  async page(limit: number, cursor?: string): Promise<{ items: RunRecord[]; total: number; next?: string }> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => /^[A-Za-z0-9_-]+\.json$/.test(n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], total: 0 };
      throw err;
    }
    const ids = names.map((n) => n.slice(0, -5)).sort().reverse();
    const from = cursor ? ids.findIndex((id) => id < cursor) : 0;
    const slice = from === -1 ? [] : ids.slice(from, from + limit);
    const items: RunRecord[] = [];
    for (const id of slice) {
      const r = this.readListed(`${id}.json`);
      if (r) items.push(r);
    }
    const last = slice.at(-1);
    const more = from !== -1 && from + limit < ids.length;
    return { items, total: ids.length, ...(more && last ? { next: last } : {}) };
  }

  async list(limit: number): Promise<RunRecord[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // Ids sort by time (base36 timestamp prefix), newest first.
    names.sort().reverse();
    const out: RunRecord[] = [];
    for (const n of names.slice(0, limit)) {
      const r = this.readListed(n);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * One record of a listing, read synchronously: a listing reads up to a few hundred small
   * files (`status` the newest 200), ~30 microseconds each this way, against ~0.5 ms each through the
   * thread pool (open, stat, read, close: four round trips). A damaged or vanished record is
   * skipped in listings; `runs show` reports it.
   */
  private readListed(name: string): RunRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as RunRecord;
    } catch {
      return undefined;
    }
  }
}
