import type { DataSource } from './model.js';
import { DashboardStore } from './store.js';

/**
 * Start the dashboard on a terminal and resolve when it ends (q, `:q`, Ctrl-C, the
 * abort signal), or reject with the error that crashed it — after the terminal is
 * back as it was: the alternate screen left, the cursor shown, raw mode off. The
 * caller prints the error; nothing here prints or exits.
 */

export interface RunDashboardOptions {
  source: DataSource;
  readonly: boolean;
  color: boolean;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Ends the dashboard (a signal the CLI received). */
  signal?: AbortSignal;
  /** After each frame ink writes (the bench counts renders). */
  onRender?: () => void;
  /** Route console output above the dashboard instead of through it (default true; off under a test runner that owns the console). */
  patchConsole?: boolean;
}

/**
 * ink decides once, when it loads, whether it runs in CI (a CI or CONTINUOUS_INTEGRATION
 * variable) and then draws nothing until it exits. The dashboard only starts on a terminal
 * (the command checks), where a live screen is what was asked for, so ink and the views that
 * use it load here, lazily, with those variables set aside; they are put back at once.
 */
async function loadInk(): Promise<[typeof import('ink'), typeof import('./root.js')]> {
  const names = ['CI', 'CONTINUOUS_INTEGRATION'] as const;
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  try {
    return await Promise.all([import('ink'), import('./root.js')]);
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

const ENTER_ALT_SCREEN = '\u001b[?1049h\u001b[H\u001b[2J';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';
const SHOW_CURSOR = '\u001b[?25h';

export async function runDashboard(opts: RunDashboardOptions): Promise<void> {
  const { stdout } = opts;
  const [{ render }, { DashboardRoot }] = await loadInk();
  let restored = false;
  // Also on a crash that never reaches React: Node runs exit listeners before it prints an
  // uncaught exception, so the error lands on the shell's screen (test/tui/dashboard-pty.test.ts).
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      stdout.write(LEAVE_ALT_SCREEN + SHOW_CURSOR);
    } catch {
      // the terminal is gone
    }
  };
  process.once('exit', restore);
  stdout.write(ENTER_ALT_SCREEN);
  const store = new DashboardStore(opts.source);
  let instance: ReturnType<typeof render> | undefined;
  const onAbort = (): void => instance?.unmount();
  try {
    instance = render(<DashboardRoot source={opts.source} readonly={opts.readonly} color={opts.color} store={store} />, {
      stdin: opts.stdin,
      stdout,
      stderr: opts.stderr,
      exitOnCtrlC: true,
      patchConsole: opts.patchConsole ?? true,
      // ink 6.8's incrementalRendering draws each frame one line lower than the last unless
      // the output fills the terminal (seen in tmux: the screen scrolls on every render), so
      // the standard renderer it is. ink writes only when the frame changed, and wraps each
      // write in synchronized output (DEC 2026), so terminals that support it show no tearing.
      incrementalRendering: false,
      ...(opts.onRender ? { onRender: opts.onRender } : {}),
    });
    if (opts.signal?.aborted) instance.unmount();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    await instance.waitUntilExit();
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    instance?.unmount();
    store.stop();
    restore();
    process.off('exit', restore);
  }
}
