import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { has, screenWith, shellAround, TmuxSession } from '../helpers/tty.js';
import { buildTuiEntry } from '../helpers/tui-pty.js';

/**
 * The dashboard in a real terminal (tmux), with the in-memory source: a shell
 * prints a line, runs the dashboard, then prints how it ended — so after `q` the
 * screen must be the shell's again. Waits poll the screen (bounded), never a clock.
 */

let entry = '';
let home = '';
let session: TmuxSession | undefined;

beforeAll(async () => {
  entry = await buildTuiEntry();
  home = mkdtempSync(join(tmpdir(), 'logos-pty-home-'));
});
afterAll(() => {
  rmSync(join(entry, '..'), { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});
afterEach(() => {
  session?.close();
  session = undefined;
});

function open(size: { columns: number; rows: number }, args: string[] = [], env: NodeJS.ProcessEnv = {}): TmuxSession {
  // CI set, as on a CI machine: the dashboard still draws live (ink would otherwise wait for its exit).
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', CI: 'true', ...env };
  session = new TmuxSession(base, shellAround([process.execPath, entry, ...args]), size);
  return session;
}

async function expectShellBack(s: TmuxSession): Promise<void> {
  const screen = await screenWith(s, has('after: exit 0'), 'the shell after the dashboard');
  expect(screen).toContain('shell before');
  expect(screen).toContain('dashboard ended');
  // The dashboard was on the alternate screen: none of it is left on the shell's.
  expect(screen).not.toContain('Logos ·');
  expect(screen).not.toContain('t_0mx5cz1ab2c3d4e');
  expect(s.format('#{alternate_on}')).toBe('0');
  expect(s.format('#{cursor_flag}')).toBe('1');
}

describe('logos dashboard in a terminal', () => {
  it('120×40: panes, a filter, a task streaming to its result, a confirmation, and q gives the shell back', async () => {
    const s = open({ columns: 120, rows: 40 });
    let screen = await screenWith(s, has('Logos · daemon running', 't_0mx5cz1ab2c3d4e'), 'the dashboard');
    expect(s.format('#{alternate_on}')).toBe('1');
    for (const t of ['Gateways 2', 'Routes 3', 'Sandboxes 3', '▸ Runs 3', 'Log 50']) expect(screen).toContain(t);
    expect(screen).toMatch(/logos +✓ yes/);
    expect(screen).toMatch(/work +local +ready +qwen3 +1 running/);

    s.type('/notes');
    screen = await screenWith(s, has('▸ Runs 1/3'), 'the filtered runs');
    expect(screen).toContain('t_0mx5cy9zz8y7x6w');
    expect(screen).not.toContain('t_0mx5cz1ab2c3d4e');
    s.keys('Escape');
    await screenWith(s, has('▸ Runs 3'), 'the filter dropped');

    // Run a task in the sandbox `work`: it streams in the run view to its result.
    s.type(':sb');
    s.keys('Enter');
    await screenWith(s, has('▸ Sandboxes'), 'sandboxes');
    s.type('r');
    await screenWith(s, has('Task for work:'), 'the task prompt');
    s.type('make hello.py and run it');
    s.keys('Enter');
    await screenWith(s, has('Session (optional'), 'the session prompt');
    s.keys('Enter');
    screen = await screenWith(s, has('✓ done in 1.5s · 300 in / 40 out tokens · 3 steps'), 'the run to finish');
    expect(screen).toContain('Sandboxes › run t_new1 › frames');
    expect(screen).toContain('┊ Plan: write the script, then run it.');
    expect(screen).toContain('Writing hello.py now.');
    expect(screen).toMatch(/▹ write_file {2}hello\.py {2}✓ 3ms/);
    expect(screen).toMatch(/▹ shell {2}python3 hello\.py {2}✓ exit 0 · 38ms/);
    expect(screen).toContain('It printed 42.');
    s.keys('Tab', 'Tab', 'Enter');
    screen = await screenWith(s, has('▾ shell', '│ 42'), 'the shell call expanded');

    // Back to the sandboxes; deleting one asks first.
    s.keys('Escape');
    await screenWith(s, has('▸ Sandboxes'), 'sandboxes again');
    s.type('d');
    await screenWith(s, has('Delete sandbox work and its files? [y/N]'), 'the question');
    s.type('n');
    await screenWith(s, has('Nothing done.'), 'declined');

    s.type('q');
    await expectShellBack(s);
  });

  it('80×24: every pane, a filter narrowing the list, resize, and q gives the shell back', async () => {
    const s = open({ columns: 80, rows: 24 });
    let screen = await screenWith(s, has('▸ Runs 3', 't_0mx5cz1ab2c3d4e'), 'the dashboard');
    for (const t of ['Gateways 2  1 reachable', 'Routes 3  2 ready · 1 error', 'Sandboxes 3  1 task in flight', 'Log 50']) expect(screen).toContain(t);
    expect(screen.split('\n').every((l) => l.length <= 80)).toBe(true);
    s.type('/auth');
    screen = await screenWith(s, has('▸ Runs 1/3'), 'the filtered runs');
    expect(screen).toContain('t_0mx5cx1aa1b2c3d');
    expect(screen).not.toContain('t_0mx5cy9zz8y7x6w');
    s.keys('Enter');
    // Grow, then shrink back: laid out again each time.
    s.resize(120, 40);
    await screenWith(s, has('logos          ✓ yes'), 'the gateway rows at 120×40');
    s.resize(80, 24);
    screen = await screenWith(s, has('Gateways 2  1 reachable', '▸ Runs 1/3'), 'folded again at 80×24');
    expect(screen).not.toContain('logos          ✓ yes');
    s.type('q');
    await expectShellBack(s);
  });

  it('an exception outside React: the shell gets its screen back, then the error is printed on it', async () => {
    const s = open({ columns: 80, rows: 24 }, ['--crash']);
    const screen = await screenWith(s, has('after: exit 1'), 'the crash');
    expect(screen).toContain('shell before');
    expect(screen).toContain('Error: crash outside React');
    expect(screen).not.toContain('Logos ·');
    expect(s.format('#{alternate_on}')).toBe('0');
    expect(s.format('#{cursor_flag}')).toBe('1');
  });

  it('Ctrl-C gives the shell back too; NO_COLOR draws no colour', async () => {
    const s = open({ columns: 80, rows: 24 }, ['--readonly'], { NO_COLOR: '1' });
    await screenWith(s, has('read-only: actions hidden', 't_0mx5cz1ab2c3d4e'), 'the dashboard');
    expect(s.visible(true)).not.toMatch(/\u001b\[[0-9;]*m/);
    s.keys('C-c');
    await expectShellBack(s);
  });
});
