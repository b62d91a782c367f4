import { LogosError } from './errors.js';
import type { PersonaSource } from './ports.js';

/**
 * Personas are system prompts shipped with Logos. `--persona NAME` picks one;
 * without --system or --persona, a task with tools gets DEFAULT_PERSONA (an agent
 * needs to know where it is and what its tools do); a plain chat gets none.
 */

export const DEFAULT_PERSONA = 'default';

export async function loadPersona(src: PersonaSource, name: string): Promise<string> {
  const names = await src.list();
  if (!names.includes(name)) {
    throw new LogosError('NOT_FOUND', `No persona named '${name.replace(/[\u0000-\u001f\u007f]/g, '?')}'.`, {
      hint: names.length > 0 ? `Personas: ${names.join(', ')}. Or give your own system prompt with --system TEXT.` : 'No personas are installed; give a system prompt with --system TEXT.',
      details: { personas: names },
    });
  }
  return src.read(name);
}
