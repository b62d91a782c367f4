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
      try {
        out.push(JSON.parse(await readFile(join(this.dir, n), 'utf8')) as RunRecord);
      } catch {
        // a damaged record is skipped in listings; `runs show` reports it
      }
    }
    return out;
  }
}
