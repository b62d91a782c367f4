import { render } from 'ink-testing-library';
import { DashboardRoot } from '../../src/tui/root.js';
import type { RenderProbe } from '../../src/tui/components/table.js';
import type { StoreOptions } from '../../src/tui/store.js';
import type { FakeSource } from './fake-source.js';

/**
 * The dashboard under ink-testing-library, at a given terminal size (its fake
 * stdout is 100 columns with no rows; the size is set and a resize sent, as a
 * terminal would). Keys in, frames out; waits poll the frame, never a clock.
 */

export const KEY = {
  up: '\u001b[A',
  down: '\u001b[B',
  enter: '\r',
  esc: '\u001b',
  tab: '\t',
  shiftTab: '\u001b[Z',
  backspace: '\u007f',
  pageDown: '\u001b[6~',
  ctrlC: '\u0003',
} as const;

export interface Rendered {
  frame(): string;
  frames: string[];
  /** Type keys one at a time, waiting for the input to be read between them. */
  press(...keys: string[]): Promise<void>;
  type(text: string): Promise<void>;
  until(pred: (frame: string) => boolean, what: string): Promise<string>;
  resize(columns: number, rows: number): void;
  probe: RenderProbe;
  unmount(): void;
}

export async function renderDashboard(
  source: FakeSource,
  opts: { columns?: number; rows?: number; readonly?: boolean; color?: boolean; storeOptions?: StoreOptions } = {},
): Promise<Rendered> {
  const probe: RenderProbe = { rows: 0 };
  const r = render(<DashboardRoot source={source} readonly={opts.readonly ?? false} color={opts.color ?? false} probe={probe} storeOptions={{ flushMs: 20, tickMs: 0, ...opts.storeOptions }} />);
  const stdout = r.stdout as unknown as NodeJS.EventEmitter & { columns: number; rows: number };
  const resize = (columns: number, rows: number): void => {
    Object.defineProperty(stdout, 'columns', { value: columns, configurable: true });
    Object.defineProperty(stdout, 'rows', { value: rows, configurable: true });
    stdout.emit('resize');
  };
  resize(opts.columns ?? 120, opts.rows ?? 40);
  const frame = (): string => r.lastFrame() ?? '';
  const until = async (pred: (f: string) => boolean, what: string): Promise<string> => {
    // A deadline on the wall clock, generous: a loaded machine can stall a timer for seconds.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const f = frame();
      if (pred(f)) return f;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`timed out waiting for ${what}; the screen was:\n${frame()}`);
  };
  // Input is read once the app has mounted and drawn (ink attaches stdin in an effect).
  await until((f) => f.includes('Logos'), 'the first frame');
  // And the source's first snapshot on screen: a key pressed before would act on empty panes
  // (Enter on no run opens nothing), which is right for the dashboard and a lost key for a test.
  const first = source.initial;
  const count = (n: number): string => n.toLocaleString('en-US');
  if (first) await until((f) => plain(f).includes(`Gateways ${count(first.gateways.length)}`) && plain(f).includes(`Runs ${count(first.runs.length)}`), 'the first snapshot');
  // ink starts reading keys in an effect, which React may run some turns after the first frame
  // (its scheduler yields on a busy machine): a key written before that would be lost.
  const stdin = r.stdin as unknown as NodeJS.EventEmitter;
  for (const deadline = Date.now() + 30_000; stdin.listenerCount('readable') === 0 && Date.now() < deadline; ) await new Promise((res) => setTimeout(res, 5));
  if (stdin.listenerCount('readable') === 0) throw new Error('the dashboard never started reading keys');
  await new Promise((res) => setImmediate(res));
  const press = async (...keys: string[]): Promise<void> => {
    for (const k of keys) {
      r.stdin.write(k);
      // ink parses input on the next turn (a lone Esc waits one setImmediate for more bytes).
      await new Promise((res) => setImmediate(res));
      await new Promise((res) => setImmediate(res));
    }
  };
  return {
    frame,
    frames: r.frames,
    press,
    type: (text) => press(...[...text]),
    until,
    resize,
    probe,
    unmount: () => r.unmount(),
  };
}

/** The frame without colour codes. */
export function plain(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}
