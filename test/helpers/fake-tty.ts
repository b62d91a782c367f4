import { EventEmitter } from 'node:events';

/** A terminal in memory for code that takes stdin/stdout streams (ink): it records what is written and takes keys. */

export class FakeTtyOut extends EventEmitter {
  isTTY = true;
  columns = 80;
  rows = 24;
  written = '';
  write = (s: string | Uint8Array): boolean => {
    this.written += typeof s === 'string' ? s : Buffer.from(s).toString('utf8');
    return true;
  };
}

export class FakeTtyIn extends EventEmitter {
  isTTY = true;
  rawMode = false;
  private data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setRawMode(on: boolean): void {
    this.rawMode = on;
  }
  setEncoding(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}
