import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogosError } from '../core/errors.js';
import type { PersonaSource } from '../core/ports.js';
import { personasDir } from './assets.js';

/** A persona file larger than this is refused (a system prompt, not a document). */
const MAX_PERSONA_BYTES = 64 * 1024;
const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The personas shipped in templates/personas/ (`<name>.md`). */
export class FilePersonas implements PersonaSource {
  constructor(private readonly dir: string = personasDir()) {}

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith('.md'))
      .map((n) => n.slice(0, -3))
      .filter((n) => NAME_RE.test(n))
      .sort();
  }

  async read(name: string): Promise<string> {
    if (!NAME_RE.test(name)) throw new LogosError('NOT_FOUND', `No persona named '${name}'.`);
    const file = join(this.dir, `${name}.md`);
    const buf = await readFile(file);
    if (buf.length > MAX_PERSONA_BYTES) {
      throw new LogosError('INVALID_ARGUMENT', `The persona file ${file} is larger than ${MAX_PERSONA_BYTES / 1024} KiB.`, { hint: 'Shorten it.' });
    }
    return buf.toString('utf8').trim();
  }
}
