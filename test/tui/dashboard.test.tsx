import chalk from 'chalk';
import { afterEach, describe, expect, it } from 'vitest';
import { agentFrames, FakeSource, fixtureSnapshot, logRecord, manyRuns, resultFrame, RUNS, SANDBOXES } from '../helpers/fake-source.js';
import { KEY, plain, renderDashboard, type Rendered } from '../helpers/ink.js';

/** The dashboard against an in-memory data source: keys in, frames out. */

let open: Rendered | undefined;
afterEach(() => {
  open?.unmount();
  open = undefined;
});

async function dash(source = new FakeSource(), opts: Parameters<typeof renderDashboard>[1] = {}): Promise<Rendered> {
  open = await renderDashboard(source, opts);
  return open;
}

const lines = (f: string): string[] => f.split('\n');

describe('the panes', () => {
  it('shows all five panes, the daemon state and the keys at 120×40', async () => {
    const r = await dash(new FakeSource(), { columns: 120, rows: 40 });
    const f = await r.until((x) => x.includes('t_0mx5cz1ab2c3d4e'), 'the runs');
    expect(f).toContain('Logos · daemon running · v0.1.0 · up 3m');
    for (const title of ['Gateways 2', 'Routes 3', 'Sandboxes 3', '▸ Runs 3', 'Log 0']) expect(f).toContain(title);
    // Rows of the panes that are not focused are on screen too at this size.
    expect(f).toMatch(/logos +✓ yes +0\.0\.111 \(0\.0\.x\) +2/);
    expect(f).toMatch(/claude +anthropic\/claude-sonnet-4-5 +error +HTTP_401/);
    expect(f).toMatch(/work +local +ready +qwen3 +1 running/);
    expect(f).toMatch(/t_0mx5cy9zz8y7x6w +notes +ok +3\.2s +412\/96 +3 /);
    expect(f).toMatch(/t_0mx5cx1aa1b2c3d +gpt-4o-mini +AUTH/);
    expect(lines(f).at(-1)).toContain('⏎ open  x cancel  Tab pane  / filter  : command  ? help  q quit');
    expect(lines(f).length).toBeLessThanOrEqual(39);
    for (const l of lines(f)) expect(l.length).toBeLessThanOrEqual(120);
  });

  it('fits 80×24: every pane keeps its title line (with a summary), the focused one its rows', async () => {
    const r = await dash(new FakeSource(), { columns: 80, rows: 24 });
    const f = await r.until((x) => x.includes('t_0mx5cz1ab2c3d4e'), 'the runs');
    expect(f).toContain('Gateways 2  1 reachable');
    expect(f).toContain('Routes 3  2 ready · 1 error');
    expect(f).toContain('Sandboxes 3  1 task in flight');
    expect(f).toContain('▸ Runs 3');
    expect(f).toContain('Log 0');
    expect(lines(f).length).toBeLessThanOrEqual(23);
    for (const l of lines(f)) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('follows a resize from 120×40 down to 80×24', async () => {
    const r = await dash(new FakeSource(), { columns: 120, rows: 40 });
    await r.until((x) => x.includes('logos          ✓ yes'), 'gateway rows');
    r.resize(80, 24);
    const f = await r.until((x) => x.includes('Gateways 2  1 reachable'), 'the folded panes');
    expect(lines(f).length).toBeLessThanOrEqual(23);
    for (const l of lines(f)) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('says when there is no daemon and it reads the files', async () => {
    const r = await dash(new FakeSource('files', fixtureSnapshot({ daemon: { running: false } })));
    await r.until((x) => x.includes('no daemon: reading files, updated every second'), 'the files notice');
  });

  it('Tab cycles the panes and the footer shows the keys of the focused one', async () => {
    const r = await dash();
    await r.until((x) => x.includes('▸ Runs'), 'runs focused');
    await r.press(KEY.tab);
    let f = await r.until((x) => x.includes('▸ Log'), 'log focused');
    expect(lines(f).at(-1)).toMatch(/^G follow/);
    await r.press(KEY.tab);
    f = await r.until((x) => x.includes('▸ Gateways'), 'gateways focused');
    expect(lines(f).at(-1)).toMatch(/^u up {2}d down/);
    await r.press(KEY.tab);
    f = await r.until((x) => x.includes('▸ Routes'), 'routes focused');
    expect(lines(f).at(-1)).toMatch(/^s sync {2}d remove {2}p refresh providers/);
    await r.press(KEY.shiftTab);
    await r.until((x) => x.includes('▸ Gateways'), 'back to gateways');
  });

  it('`:` switches panes, refuses an unknown command with a hint, and :q quits', async () => {
    const source = new FakeSource();
    const r = await dash(source);
    await r.until((x) => x.includes('▸ Runs'), 'runs focused');
    await r.type(':sandboxes');
    await r.until((x) => x.includes(':sandboxes▏'), 'the command line');
    await r.press(KEY.enter);
    await r.until((x) => x.includes('▸ Sandboxes') && x.split('\n')[1] === 'Sandboxes', 'sandboxes focused');
    await r.type(':logs');
    await r.press(KEY.enter);
    await r.until((x) => x.includes('▸ Log'), 'log focused');
    await r.type(':runs');
    await r.press(KEY.enter);
    await r.until((x) => x.includes('▸ Runs'), 'runs focused again');
    await r.type(':nope');
    await r.press(KEY.enter);
    const f = await r.until((x) => x.includes('✗ USAGE: Unknown command :nope.'), 'the error');
    expect(f).toContain('hint: Try :gateways, :routes, :sandboxes, :runs, :logs, :help or :q.');
    expect(source.subscribers).toBe(1);
    await r.type(':q');
    await r.press(KEY.enter);
    await r.until(() => source.subscribers === 0, 'the dashboard to end');
  });

  it('q quits', async () => {
    const source = new FakeSource();
    const r = await dash(source);
    await r.until((x) => x.includes('▸ Runs'), 'runs');
    await r.press('q');
    await r.until(() => source.subscribers === 0, 'the dashboard to end');
  });

  it('? shows every key, Esc closes it', async () => {
    const r = await dash(new FakeSource(), { columns: 80, rows: 24 });
    await r.press('?');
    const f = await r.until((x) => x.includes('Keys'), 'the help');
    expect(f).toContain('Sandboxes ⏎ runs · r run task · n new · d delete');
    expect(f).toContain('A run     Tab next tool · ⏎ expand · x cancel · Esc back');
    expect(f).toContain(':gateways :routes :sandboxes :runs :logs :help :q');
    await r.press(KEY.esc);
    await r.until((x) => x.includes('▸ Runs'), 'back to the panes');
  });
});

describe('/ filter', () => {
  it('narrows the list as you type; Esc clears it', async () => {
    const r = await dash();
    await r.until((x) => x.includes('t_0mx5cx1aa1b2c3d'), 'the runs');
    await r.type('/notes');
    let f = await r.until((x) => x.includes('▸ Runs 1/3'), 'one run left');
    expect(f).toContain('t_0mx5cy9zz8y7x6w');
    expect(f).not.toContain('t_0mx5cz1ab2c3d4e');
    expect(f).not.toContain('t_0mx5cx1aa1b2c3d');
    await r.press(KEY.enter);
    f = await r.until((x) => x.includes('  /notes'), 'the kept filter in the title');
    await r.press(KEY.esc);
    f = await r.until((x) => x.includes('▸ Runs 3'), 'all runs again');
    expect(f).toContain('t_0mx5cx1aa1b2c3d');
  });

  it('filters the log by level, source and words', async () => {
    const source = new FakeSource();
    source.logs = Array.from({ length: 120 }, (_, i) => logRecord(i));
    const r = await dash(source);
    await r.press(KEY.tab);
    await r.until((x) => x.includes('▸ Log 120'), 'the log');
    await r.type('/level:warn');
    let f = await r.until((x) => x.includes('▸ Log 3/120'), 'the warnings');
    expect(f).toMatch(/WARN|warn/);
    expect(f).toContain('record 100');
    expect(f).not.toContain('record 99 ');
    await r.press(KEY.enter, KEY.esc);
    await r.type('/source:daemon sandbox:notes');
    f = await r.until((x) => x.includes('▸ Log 20/120'), 'daemon records of notes');
    expect(f).toContain('record 99');
  });
});

describe('actions', () => {
  it('a destructive action asks first and calls the source only after y', async () => {
    const source = new FakeSource();
    const r = await dash(source);
    await r.type(':sb');
    await r.press(KEY.enter, 'j');
    await r.until((x) => /› notes/.test(x), 'notes selected');
    await r.press('d');
    await r.until((x) => x.includes('Delete sandbox notes and its files? [y/N]'), 'the question');
    expect(source.mutations()).toEqual([]);
    await r.press('n');
    await r.until((x) => x.includes('Nothing done.'), 'declined');
    expect(source.mutations()).toEqual([]);
    await r.press('d');
    await r.until((x) => x.includes('[y/N]'), 'the question again');
    await r.press('y');
    await r.until((x) => x.includes('✓ Sandbox notes deleted'), 'done');
    expect(source.mutations()).toEqual([{ method: 'deleteSandbox', args: ['notes'] }]);
  });

  it('shows the reason code, message and hint of a failed action', async () => {
    const source = new FakeSource();
    source.failures.set('syncRoute', { code: 'GATEWAY_UNREACHABLE', message: 'Gateway logos did not answer.', hint: 'logos gateway status logos' });
    const r = await dash(source);
    await r.type(':routes');
    await r.press(KEY.enter, 'j', 's');
    const f = await r.until((x) => x.includes('✗ GATEWAY_UNREACHABLE: Gateway logos did not answer.'), 'the error');
    expect(f).toContain('hint: logos gateway status logos');
    expect(source.mutations()).toEqual([{ method: 'syncRoute', args: ['gpt-4o-mini'] }]);
    await r.press(KEY.esc);
    await r.until((x) => !x.includes('GATEWAY_UNREACHABLE'), 'the error dismissed');
  });

  it('runs a task in the selected sandbox (with a session) and opens it', async () => {
    const source = new FakeSource();
    const r = await dash(source);
    await r.type(':sandboxes');
    await r.press(KEY.enter, 'r');
    await r.until((x) => x.includes('Task for work: ▏'), 'the task prompt');
    await r.type('fix the tests');
    await r.press(KEY.enter);
    await r.until((x) => x.includes('Session (optional, Enter to skip): ▏'), 'the session prompt');
    await r.type('review');
    await r.press(KEY.enter);
    const f = await r.until((x) => x.includes('run t_new1 › frames'), 'the run view');
    expect(f).toContain('✓ Run started in work');
    expect(source.mutations()).toEqual([{ method: 'startRun', args: [{ sandbox: 'work', message: 'fix the tests', session: 'review' }] }]);
    await r.until(() => source.calls.some((c) => c.method === 'runFrames' && c.args[0] === 't_new1'), 'its frames fetched');
  });

  it('creates a sandbox on the default route, and refreshes providers, gateway up/down (down asks)', async () => {
    const source = new FakeSource();
    const r = await dash(source);
    await r.type(':sb');
    await r.press(KEY.enter, 'n');
    await r.until((x) => x.includes('New sandbox name: ▏'), 'the name prompt');
    await r.type('scratch');
    await r.press(KEY.enter);
    await r.until((x) => x.includes('Route: qwen3▏'), 'the route, the default filled in');
    await r.press(KEY.enter);
    await r.until((x) => x.includes('✓ Sandbox scratch created'), 'created');
    await r.type(':routes');
    await r.press(KEY.enter, 'p');
    await r.until((x) => x.includes('✓ Provider status refreshed'), 'refreshed');
    await r.type(':gw');
    await r.press(KEY.enter, 'u');
    await r.until((x) => x.includes('✓ Gateway logos is up'), 'up');
    await r.press('d');
    await r.until((x) => x.includes('Stop gateway logos and remove its container? [y/N]'), 'asked');
    await r.press('y');
    await r.until((x) => x.includes('✓ Gateway logos is down'), 'down');
    expect(source.mutations()).toEqual([
      { method: 'createSandbox', args: ['scratch', 'qwen3'] },
      { method: 'refreshProviders', args: [] },
      { method: 'gatewayUp', args: ['logos'] },
      { method: 'gatewayDown', args: ['logos'] },
    ]);
  });

  it('--readonly hides every action, says so, and never calls the source', async () => {
    const source = new FakeSource();
    source.frames.set(RUNS[0]?.id as string, agentFrames(RUNS[0]?.id as string));
    const r = await dash(source, { readonly: true });
    let f = await r.until((x) => x.includes('t_0mx5cz1ab2c3d4e'), 'the runs');
    expect(f.split('\n')[0]).toContain('read-only');
    expect(lines(f).at(-1)).toBe('⏎ open  Tab pane  / filter  : command  ? help  q quit  read-only: actions hidden');
    await r.press('x');
    await r.until((x) => x.includes('Read-only: actions are off'), 'the note');
    for (const [cmd, title, keys] of [
      [':gw', '▸ Gateways', ['u', 'd']],
      [':routes', '▸ Routes', ['s', 'd', 'p']],
      [':sb', '▸ Sandboxes', ['r', 'n', 'd']],
    ] as const) {
      await r.type(cmd);
      await r.press(KEY.enter);
      f = await r.until((x) => x.includes(title), title);
      for (const k of keys) {
        await r.press(k);
        // Each is refused with the same note (never a question, a form or a call).
        f = await r.until((x) => x.includes('Read-only: actions are off'), `${title}: ${k} refused`);
        expect(f).not.toContain('[y/N]');
        await r.press(KEY.esc);
        await r.until((x) => !x.includes('Read-only: actions are off'), 'the note gone');
      }
    }
    expect(lines(f).at(-1)).toBe('⏎ runs  Tab pane  / filter  : command  ? help  q quit  read-only: actions hidden');
    // The run view too.
    await r.type(':runs');
    await r.press(KEY.enter, KEY.enter);
    f = await r.until((x) => x.includes('I will write the script.'), 'the run view');
    expect(lines(f).at(-1)).toBe('Tab next tool  ⏎ expand  Esc back  / filter  : command  ? help  q quit  read-only: actions hidden');
    await r.press('x');
    await r.press('?');
    f = await r.until((x) => x.includes('read-only: the actions that change things are hidden'), 'the help says so');
    expect(f).not.toContain('delete');
    expect(f).not.toContain('run task');
    expect(source.mutations()).toEqual([]);
  });
});

describe('the run view', () => {
  it('streams the reply, dims nothing without colour, shows tool lines that expand, and the final usage', async () => {
    const source = new FakeSource();
    const id = RUNS[0]?.id as string;
    source.frames.set(id, agentFrames(id));
    const r = await dash(source);
    await r.press(KEY.enter);
    let f = await r.until((x) => x.includes('I will write the script.'), 'the frames so far');
    expect(f.split('\n')[1]).toBe(`Runs › run ${id} › frames`);
    expect(f).toContain('┊ The user wants a script. I will write it first.');
    expect(f).toMatch(/▹ write_file {2}hello\.py {2}✓ 2ms/);
    expect(f).toMatch(/▹ shell {2}python3 hello\.py {2}✓ exit 0 · 41ms/);
    // Live: tokens stream in, a tool runs, the result arrives.
    source.push({ kind: 'frame', runId: id, frame: { type: 'token', task_id: id, content: 'It printed' } });
    source.push({ kind: 'frame', runId: id, frame: { type: 'token', task_id: id, content: ': 2026-12-01' } });
    f = await r.until((x) => x.includes('It printed: 2026-12-01'), 'streamed tokens');
    source.push({ kind: 'frame', runId: 't_other', frame: { type: 'token', task_id: 't_other', content: 'NOT THIS RUN' } });
    source.push({ kind: 'frame', runId: id, frame: resultFrame(id) });
    f = await r.until((x) => x.includes('✓ done in 3.2s · 412 in / 96 out tokens · 3 steps'), 'the result');
    expect(f).not.toContain('NOT THIS RUN');
    // Tab selects a tool call, Enter expands it.
    await r.press(KEY.tab);
    f = await r.until((x) => /› ▹ write_file/.test(x), 'the first call selected');
    await r.press(KEY.enter);
    f = await r.until((x) => x.includes('▾ write_file'), 'expanded');
    expect(f).toContain('arguments: {"path":"hello.py","content":"import datetime\\nprint(datetime.date.today())"}');
    expect(f).toContain('↳ wrote 46 bytes to hello.py');
    await r.press(KEY.tab, KEY.enter);
    f = await r.until((x) => x.includes('▾ shell'), 'the shell call expanded');
    expect(f).toContain('│ 2026-12-01');
    await r.press(KEY.enter);
    await r.until((x) => x.includes('› ▹ shell'), 'collapsed again');
    await r.press(KEY.esc);
    await r.until((x) => x.includes('▸ Runs 3'), 'back to the list');
  });

  it('cancels a run with x after confirmation', async () => {
    const source = new FakeSource();
    const id = RUNS[0]?.id as string;
    const r = await dash(source);
    await r.press(KEY.enter);
    await r.until((x) => x.includes(`run ${id} › frames`), 'the run view');
    await r.press('x');
    await r.until((x) => x.includes(`Cancel run ${id}? [y/N]`), 'asked');
    expect(source.mutations()).toEqual([]);
    await r.press('y');
    await r.until((x) => x.includes(`✓ Run ${id} cancelled`), 'cancelled');
    expect(source.mutations()).toEqual([{ method: 'cancelRun', args: [id] }]);
  });

  it('drills Sandboxes › sandbox › run › frames and back with Esc', async () => {
    const source = new FakeSource();
    const r = await dash(source);
    await r.type(':sb');
    await r.press(KEY.enter, KEY.enter);
    let f = await r.until((x) => x.split('\n')[1] === 'Sandboxes › work', 'the sandbox crumbs');
    expect(f).toContain('▸ Runs in work 1');
    expect(f).toContain('t_0mx5cz1ab2c3d4e');
    expect(f).not.toContain('t_0mx5cy9zz8y7x6w');
    await r.press(KEY.enter);
    f = await r.until((x) => x.split('\n')[1] === 'Sandboxes › work › run t_0mx5cz1ab2c3d4e › frames', 'the run crumbs');
    await r.press(KEY.esc);
    await r.until((x) => x.split('\n')[1] === 'Sandboxes › work', 'back one');
    await r.press(KEY.esc);
    await r.until((x) => x.split('\n')[1] === 'Sandboxes' && x.includes('▸ Sandboxes'), 'back to the panes');
  });

  it('dims reasoning with colour on, and writes no escape sequence at all with NO_COLOR', async () => {
    const id = RUNS[0]?.id as string;
    const level = chalk.level;
    chalk.level = 1;
    try {
      const coloured = new FakeSource();
      coloured.frames.set(id, agentFrames(id));
      const r = await dash(coloured, { color: true });
      await r.press(KEY.enter);
      const f = await r.until((x) => plain(x).includes('I will write the script.'), 'the run, in colour');
      expect(f).toContain('\u001b[2m┊ The user wants a script. I will write it first.\u001b[22m');
      expect(f).toMatch(/\u001b\[32m {2}✓ exit 0 · 41ms/);
      r.unmount();

      const mono = new FakeSource();
      mono.frames.set(id, agentFrames(id));
      const m = await dash(mono, { color: false });
      await m.press(KEY.enter);
      await m.until((x) => x.includes('I will write the script.'), 'the run, plain');
      expect(m.frames.join('')).not.toContain('\u001b');
    } finally {
      chalk.level = level;
    }
  });
});

describe('cost: lists are virtualised, the log is bounded', () => {
  it('1,000 runs: only the visible window is rendered, and a move redraws two rows', async () => {
    const source = new FakeSource('daemon', fixtureSnapshot({ runs: manyRuns(1000) }));
    const r = await dash(source, { columns: 120, rows: 40 });
    let f = await r.until((x) => x.includes('▸ Runs 1,000'), '1,000 runs');
    const shown = lines(f).filter((l) => /t_bulk\d{5}/.test(l)).length;
    expect(shown).toBeGreaterThan(5);
    expect(shown).toBeLessThan(40);
    // Everything rendered since the start (a few renders of the window), far from 1,000 rows.
    expect(r.probe.rows).toBeLessThan(300);
    r.probe.rows = 0;
    await r.press('j');
    await r.until((x) => /› t_bulk00998/.test(x), 'the second run selected');
    expect(r.probe.rows).toBe(2);
    r.probe.rows = 0;
    await r.press('G');
    f = await r.until((x) => /› t_bulk00000/.test(x), 'the oldest run selected');
    expect(r.probe.rows).toBeLessThanOrEqual(shown + 4);
    // One run changes: only its row is drawn again.
    r.probe.rows = 0;
    source.push({ kind: 'run', run: { ...manyRuns(1)[0]!, id: 't_bulk00003', status: 'cancelled', startedAt: new Date(Date.UTC(2026, 11, 1, 9, 0, 3)).toISOString() } });
    f = await r.until((x) => /t_bulk00003 +work +cancelled/.test(x), 'the changed run');
    expect(r.probe.rows).toBe(1);
  });

  it('5,000 log records: 2,000 kept, the tail shown, only the visible rows rendered', async () => {
    const source = new FakeSource();
    const r = await dash(source, { columns: 120, rows: 40 });
    await r.press(KEY.tab);
    await r.until((x) => x.includes('▸ Log 0'), 'the log');
    r.probe.rows = 0;
    for (let b = 0; b < 5; b += 1) source.push({ kind: 'log', records: Array.from({ length: 1000 }, (_, i) => logRecord(b * 1000 + i)) });
    const f = await r.until((x) => x.includes('▸ Log 2,000 · 5,000 received · following'), 'the bounded log');
    const shown = lines(f).filter((l) => /record \d+/.test(l));
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(40);
    expect(shown.at(-1)).toContain('record 4999');
    expect(r.probe.rows).toBeLessThan(3 * 40);
  });
});

describe('data never drives the terminal', () => {
  it('strips control sequences from names, messages, log lines, frames and errors', async () => {
    const evil = '\u001b]52;c;aGVsbG8=\u0007\u001b[2J\u001b]0;pwned\u0007\u001b[31m\r\u009b1;1H';
    const snap = fixtureSnapshot({
      sandboxes: [{ ...(SANDBOXES[0] as (typeof SANDBOXES)[number]), name: `ev${evil}il` }],
      runs: [{ ...(RUNS[0] as (typeof RUNS)[number]), promptPreview: `do ${evil}this` }],
    });
    const source = new FakeSource('daemon', snap);
    const id = RUNS[0]?.id as string;
    source.frames.set(id, [
      { type: 'token', task_id: id, content: `reply ${evil}text` },
      { type: 'thinking', task_id: id, content: `think ${evil}` },
      { type: 'tool_start', task_id: id, call_id: 'c1', tool: `sh${evil}ell`, preview: `{"command":"ls ${evil}"}` },
      { type: 'tool_output', task_id: id, call_id: 'c1', content: `out ${evil}\n` },
      { type: 'tool_end', task_id: id, call_id: 'c1', tool: 'shell', ok: false, duration_ms: 1, preview: `bad ${evil}` },
      { type: 'task_result', task_id: id, status: 'error', final_response: '', duration_ms: 5, error: { code: `AUTH${evil}`, message: `no ${evil}key`, hint: `fix ${evil}it` } },
    ]);
    source.logs = [logRecord(1, { msg: `log ${evil}line`, source: `src${evil}` })];
    source.failures.set('cancelRun', { code: 'INTERNAL', message: `boom ${evil}`, hint: `hint ${evil}` });
    const r = await dash(source);
    await r.until((x) => x.includes('do ]52;c;aGVsbG8=[2J]0;pwned[31m1;1Hthis'), 'the run row, its escapes taken out');
    source.push({ kind: 'notice', level: 'warn', text: `notice ${evil}` });
    await r.until((x) => x.includes('notice'), 'the notice');
    await r.press(KEY.enter);
    await r.until((x) => x.includes('reply ]52;c;'), 'the run view');
    await r.press(KEY.tab, KEY.enter);
    await r.until((x) => x.includes('│ out'), 'the expanded call');
    await r.press('x', 'y');
    await r.until((x) => x.includes('✗ INTERNAL: boom'), 'the error');
    await r.press(KEY.esc, KEY.esc, KEY.tab);
    await r.until((x) => x.includes('log ]52;c;'), 'the log');
    const all = r.frames.join('');
    expect(all).not.toContain('\u001b');
    expect(all).not.toContain('\u0007');
    expect(all).not.toContain('\u009b');
    expect(all).not.toContain('\r');
  });
});
