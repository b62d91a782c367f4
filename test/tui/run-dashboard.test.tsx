import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDashboard } from '../../src/tui/run.js';
import { FakeSource } from '../helpers/fake-source.js';
import { FakeTtyIn, FakeTtyOut } from '../helpers/fake-tty.js';

/** The terminal is given back as it was however the dashboard ends: q, Ctrl-C, a signal, or a crash while drawing. */

const ALT_ON = '\u001b[?1049h';
const ALT_OFF = '\u001b[?1049l';
const CURSOR_ON = '\u001b[?25h';

function start(source = new FakeSource()) {
  const stdout = new FakeTtyOut();
  const stdin = new FakeTtyIn();
  const controller = new AbortController();
  const done = runDashboard({
    source,
    readonly: false,
    color: false,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new FakeTtyOut() as unknown as NodeJS.WriteStream,
    signal: controller.signal,
    // vitest owns the console; ink's console patch cannot wrap it.
    patchConsole: false,
  });
  return { stdout, stdin, controller, done, source };
}

async function drawn(out: FakeTtyOut, text: string): Promise<void> {
  // A deadline on the wall clock, generous: loading ink on a loaded machine can take seconds.
  for (const deadline = Date.now() + 30_000; !out.written.includes(text) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
  expect(out.written).toContain(text);
}

/** The dashboard reads keys once ink's input effect has run (possibly some turns after the first frame). */
async function reading(stdin: FakeTtyIn): Promise<void> {
  for (const deadline = Date.now() + 30_000; stdin.listenerCount('readable') === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
  expect(stdin.listenerCount('readable')).toBeGreaterThan(0);
}

function expectRestored(t: ReturnType<typeof start>): void {
  expect(t.stdout.written.startsWith(ALT_ON)).toBe(true);
  expect(t.stdout.written.endsWith(ALT_OFF + CURSOR_ON)).toBe(true);
  expect(t.stdin.rawMode).toBe(false);
  expect(t.source.subscribers).toBe(0);
}

describe('runDashboard', () => {
  // As on a CI machine, or a shell that exports CI: ink would then draw only when it exits.
  // The dashboard runs only on a terminal, so it draws live anyway (ink loads inside runDashboard).
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.CI;
    process.env.CI = 'true';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it('draws live even with CI set, and leaves CI as it found it', async () => {
    const t = start();
    await drawn(t.stdout, 't_0mx5cz1ab2c3d4e');
    expect(process.env.CI).toBe('true');
    t.controller.abort();
    await t.done;
    expectRestored(t);
  });

  it('q: leaves the alternate screen, shows the cursor, raw mode off', async () => {
    const t = start();
    await drawn(t.stdout, 't_0mx5cz1ab2c3d4e');
    await reading(t.stdin);
    expect(t.stdin.rawMode).toBe(true);
    t.stdin.write('q');
    await t.done;
    expectRestored(t);
  });

  it('Ctrl-C ends it the same way', async () => {
    const t = start();
    await drawn(t.stdout, 't_0mx5cz1ab2c3d4e');
    await reading(t.stdin);
    t.stdin.write('\u0003');
    await t.done;
    expectRestored(t);
  });

  it('a signal (the abort) ends it the same way', async () => {
    const t = start();
    await drawn(t.stdout, 't_0mx5cz1ab2c3d4e');
    t.controller.abort();
    await t.done;
    expectRestored(t);
  });

  it('a crash while drawing: the terminal is restored, then the error is handed to the caller', async () => {
    const source = new FakeSource();
    let reads = 0;
    Object.defineProperty(source, 'mode', {
      get() {
        reads += 1;
        if (reads > 1) throw new Error('boom while drawing');
        return 'daemon';
      },
    });
    const t = start(source);
    await expect(t.done).rejects.toThrow('boom while drawing');
    expectRestored(t);
    // ink's own error screen (source excerpt, stack) was never drawn.
    expect(t.stdout.written).not.toContain('boom while drawing');
  });
});
