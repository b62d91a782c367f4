import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeModelServer } from '../fakes/model-servers.js';
import { jsonLines, makeHome, waitFor, type Home } from '../helpers/logos.js';

/** `logos debug tail` through the real binary, against log files written here or by real commands. */

let home: Home;
let logFile: string;
/** The log file numbered n (logFile is the first). */
const nth = (n: number): string => join(dirname(logFile), `logos.${n}.jsonl`);
beforeEach(() => {
  home = makeHome({ TZ: 'UTC' });
  logFile = join(home.env.LOGOS_HOME as string, 'state', 'logs', 'logos.1.jsonl');
  mkdirSync(dirname(logFile), { recursive: true });
});
afterEach(() => home.cleanup());

const line = (msg: string, fields: Record<string, unknown> = {}): string =>
  `${JSON.stringify({ level: 'info', ts: '2025-01-01T10:00:00.000Z', pid: 1, source: 'cli', ...fields, msg })}\n`;
const msgs = (stdout: string): string[] => jsonLines(stdout).map((r) => r.msg as string);

describe('logos debug tail', () => {
  beforeEach(() => {
    writeFileSync(
      logFile,
      [
        line('d1', { level: 'debug', ts: '2025-01-01T10:00:00.001Z' }),
        line('i1', { ts: '2025-01-01T10:00:01.002Z', sandbox: 'work', route: 'r1', task_id: 't_1', latency_ms: 12 }),
        'plain text that is not JSON\n',
        line('w1', { level: 'warn', ts: '2025-01-01T10:00:02.003Z', sandbox: 'play', source: 'runner' }),
        line('e1', { level: 'error', ts: '2025-01-01T10:00:03.004Z', sandbox: 'work', err: { code: 'AUTH' } }),
      ].join(''),
    );
  });

  it('shows readable lines: time, level, source, message, correlation fields first; other lines as they are', async () => {
    const r = await home.run(['debug', 'tail']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        '10:00:00.001 DEBUG cli d1',
        '10:00:01.002 INFO  cli i1 task_id=t_1 sandbox=work route=r1 latency_ms=12',
        'plain text that is not JSON',
        '10:00:02.003 WARN  runner w1 sandbox=play',
        '10:00:03.004 ERROR cli e1 sandbox=work err={"code":"AUTH"}',
        '',
      ].join('\n'),
    );
  });

  it('--lines, --level, --filter and --since choose the records; --json prints them as JSON lines', async () => {
    const cases: Array<[string[], string[]]> = [
      [['--lines', '2'], ['w1', 'e1']],
      [['-n', '1', '--level', 'debug'], ['e1']],
      [['--level', 'warn'], ['w1', 'e1']],
      [['--filter', 'sandbox=work'], ['i1', 'e1']],
      [['--filter', 'sandbox!=work'], ['d1', 'w1']],
      [['--filter', 'sandbox=work', '--filter', 'level=error'], ['e1']],
      [['--filter', 'level!=debug', '--filter', 'source=cli'], ['i1', 'e1']],
      [['--filter', 'latency_ms=12'], ['i1']],
      [['--since', '2025-01-01T10:00:02Z'], ['w1', 'e1']],
      [['--since', '2025-01-01T10:00:02Z', '-n', '1'], ['e1']],
      [['--lines', '0'], []],
      // the lines that are not JSON are left out of --json
      [[], ['d1', 'i1', 'w1', 'e1']],
    ];
    for (const [args, want] of cases) {
      const r = await home.run(['debug', 'tail', '--json', ...args]);
      expect(r.code, args.join(' ')).toBe(0);
      expect(msgs(r.stdout), args.join(' ')).toEqual(want);
    }
  });

  it('--since takes a time ago', async () => {
    const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();
    writeFileSync(logFile, line('two hours ago', { ts: ago(2 * 3_600_000) }) + line('a minute ago', { ts: ago(60_000) }));
    expect(msgs((await home.run(['debug', 'tail', '--json', '--since', '30m'])).stdout)).toEqual(['a minute ago']);
    expect(msgs((await home.run(['debug', 'tail', '--json', '--since', '1d'])).stdout)).toEqual(['two hours ago', 'a minute ago']);
  });

  it('--raw prints the stored lines exactly; --color always colours the level, never and auto (not a terminal) do not', async () => {
    const raw = await home.run(['debug', 'tail', '--raw', '-n', '3']);
    // the last three lines of the file, byte for byte
    expect(raw.stdout).toBe(readFileSync(logFile, 'utf8').split('\n').slice(2).join('\n'));

    const always = await home.run(['debug', 'tail', '--color', 'always', '--level', 'warn']);
    expect(always.stdout).toBe('10:00:02.003 \u001b[33mWARN\u001b[39m  runner w1 sandbox=play\n10:00:03.004 \u001b[31mERROR\u001b[39m cli e1 sandbox=work err={"code":"AUTH"}\n');
    // NO_COLOR does not override an explicit --color always
    const noColorEnv = await home.run(['debug', 'tail', '--color', 'always', '-n', '1'], { env: { NO_COLOR: '1' } });
    expect(noColorEnv.stdout).toContain('\u001b[31mERROR');
    for (const args of [['--color', 'never'], ['--color', 'auto'], []]) {
      const r = await home.run(['debug', 'tail', ...args], { env: { NO_COLOR: '' } });
      expect(r.code).toBe(0);
      expect(r.stdout, args.join(' ')).toContain('ERROR cli e1');
      expect(r.stdout, args.join(' ')).not.toContain('\u001b');
    }
    // --raw and --json never colour
    expect((await home.run(['debug', 'tail', '--raw', '--color', 'always'])).stdout).not.toContain('\u001b');
  });

  it('continues into the file before (logos.1.jsonl) when the newest (logos.2.jsonl) has too few lines', async () => {
    writeFileSync(nth(2), line('new1') + line('new2'));
    expect(msgs((await home.run(['debug', 'tail', '--json', '-n', '4'])).stdout)).toEqual(['w1', 'e1', 'new1', 'new2']);
    expect(msgs((await home.run(['debug', 'tail', '--json', '-n', '2'])).stdout)).toEqual(['new1', 'new2']);
  });

  it('shows records that real commands wrote', async () => {
    rmSync(logFile);
    expect((await home.run(['route', 'add', 'openai/gpt-4o-mini', '--no-gateway'])).code).toBe(0);
    const r = await home.run(['debug', 'tail', '--filter', 'route=gpt-4o-mini']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}cli route added route=gpt-4o-mini provider=openai model=gpt-4o-mini /);
  });

  it('never prints a secret, even one that reached the log unmasked', async () => {
    const canary = 'sk-canary-TAIL-0123456789abcdefWXYZ';
    appendFileSync(logFile, line(`calling with OPENAI_API_KEY=${canary}`) + `curl -H "Authorization: Bearer ${canary}"\n`);
    for (const args of [[], ['--raw'], ['--json'], ['--color', 'always']]) {
      const r = await home.run(['debug', 'tail', ...args]);
      expect(r.code).toBe(0);
      expect(r.stdout, args.join(' ')).toContain('…WXYZ');
      expect(r.stdout + r.stderr, args.join(' ')).not.toContain(canary);
    }
  });

  it('rejects bad flag values with exit 2 and a hint', async () => {
    const cases: Array<[string[], string]> = [
      [['--level', 'loud'], 'trace, debug, info'],
      [['--since', 'yesterday'], '2h'],
      [['--since', '2025-13-45'], 'ISO'],
      [['--filter', 'sandbox'], 'key=value'],
      [['--filter', 'level=verbose'], 'trace, debug, info'],
      [['--color', 'sometimes'], 'always'],
      [['--lines', '-3'], '--lines'],
      [['--raw', '--json'], '--raw'],
    ];
    for (const [args, hint] of cases) {
      const j = await home.run(['debug', 'tail', ...args, '--json']);
      expect(j.code, args.join(' ')).toBe(2);
      const body = JSON.parse(j.stdout);
      expect(body.error.code, args.join(' ')).toBe('INVALID_ARGUMENT');
      expect(body.error.hint, args.join(' ')).toContain(hint);
    }
    const h = await home.run(['debug', 'tail', '--level', 'loud']);
    expect(h.code).toBe(2);
    expect(h.stdout).toBe('');
    expect(h.stderr).toContain("Unknown log level 'loud'");
    expect(h.stderr).toContain('Hint: Use one of trace, debug, info, warn, error, fatal.');
  });

  it('--help has examples', async () => {
    const h = await home.run(['debug', 'tail', '--help']);
    expect(h.code).toBe(0);
    for (const flag of ['--follow', '--filter', '--level', '--since', '--lines', '--raw', '--color', '--json', 'Examples:']) expect(h.stdout).toContain(flag);
  });
});

describe('logos debug tail --follow', () => {
  it('prints records appended later, keeps going across a rotation, and exits 0 on SIGTERM', async () => {
    writeFileSync(logFile, line('before'));
    const { child, done } = home.start(['debug', 'tail', '-f', '--json', '--filter', 'level!=debug']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('"before"'), 'the initial record');
    appendFileSync(logFile, line('hidden', { level: 'debug' }) + line('appended'));
    await waitFor(() => out.includes('"appended"'), 'the appended record');
    // rotation as pino-roll does it: the next number
    writeFileSync(nth(2), line('after rotation'));
    await waitFor(() => out.includes('"after rotation"'), 'the record in the new file');
    appendFileSync(nth(2), line('still following'));
    await waitFor(() => out.includes('"still following"'), 'a record appended to the new file');
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(msgs(r.stdout)).toEqual(['before', 'appended', 'after rotation', 'still following']);
  });

  it('waits while the log is missing and prints once it appears; exits 0 on SIGINT', async () => {
    writeFileSync(logFile, line('first'));
    const { child, done } = home.start(['debug', 'tail', '-f']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('first'), 'the initial record');
    rmSync(dirname(logFile), { recursive: true });
    // Long enough for several polls (250 ms) with no directory at all.
    await new Promise((r) => setTimeout(r, 1000));
    mkdirSync(dirname(logFile));
    writeFileSync(logFile, line('second', { sandbox: 'work' }));
    await waitFor(() => out.includes('second'), 'the record in the re-created file');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('10:00:00.000 INFO  cli first\n10:00:00.000 INFO  cli second sandbox=work\n');
  });
});

describe('logos debug tail into a closed pipe (| head -1)', () => {
  it('exits 0 quietly when the reader goes away mid-output', async () => {
    // far more than a pipe buffer holds, so the writes really hit the closed pipe
    writeFileSync(logFile, Array.from({ length: 4000 }, (_, i) => line(`record ${i}`, { pad: 'x'.repeat(100) })).join(''));
    const { child, done } = home.start(['debug', 'tail', '-n', '4000']);
    let chunks = 0;
    child.stdout?.once('data', () => {
      chunks++;
      child.stdout?.destroy();
    });
    const r = await done;
    expect(chunks).toBe(1);
    expect(r.code).toBe(0);
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
  });

  it('also when following: the next record after the reader left ends it with 0', async () => {
    writeFileSync(logFile, line('first'));
    const { child, done } = home.start(['debug', 'tail', '-f', '--raw']);
    child.stdout?.once('data', () => child.stdout?.destroy());
    let exited = false;
    void done.then(() => (exited = true));
    // keep the log growing until the tail notices its reader is gone
    for (let i = 0; !exited; i++) {
      appendFileSync(logFile, line(`more ${i}`));
      await new Promise((res) => setTimeout(res, 50));
    }
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
  });
});

describe('logos debug tail --sandbox', () => {
  let openai: FakeModelServer;
  beforeAll(async () => {
    openai = await startFakeOpenAI();
    openai.setScenario('plain');
  });
  afterAll(async () => {
    await openai.close();
  });

  it("merges the host's records about the sandbox with the worker log inside it, each line once", async () => {
    writeFileSync(logFile, line('about another sandbox', { sandbox: 'other' }));
    expect((await home.run(['route', 'add', 'custom/fake-model', '--endpoint', openai.url, '--name', 'fake', '--default'])).code).toBe(0);
    expect((await home.run(['sandbox', 'create', 'work'])).code).toBe(0);
    const run = await home.run(['run', '--json', '--sandbox', 'work', 'hello']);
    expect(run.code, run.stderr).toBe(0);
    const show = JSON.parse((await home.run(['sandbox', 'show', 'work', '--json'])).stdout) as { dir: string };
    const workerLog = join(show.dir, '.logos', 'worker.jsonl');
    const inside = readFileSync(workerLog, 'utf8').split('\n').filter(Boolean);
    expect(inside.length).toBeGreaterThan(0);
    // A line the host never saw (as when a run's relay hit its cap), written where the worker writes.
    appendFileSync(workerLog, `${JSON.stringify({ ts: new Date(Date.now() + 1000).toISOString(), level: 'warn', msg: 'only inside', task_id: 't_x' })}\n`);

    const r = await home.run(['debug', 'tail', '--sandbox', 'work', '--json', '-n', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const records = jsonLines(r.stdout);
    expect(records.every((x) => x.sandbox === 'work')).toBe(true);
    expect(records.map((x) => x.msg)).not.toContain('about another sandbox');
    // Host records of the run, the worker's relayed lines, and the line only the sandbox has, by time.
    expect(records.some((x) => x.source !== 'worker' && x.source !== 'sandbox')).toBe(true);
    expect(records.some((x) => x.source === 'worker')).toBe(true);
    expect(records.at(-1)).toMatchObject({ source: 'sandbox', level: 'warn', msg: 'only inside', task_id: 't_x' });
    // Every line of the worker log shows once: relayed (source worker) or read from the sandbox.
    for (const l of inside) {
      const w = JSON.parse(l) as { ts: string; msg: string };
      const seen = records.filter((x) => x.msg === w.msg && ((x.worker as { ts?: string } | undefined)?.ts === w.ts || x.ts === w.ts));
      expect(seen, w.msg).toHaveLength(1);
    }
    const times = records.map((x) => Date.parse(String((x.worker as { ts?: string } | undefined)?.ts ?? x.ts)));
    expect(times.filter((t, i) => i > 0 && t + 50 < (times[i - 1] as number))).toEqual([]);
  });

  it('an unknown sandbox is exit 3 (not found) with a hint', async () => {
    const r = await home.run(['debug', 'tail', '--sandbox', 'nope']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/nope/);
  });
});
