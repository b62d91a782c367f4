import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, waitFor, type Home } from './logos.js';

/** The real CLI on a terminal: `script` gives it a pseudo-terminal for stdin, stdout and stderr. */

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface TtyResult {
  code: number | null;
  /** Everything the terminal showed (stdout and stderr together), with \r\n made \n. */
  screen: string;
}

export function runInTty(home: Home, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TtyResult> {
  const cmd = [process.execPath, BIN, ...args].map(sh).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...home.env, TERM: 'xterm', COLUMNS: '120', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen: out.replace(/\r\n/g, '\n') })));
}

/**
 * A program in a detached tmux session on its own server (socket), driven by keys
 * and read from the screen. The program is the pane's process itself (no shell in
 * between), and the pane stays after it exits so its exit status can be read.
 */
export class TmuxSession {
  private readonly dir = mkdtempSync(join(tmpdir(), 'logos-tmux-'));
  private readonly socket = `logos-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    argv: string[],
    size: { columns: number; rows: number } = { columns: 150, rows: 50 },
  ) {
    const conf = join(this.dir, 'tmux.conf');
    writeFileSync(conf, 'set -g remain-on-exit on\nset -g history-limit 5000\n');
    this.tmux(['-f', conf, 'new-session', '-d', '-s', 'main', '-x', String(size.columns), '-y', String(size.rows), ...argv]);
  }

  /** What the terminal shows now (no scrollback); with `escapes`, colours and attributes as SGR codes. */
  visible(escapes = false): string {
    return this.tmux(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'main']);
  }

  /** A tmux format for the pane, e.g. `#{alternate_on}` (1 while the program uses the alternate screen). */
  format(fmt: string): string {
    return this.tmux(['display-message', '-p', '-t', 'main', fmt]).trim();
  }

  resize(columns: number, rows: number): void {
    this.tmux(['resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)]);
  }

  private tmux(args: string[]): string {
    const env: NodeJS.ProcessEnv = { ...this.env, TERM: 'xterm' };
    delete env.TMUX;
    return execFileSync('tmux', ['-L', this.socket, ...args], { env, encoding: 'utf8' });
  }

  /** The whole screen and scrollback, wrapped lines joined. */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-t', 'main', '-S', '-5000']);
  }

  type(text: string): void {
    this.tmux(['send-keys', '-t', 'main', '-l', text]);
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /** undefined while the program runs; its exit status once it ended. */
  exitStatus(): number | undefined {
    const [dead, status] = this.tmux(['display-message', '-p', '-t', 'main', '#{pane_dead}:#{pane_dead_status}']).trim().split(':');
    return dead === '1' ? Number(status) : undefined;
  }

  close(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function logosArgv(args: string[]): string[] {
  return [process.execPath, BIN, ...args];
}

/**
 * A shell around a program in a tmux pane: it prints a line, runs the program, then prints how
 * it ended and stays (tmux redraws a pane whose program died, which would hide what it shows).
 * After the program, the screen must be the shell's again.
 */
export function shellAround(argv: string[]): string[] {
  return ['sh', '-c', `printf 'shell before\\n'; ${argv.map(sh).join(' ')}; printf 'after: exit %s\\n' "$?"; exec sleep 600`];
}

/** Wait until the screen satisfies `pred` (bounded); on timeout the error shows the screen. */
export async function screenWith(s: TmuxSession, pred: (screen: string) => boolean, what: string, limitMs?: number): Promise<string> {
  let last = '';
  try {
    return await waitFor(
      () => {
        last = s.visible();
        return pred(last) ? last : undefined;
      },
      what,
      limitMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; the screen was:\n${last}`);
  }
}

/** A screen predicate: every text is on it. */
export const has =
  (...texts: string[]) =>
  (screen: string): boolean =>
    texts.every((t) => screen.includes(t));
