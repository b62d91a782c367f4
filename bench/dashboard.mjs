// The dashboard's cost on a real terminal (tmux, 120×40): renders per second and CPU while
// idle, while the log grows at 1,000 records/s, and while a run streams at 2,000 tokens/s
// in the run view. Uses the in-memory source of the tests (test/fixtures/tui-entry.ts,
// bundled with esbuild). Nothing here asserts; it prints. `node bench/dashboard.mjs [seconds]`
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'logos-bench-tui-'));
await build({
  entryPoints: { 'tui-entry': join(root, 'test', 'fixtures', 'tui-entry.ts') },
  outdir: dir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['react-devtools-core'],
  define: { 'process.env.NODE_ENV': '"production"' },
  banner: { js: "import { createRequire as __logosRequire } from 'node:module';\nconst require = __logosRequire(import.meta.url);" },
  logLevel: 'warning',
});
const entry = join(dir, 'tui-entry.mjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let runs = 0;
async function measure(name, args, keys = []) {
  runs += 1;
  const socket = `logos-bench-${process.pid}-${runs}`;
  const stats = join(dir, `${name.replace(/\W+/g, '-')}.json`);
  const env = { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', TERM: 'xterm-256color', ...(process.env.NO_COLOR ? { NO_COLOR: '1' } : {}) };
  const tmux = (...a) => execFileSync('tmux', ['-L', socket, ...a], { env, encoding: 'utf8' });
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'b', '-x', '120', '-y', '40', process.execPath, entry, ...args, '--stats', stats);
  for (let i = 0; i < 200 && !tmux('capture-pane', '-p', '-t', 'b').includes('Logos ·'); i += 1) await sleep(50);
  for (const k of keys) {
    tmux('send-keys', '-t', 'b', k);
    await sleep(200);
  }
  await sleep(seconds * 1000);
  tmux('send-keys', '-t', 'b', 'q');
  for (let i = 0; i < 200 && !existsSync(stats); i += 1) await sleep(50);
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { env, stdio: 'ignore' });
  } catch {
    // gone with its program
  }
  const s = JSON.parse(readFileSync(stats, 'utf8'));
  const cpu = ((s.userMs + s.systemMs) / s.wallMs) * 100;
  console.log(`${name.padEnd(46)} ${(s.renders / (s.wallMs / 1000)).toFixed(1).padStart(6)} renders/s  ${cpu.toFixed(1).padStart(5)}% CPU  (${(s.wallMs / 1000).toFixed(1)} s)`);
}

/**
 * The real `logos dashboard` on a real home (a route, two sandboxes, 200 recorded runs): CPU of
 * its process over the interval, from /proc (user + system ticks), idle on the daemon's event
 * stream and idle reading the files once a second.
 */
async function measureReal(name, args, home) {
  runs += 1;
  const socket = `logos-bench-${process.pid}-${runs}`;
  const env = { PATH: process.env.PATH, HOME: home, LOGOS_HOME: join(home, 'logos'), LANG: 'C.UTF-8', TERM: 'xterm-256color' };
  const tmux = (...a) => execFileSync('tmux', ['-L', socket, ...a], { env, encoding: 'utf8' });
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'b', '-x', '120', '-y', '40', process.execPath, join(root, 'bin', 'logos.js'), 'dashboard', ...args);
  for (let i = 0; i < 200 && !tmux('capture-pane', '-p', '-t', 'b').includes('Sandboxes 2'); i += 1) await sleep(50);
  const pid = Number(tmux('display-message', '-p', '-t', 'b', '#{pane_pid}').trim());
  const ticks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, after the state field
  };
  const t0 = ticks();
  const w0 = Date.now();
  await sleep(seconds * 1000);
  const cpu = ((ticks() - t0) * 10) / (Date.now() - w0); // a tick is 10 ms (100 a second): the share of one core
  tmux('send-keys', '-t', 'b', 'q');
  await sleep(500);
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { env, stdio: 'ignore' });
  } catch {
    // gone with its program
  }
  console.log(`${name.padEnd(46)} ${''.padStart(17)} ${(cpu * 100).toFixed(1).padStart(5)}% CPU  (${seconds.toFixed(1)} s)`);
}

function realHome() {
  const home = mkdtempSync(join(tmpdir(), 'logos-bench-home-'));
  const env = { PATH: process.env.PATH, HOME: home, LOGOS_HOME: join(home, 'logos'), LANG: 'C.UTF-8' };
  const logos = (...a) => execFileSync(process.execPath, [join(root, 'bin', 'logos.js'), ...a], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  logos('route', 'add', 'custom/bench-model', '--endpoint', 'http://127.0.0.1:9/v1', '--name', 'bench', '--default');
  logos('sandbox', 'create', 'work');
  logos('sandbox', 'create', 'play');
  return { home, logos };
}

console.log(`dashboard at 120×40 in tmux, ${seconds} s each, from its first frame (start-up not counted):`);
try {
  await measure('idle, Runs focused', []);
  await measure('log at 1,000 records/s, Runs focused', ['--log-rate', '1000']);
  await measure('log at 1,000 records/s, Log focused', ['--log-rate', '1000'], ['Tab']);
  await measure('a run streaming 2,000 tokens/s, run view', ['--stream', '2000'], ['Enter']);
  const real = realHome();
  try {
    await measureReal('logos dashboard --no-daemon, idle (files, 1 s)', ['--no-daemon'], real.home);
    real.logos('daemon', 'start', '--port', String(20000 + (process.pid % 20000)));
    await measureReal('logos dashboard on the daemon, idle', [], real.home);
  } finally {
    try {
      real.logos('daemon', 'stop');
    } catch {
      // not started
    }
    rmSync(real.home, { recursive: true, force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
