import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentFrames, FakeSource, fixtureSnapshot, logRecord, RUNS } from '../helpers/fake-source.js';
import { KEY, renderDashboard, type Rendered } from '../helpers/ink.js';
import { ROOT } from '../helpers/logos.js';

/**
 * The text screen captures in docs/dashboard.md come from these renders (the
 * in-memory source, a fixed clock). The file must match them: after a change to
 * the dashboard, run `LOGOS_WRITE_SCREENS=1 npx vitest run test/tui/screens.test.tsx`
 * and read the diff.
 */

const DOC = join(ROOT, 'docs', 'dashboard.md');
const NOW = Date.parse('2026-12-01T10:00:09.000Z');
const ID = RUNS[0]?.id as string;

let open: Rendered | undefined;
afterEach(() => {
  open?.unmount();
  open = undefined;
});

function source(mode: 'daemon' | 'files' = 'daemon'): FakeSource {
  const s = new FakeSource(mode, fixtureSnapshot({ takenAt: new Date(NOW).toISOString(), ...(mode === 'files' ? { daemon: { running: false } } : {}) }));
  s.logs = Array.from({ length: 60 }, (_, i) => logRecord(i, i === 57 ? { level: 'error', source: 'dispatch', msg: 'worker exited without a result', fields: { sandbox: 'work', task_id: 't_0mx5cx1aa1b2c3d' } } : {}));
  s.frames.set(ID, agentFrames(ID));
  s.failures.set('syncRoute', { code: 'NO_CREDENTIAL', message: 'No key stored for anthropic.', hint: 'printf %s "$ANTHROPIC_API_KEY" | logos creds set anthropic --key-stdin' });
  return s;
}

async function dash(s: FakeSource, columns: number, rows: number, readonly = false): Promise<Rendered> {
  open = await renderDashboard(s, { columns, rows, readonly, storeOptions: { clock: () => NOW } });
  await open.until((f) => f.includes('t_0mx5cz1ab2c3d4e') && f.includes('record 59'), 'the data');
  return open;
}

const tidy = (frame: string): string => frame.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');

const screens: Array<{ title: string; about: string; frame: string }> = [];

describe('screen captures for docs/dashboard.md', () => {
  it('the panes at 120×40', async () => {
    const r = await dash(source(), 120, 40);
    screens.push({ title: 'The panes (120×40)', about: 'Runs focused; the other panes show a few rows each, the log follows its tail.', frame: r.frame() });
  });

  it('the panes at 80×24', async () => {
    const r = await dash(source(), 80, 24);
    screens.push({ title: 'The panes (80×24)', about: 'On a small terminal the panes that are not focused fold to their title line and a summary; columns that do not fit are left out.', frame: r.frame() });
  });

  it('a run, a tool call expanded', async () => {
    const r = await dash(source(), 100, 30);
    await r.press(KEY.enter);
    await r.until((f) => f.includes('I will write the script.'), 'the run');
    await r.press(KEY.tab, KEY.tab, KEY.enter);
    await r.until((f) => f.includes('▾ shell'), 'the call expanded');
    screens.push({ title: 'A run (Enter on a run)', about: 'Reasoning marked `┊` (and dimmed), each tool call one line; Tab selects a call and Enter expands it to its arguments, its output and what the model got back.', frame: r.frame() });
  });

  it('a sandbox, a task being typed', async () => {
    const r = await dash(source(), 100, 30);
    await r.type(':sb');
    await r.press(KEY.enter, KEY.enter, 'r');
    await r.type('create hello.py and run it');
    await r.until((f) => f.includes('create hello.py and run it▏'), 'the task typed');
    screens.push({ title: 'A sandbox (Enter on a sandbox), `r` to run a task', about: 'The runs of one sandbox; `r` asks for the task, then an optional session name.', frame: r.frame() });
  });

  it('a destructive action asks first; a failure shows its reason code and hint', async () => {
    const r = await dash(source(), 100, 30);
    await r.type(':sb');
    await r.press(KEY.enter, 'd');
    await r.until((f) => f.includes('[y/N]'), 'the question');
    screens.push({ title: 'Confirmation', about: '`d` on a sandbox: nothing happens without `y`.', frame: r.frame() });
    await r.press('n');
    await r.type(':routes');
    await r.press(KEY.enter, 'j', 'j', 's');
    await r.until((f) => f.includes('NO_CREDENTIAL'), 'the error');
    screens.push({ title: 'An action that failed', about: 'The same reason code and hint as the CLI gives.', frame: r.frame() });
  });

  it('the log, filtered; read-only; no daemon', async () => {
    const r = await dash(source('files'), 100, 30, true);
    await r.type(':logs');
    await r.press(KEY.enter);
    await r.type('/level:warn');
    await r.press(KEY.enter);
    await r.until((f) => f.includes('▸ Log 3/60'), 'the filtered log');
    screens.push({ title: 'The log filtered with `/level:warn`, read-only, no daemon', about: 'Without a daemon the dashboard reads the state files and the log once a second, and says so. `--readonly` hides every action.', frame: r.frame() });
  });

  it('help', async () => {
    const r = await dash(source(), 100, 30);
    await r.press('?');
    await r.until((f) => f.includes('Keys'), 'help');
    screens.push({ title: 'Help (`?`)', about: '', frame: r.frame() });
  });

  it('docs/dashboard.md matches these renders', () => {
    const body = screens.map((s) => `## ${s.title}\n\n${s.about ? `${s.about}\n\n` : ''}\`\`\`text\n${tidy(s.frame)}\n\`\`\`\n`).join('\n');
    const doc = `${HEAD}\n${body}\n${TAIL}`;
    if (process.env.LOGOS_WRITE_SCREENS) writeFileSync(DOC, doc);
    expect(existsSync(DOC) ? readFileSync(DOC, 'utf8') : '').toBe(doc);
  });
});

const HEAD = `# The dashboard: \`logos dashboard\`

One screen to watch and drive Logos: gateways, routes, sandboxes, runs and the unified log,
live. It needs a terminal (in scripts use \`logos status --json\` and \`logos debug tail --follow\`);
\`--readonly\` hides every action that changes something.

Keys: \`Tab\` / \`Shift-Tab\` move between panes, \`:\` switches by name (\`:gateways\`, \`:routes\`,
\`:sandboxes\`, \`:runs\`, \`:logs\`, \`:q\`), \`/\` filters the list (in the log \`level:warn\`,
\`source:NAME\`, \`sandbox:NAME\` and words), \`↑↓\` or \`j k\` move, \`g G\` go to the top or the end
(\`G\` follows the log and a run), \`Enter\` opens (a sandbox: its runs; a run: its frames),
\`Esc\` clears the filter and goes back, \`?\` lists every key, \`q\` or \`Ctrl-C\` quits. The footer
always shows the keys of what has focus.

Actions: on a gateway \`u\` up, \`d\` down; on a route \`s\` sync, \`d\` remove, \`p\` refresh provider
status; on a sandbox \`r\` run a task (then an optional session name), \`n\` new, \`d\` delete; on a
run \`x\` cancel. Deleting, removing, stopping and cancelling ask first. A failure shows its reason
code, message and hint, as the CLI does.

It redraws at most about ten times a second however fast the data comes (a log at 1,000
records/s included), keeps the last 2,000 log records, and draws only the rows on screen, so
1,000 runs cost what 20 do. Text from models, workers and the log never drives the terminal:
control characters are taken out. \`NO_COLOR\` turns all colour and styling off. The terminal
is given back as it was on \`q\`, \`Ctrl-C\`, a signal or a crash.

Where the data comes from: with a daemon running, its API — one \`GET /v1/status\`, then the
event stream (\`WS /v1/events\`): frames and log records as they come, the picture read again
whenever a sandbox, route, provider, gateway or run changes. A dropped connection is retried
(with \`?since=\` the last event seen, so nothing the daemon still keeps is lost); a stopped daemon
shows in the header (\`daemon not running\`) with the rest of the screen as last seen, and a
restarted one is found again. With no daemon, \`logos dashboard\` asks whether to start one
(\`Enter\`: no) and otherwise reads the state files through the same code as \`logos status\`, once a
second, and follows the log file; gateways are asked for their state every \`daemonProbeSec\`,
OpenShell sandboxes every \`daemonSandboxSec\`. Runs started from it then run in its own process
(their frames live; quitting cancels them); other runs show their outcome from their records.
\`--daemon\` starts the daemon when needed without asking, \`--no-daemon\` reads the files even when
one runs.

The captures below are the renders of \`test/tui/screens.test.tsx\` (an in-memory data source);
the last ones come from \`test/tui/dashboard-live.test.ts\` (the real CLI in tmux, the daemon, the
bwrap sandbox and a fake model server).
`;

/** Captures of the real command on real data (test/tui/dashboard-live.test.ts), kept as they were taken. */
const TAIL = `## On real data: a task with a tool call (daemon, 120×40)

\`\`\`text
Logos · daemon running · v0.1.0 · up 1s
Sandboxes › run t_0mx5f7tu9ajevs7 › frames
t_0mx5f7tu9ajevs7 · sandbox tools · route agent · ok · 478ms · 748/7 tokens · 2 steps
  Running it.
  ▹ shell  echo 42  ✓ exit 0 · 9ms
  It printed 42.
  ✓ done in 121ms · 748 in / 7 out tokens · 2 steps

end of run
✓ Run started in tools
Tab next tool  ⏎ expand  x cancel  Esc back  / filter  : command  ? help  q quit
\`\`\`

## On real data: no daemon (\`--no-daemon\`, 100×24)

\`\`\`text
Logos · no daemon: reading files, updated every second
Runs
  Gateways 0
  Routes 1  1 ready
  Sandboxes 2  0 tasks in flight
▸ Runs 0
  ID                SANDBOX      STATUS     TOOK    TOKENS      STEPS STARTED  TASK
  No runs yet.

  Log 12 · following
  00:54:08 info  cli        sandbox created sandbox=work route=r1
  00:54:20 info  daemon     daemon started
  00:54:21 info  providers  provider probed
  00:54:26 info  cli        sandbox created sandbox=play route=r1
  00:54:28 info  daemon     daemon stopped
  00:54:32 info  daemon     daemon started
  00:55:06 info  providers  provider probed
  00:55:42 info  providers  provider probed
  00:56:13 info  providers  provider probed
  00:57:11 info  providers  provider probed
  00:58:01 info  daemon     daemon stopped

⏎ open  x cancel  Tab pane  / filter  : command  ? help  q quit
\`\`\`
`;
