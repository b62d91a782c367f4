import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLAN_FILE, readPlan, runSelector, samePrestart, selectorOf, writePlan, type Prestarted, type PrestartPlan } from '../../src/adapters/local/prestart.js';

describe('runSelector: which sandbox a `logos run` command line chooses', () => {
  it('agrees with the run command (selectorOf) for --sandbox, --route and neither, in every spelling', () => {
    expect(runSelector(['run', 'hello'])).toBe(selectorOf({}));
    expect(runSelector(['run', '--json', 'hello'])).toBe('default');
    expect(runSelector(['--json', 'run', 'hello'])).toBe('default');
    expect(runSelector(['run', '--sandbox', 'box', 'hi'])).toBe(selectorOf({ sandbox: 'box' }));
    expect(runSelector(['run', '-s', 'box', 'hi'])).toBe('sandbox:box');
    expect(runSelector(['run', '--sandbox=box', 'hi'])).toBe('sandbox:box');
    expect(runSelector(['run', '-r', 'fast', 'hi'])).toBe(selectorOf({ route: 'fast' }));
    expect(runSelector(['run', '--route=fast', 'hi'])).toBe('route:fast');
    // --sandbox wins over --route, as in pickSandbox.
    expect(runSelector(['run', '--route', 'fast', '--sandbox', 'box', 'hi'])).toBe(selectorOf({ sandbox: 'box', route: 'fast' }));
  });

  it('skips the values of other options and stops at --', () => {
    expect(runSelector(['run', '--system', '-s', 'hi'])).toBe('default');
    expect(runSelector(['run', '-t', '90s', '--attach', '-r', 'hi'])).toBe('default');
    expect(runSelector(['run', '--', '--sandbox', 'box'])).toBe('default');
  });

  it('gives nothing when no sandbox would start here or the line does not tell', () => {
    expect(runSelector(['runs', 'list'])).toBeUndefined();
    expect(runSelector(['status'])).toBeUndefined();
    expect(runSelector([])).toBeUndefined();
    expect(runSelector(['run', '--daemon', 'hi'])).toBeUndefined();
    expect(runSelector(['run', '--session', 'work', 'hi'])).toBeUndefined();
    expect(runSelector(['run', '--session=work', 'hi'])).toBeUndefined();
    expect(runSelector(['run', '--help'])).toBeUndefined();
  });
});

describe('the plan file', () => {
  let dir: string;
  const plan: PrestartPlan = { v: 1, selector: 'default', file: '/usr/bin/bwrap', args: ['--args', '3', '--', '/usr/bin/node', '/opt/logos/worker.mjs'], env: { PATH: '/usr/bin', LANG: 'C.UTF-8' }, fds: ['--unshare-all\0'] };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logos-prestart-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is written 0600 and read back; an unchanged plan is not written again', () => {
    writePlan(dir, plan);
    const file = join(dir, PLAN_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readPlan(file)).toEqual(plan);
    const before = statSync(file).ino;
    writePlan(dir, plan);
    expect(statSync(file).ino).toBe(before);
    writePlan(dir, { ...plan, selector: 'sandbox:x' });
    expect(statSync(file).ino).not.toBe(before);
    expect(readPlan(file)?.selector).toBe('sandbox:x');
  });

  it('is not read when others can write it, through a link, too large, or malformed', () => {
    const file = join(dir, PLAN_FILE);
    writePlan(dir, plan);
    chmodSync(file, 0o666);
    expect(readPlan(file)).toBeUndefined();
    chmodSync(file, 0o620);
    expect(readPlan(file)).toBeUndefined();
    chmodSync(file, 0o600);
    expect(readPlan(file)).toBeDefined();

    const real = join(dir, 'real.json');
    writeFileSync(real, readFileSync(file), { mode: 0o600 });
    const link = join(dir, 'link.json');
    symlinkSync(real, link);
    expect(readPlan(real)).toBeDefined();
    expect(readPlan(link)).toBeUndefined();

    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(readPlan(fifo)).toBeUndefined(); // and it returns: nothing waits on the FIFO

    const big = join(dir, 'big.json');
    writeFileSync(big, JSON.stringify({ ...plan, fds: ['x'.repeat(70_000)] }), { mode: 0o600 });
    expect(readPlan(big)).toBeUndefined();

    for (const bad of [{ ...plan, v: 2 }, { ...plan, file: 'bwrap' }, { ...plan, args: [1] }, { ...plan, env: { A: 1 } }, { ...plan, fds: 'x' }, null, '[]']) {
      writeFileSync(file, typeof bad === 'string' ? bad : JSON.stringify(bad), { mode: 0o600 });
      expect(readPlan(file)).toBeUndefined();
    }
    expect(readPlan(join(dir, 'missing.json'))).toBeUndefined();
  });
});

describe('samePrestart', () => {
  const pre = {
    child: { pid: 4242, exitCode: null, signalCode: null },
    file: '/usr/bin/bwrap',
    args: ['--args', '3'],
    env: { PATH: '/usr/bin', LOGOS_SPAWNED_BY: '1:2:abc' },
    fds: ['--unshare-all\0--bind\0/w\0/sandbox\0', 'root:x:0:0\n'],
  } as unknown as Prestarted;
  const want = { file: '/usr/bin/bwrap', args: ['--args', '3'], env: { PATH: '/usr/bin', LOGOS_SPAWNED_BY: '1:2:abc' }, fds: ['--unshare-all\0--bind\0/w\0/sandbox\0', 'root:x:0:0\n'] };

  it('takes only the very same start: program, arguments, environment, option data, and a child still running', () => {
    expect(samePrestart(pre, want)).toBe(true);
    expect(samePrestart(pre, { ...want, file: '/usr/local/bin/bwrap' })).toBe(false);
    expect(samePrestart(pre, { ...want, args: ['--args', '3', 'x'] })).toBe(false);
    expect(samePrestart(pre, { ...want, env: { PATH: '/usr/bin' } })).toBe(false);
    expect(samePrestart(pre, { ...want, env: { ...want.env, LANG: 'C' } })).toBe(false);
    expect(samePrestart(pre, { ...want, env: { PATH: '/bin', LOGOS_SPAWNED_BY: '1:2:abc' } })).toBe(false);
    expect(samePrestart(pre, { ...want, fds: ['--unshare-all\0--bind\0/other\0/sandbox\0', 'root:x:0:0\n'] })).toBe(false);
    expect(samePrestart(pre, { ...want, fds: [want.fds[0] as string] })).toBe(false);
    expect(samePrestart({ ...pre, child: { pid: 4242, exitCode: 1, signalCode: null } } as unknown as Prestarted, want)).toBe(false);
    expect(samePrestart({ ...pre, child: { pid: undefined, exitCode: null, signalCode: null } } as unknown as Prestarted, want)).toBe(false);
  });
});
