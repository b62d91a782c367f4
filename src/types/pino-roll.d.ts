/** pino-roll ships no types: the part of its API Logos uses (pino-roll 4). */
declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events';

  interface RollStream extends EventEmitter {
    /** The file written now. */
    readonly file: string;
    write(data: string): boolean;
    flushSync(): void;
    end(): void;
  }

  interface PinoRollOptions {
    file: string;
    size?: string | number;
    frequency?: string | number;
    extension?: string;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    symlink?: boolean;
    mkdir?: boolean;
    sync?: boolean;
    mode?: number;
  }

  export default function pinoRoll(opts: PinoRollOptions): Promise<RollStream>;
}
