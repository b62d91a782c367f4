import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LogosError } from '../core/errors.js';
import { isObject } from '../core/records.js';
import { isSessionRecord, validateSessionName, type SessionRecord, type SessionStore } from '../core/sessions.js';
import { JsonFile } from './json-file.js';

/**
 * One JSON file per session under state/sessions/ (atomic, locked, checked on
 * load: a damaged file is moved aside and reported, never emptied). The file
 * holds `{version: 1, session}`; no file means no session.
 */

interface SessionDoc {
  version: 1;
  session?: SessionRecord;
}

export class FileSessionStore implements SessionStore {
  constructor(private readonly dir: string) {}

  private file(name: string): JsonFile<SessionDoc> {
    validateSessionName(name); // the name becomes a file name
    return new JsonFile<SessionDoc>(join(this.dir, `${name}.json`), {
      empty: () => ({ version: 1 }),
      validate: (v) => isObject(v) && v.version === 1 && (v.session === undefined || isSessionRecord(v.session, name)),
    });
  }

  async get(name: string): Promise<SessionRecord | undefined> {
    return (await this.file(name).read()).session;
  }

  async update(name: string, fn: (current: SessionRecord | undefined) => SessionRecord | undefined): Promise<SessionRecord | undefined> {
    return this.file(name).update((doc) => {
      const next = fn(doc.session);
      if (next !== undefined) doc.session = next;
      return doc.session;
    });
  }

  async remove(name: string): Promise<boolean> {
    return this.file(name).remove();
  }

  async list(): Promise<{ sessions: SessionRecord[]; damaged: Array<{ name: string; error: LogosError }> }> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sessions: [], damaged: [] };
      throw err;
    }
    const sessions: SessionRecord[] = [];
    const damaged: Array<{ name: string; error: LogosError }> = [];
    for (const n of names.sort()) {
      const m = /^([a-z0-9][a-z0-9-]*)\.json$/.exec(n);
      if (!m) continue;
      const name = m[1] as string;
      try {
        const s = await this.get(name);
        if (s) sessions.push(s);
      } catch (err) {
        if (err instanceof LogosError) damaged.push({ name, error: err });
        else throw err;
      }
    }
    return { sessions, damaged };
  }
}
