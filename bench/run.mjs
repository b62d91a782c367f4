// Logos benchmarks: figures and ratios against a baseline measured in the same process,
// so a noisy shared machine moves both sides alike. Run with `npm run bench` (builds first).
// Nothing here asserts; it prints.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { decodeFrameLine } = await import(join(root, 'dist/core/frames.js'));
const { spawnProcess } = await import(join(root, 'dist/adapters/exec/runner.js'));
const { SseParser } = await import(join(root, 'dist/worker/sse.js'));

const results = [];
function report(name, value, unit, baseline, note) {
  const ratio = baseline ? value / baseline : undefined;
  results.push({ name, value, unit, baseline, ratio, note });
  const r = ratio === undefined ? '' : `  ratio ${ratio.toFixed(2)}× baseline (${baseline.toFixed(1)} ${unit})`;
  console.log(`${name.padEnd(44)} ${value.toFixed(1).padStart(9)} ${unit}${r}${note ? `  — ${note}` : ''}`);
}

function best(n, fn) {
  let b = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

async function bestAsync(n, fn) {
  let b = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

// 1. Host frame decoding vs plain JSON.parse of the same lines.
const N = 200_000;
const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ type: 'token', task_id: 't_0123456789abcde', content: `word${i} ` }));
const decodeMs = best(5, () => {
  for (const l of lines) decodeFrameLine(l);
});
const parseMs = best(5, () => {
  for (const l of lines) JSON.parse(l);
});
report('frame decode (200k token lines)', (N / decodeMs) * 1000 / 1000, 'k lines/s', (N / parseMs) * 1000 / 1000, 'baseline: JSON.parse alone');

// 2. Worker SSE parsing vs a naive split on blank lines.
const chunk = (i) => `data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"tok${i} "},"finish_reason":null}]}\n\n`;
const sse = Array.from({ length: 100_000 }, (_, i) => chunk(i)).join('');
const bytes = Buffer.from(sse);
const pieces = [];
for (let i = 0; i < bytes.length; i += 1500) pieces.push(bytes.subarray(i, i + 1500));
const sseMs = best(5, () => {
  const p = new SseParser();
  for (const b of pieces) for (const ev of p.feed(b)) JSON.parse(ev.data);
  p.end();
});
const naiveMs = best(5, () => {
  const text = new TextDecoder().decode(bytes);
  for (const rec of text.split('\n\n')) if (rec.startsWith('data: ')) JSON.parse(rec.slice(6));
});
const mb = bytes.length / 1048576;
report('SSE parse, 1500-byte TCP-sized pieces', mb / (sseMs / 1000), 'MiB/s', mb / (naiveMs / 1000), 'baseline: whole-buffer split + JSON.parse');

// 3. Subprocess line streaming through the runner vs raw child_process.
const emitter = `const l=JSON.stringify({type:"token",task_id:"t",content:"x"})+"\\n";let s="";for(let i=0;i<200000;i++)s+=l;process.stdout.write(s)`;
const runnerMs = await bestAsync(3, async () => {
  let n = 0;
  await spawnProcess(process.execPath, ['-e', emitter], { onStdoutLine: () => n++, onStderrLine: () => {} }).result;
  if (n !== 200000) throw new Error(`runner saw ${n} lines`);
});
const rawMs = await bestAsync(3, () => new Promise((resolve) => {
  const c = spawn(process.execPath, ['-e', emitter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  let n = 0;
  c.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      buf = buf.slice(i + 1);
      n++;
    }
  });
  c.on('close', () => resolve(n));
}));
report('runner: 200k stdout lines from a child', runnerMs, 'ms', rawMs, 'baseline: bare spawn + split (lower is better)');

// 4. CLI start-up: `logos --version` vs `node -e 0`, both in a clean environment (PATH only): a
// variable such as NODE_EXTRA_CA_CERTS slows every Node start and would flatter the ratios.
const run = (args) => new Promise((resolve) => spawn(process.execPath, args, { stdio: 'ignore', env: { PATH: process.env.PATH } }).on('close', resolve));
const cliMs = await bestAsync(5, () => run([join(root, 'bin/logos.js'), '--version']));
const nodeMs = await bestAsync(5, () => run(['-e', '0']));
report('CLI start-up (logos --version)', cliMs, 'ms', nodeMs, 'baseline: node -e 0 (lower is better; target ≤ 1.5×)');
{
  // Commands scripts and cron call most, in an empty home (no daemon, no network).
  const startHome = mkdtempSync(join(tmpdir(), 'logos-bench-start-'));
  const startEnv = { PATH: process.env.PATH, LOGOS_HOME: startHome, HOME: startHome, NO_COLOR: '1' };
  const runIn = (args) => new Promise((resolve) => spawn(process.execPath, args, { stdio: 'ignore', env: startEnv }).on('close', resolve));
  try {
    for (const args of [['status', '--json'], ['runs', 'list', '--json']]) {
      const ms = await bestAsync(5, () => runIn([join(root, 'bin/logos.js'), ...args]));
      report(`CLI: logos ${args.join(' ')}`, ms, 'ms', nodeMs, 'baseline: node -e 0 (lower is better; target ≤ 2×)');
    }
  } finally {
    rmSync(startHome, { recursive: true, force: true });
  }
}

// 5. One task end to end in the local bwrap sandbox vs the same worker without a sandbox.
let stall = false;
let bigReply;
/** An OpenAI SSE body of n tokens, built once and sent in one go (the upstream is not what is measured). */
function sseReply(n) {
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(chunk(i));
  parts.push('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":' + n + '}}\n\ndata: [DONE]\n\n');
  return Buffer.from(parts.join(''));
}
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"data":[{"id":"m"}]}');
    return;
  }
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (bigReply) {
      res.end(bigReply);
      return;
    }
    if (stall) {
      res.write(chunk(0));
      return; // hold the stream open, as a model that stopped sending
    }
    for (let i = 0; i < 200; i++) res.write(chunk(i));
    res.write('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":200}}\n\ndata: [DONE]\n\n');
    res.end();
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/v1`;
const home = mkdtempSync(join(tmpdir(), 'logos-bench-'));
const env = { PATH: process.env.PATH, LOGOS_HOME: home, HOME: home, NO_COLOR: '1' };
const logos = (args, extraEnv = {}) =>
  new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [join(root, 'bin/logos.js'), ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`logos ${args.join(' ')} exited ${code}`))));
  });
/** Run logos, count the frame lines it prints (without keeping them), and watch its peak RSS. */
const measuredRun = (args) =>
  new Promise((resolve, reject) => {
    const t = performance.now();
    const c = spawn(process.execPath, [join(root, 'bin/logos.js'), ...args], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let frames = 0;
    let peakKiB = 0;
    c.stdout.on('data', (d) => {
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) frames++;
    });
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        // gone
      }
    }, 10);
    c.on('close', (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`logos ${args.join(' ')} exited ${code}`));
      resolve({ ms: performance.now() - t, frames, peakKiB });
    });
  });
async function bestOfMeasured(n, fn) {
  let best;
  for (let i = 0; i < n; i++) {
    const r = await fn();
    if (!best || r.ms < best.ms) best = { ...r, peakKiB: Math.max(r.peakKiB, best?.peakKiB ?? 0) };
    else best.peakKiB = Math.max(best.peakKiB, r.peakKiB);
  }
  return best;
}
const fetchAll = (u) =>
  new Promise((resolve, reject) => {
    const req = httpRequest(u, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.on('data', () => {});
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end('{}');
  });
/** Run a command with its stdout read and thrown away. */
const runTo = (argv) =>
  new Promise((resolve, reject) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    c.stdout.on('data', () => {});
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv[0]} exited ${code}`))));
  });
const PASS_THROUGH = `const fs=require('fs');const rl=require('readline').createInterface({input:fs.createReadStream(process.argv[1])});let out='';rl.on('line',(l)=>{out+=JSON.stringify(JSON.parse(l))+'\\n';if(out.length>65536){process.stdout.write(out);out='';}});rl.on('close',()=>process.stdout.write(out));`;
const hasJq = spawnSync('jq', ['--version']).status === 0;

try {
  await logos(['route', 'add', 'custom/m', '--endpoint', url, '--name', 'bench', '--no-gateway']);
  await logos(['sandbox', 'create', 'bench', '--driver', 'local']);
  const task = JSON.stringify({ v: 1, type: 'task', task_id: 't_bench', sandbox: 'x', route: { provider: 'custom', model: 'm', api: 'openai-chat', base_url: url }, messages: [{ role: 'user', content: 'hello' }] });
  const timed = async (fn) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  const bareOnce = () =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, [join(root, 'dist/worker/logos-worker.mjs')], { stdio: ['pipe', 'ignore', 'ignore'], env: { PATH: process.env.PATH, LOGOS_WORKER_LOG: join(home, 'w.jsonl') } });
      c.stdin.end(task);
      c.on('close', resolve);
    });
  const nodeOnce = () => new Promise((resolve) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env: { PATH: process.env.PATH } }).on('close', resolve));
  // Rounds of the three side by side, so a busy moment of a shared machine weighs on all of them.
  // `cold`: without the early start (LOGOS_PRESTART=0), as for the first run with a choice of sandbox.
  const rounds = { e2e: [], cold: [], bare: [], node: [] };
  for (let i = 0; i < 9; i++) {
    rounds.e2e.push(await timed(() => logos(['run', '--sandbox', 'bench', '--json', 'hello'])));
    rounds.bare.push(await timed(bareOnce));
    rounds.cold.push(await timed(() => logos(['run', '--sandbox', 'bench', '--json', 'hello'], { LOGOS_PRESTART: '0' })));
    rounds.node.push(await timed(nodeOnce));
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const e2eMs = Math.min(...rounds.e2e);
  const bareMs = Math.min(...rounds.bare);
  const overheadMedian = median(rounds.e2e.map((t, i) => t - rounds.bare[i]));
  report('task end to end (local sandbox, 200 tokens)', e2eMs, 'ms', bareMs, 'baseline: the worker alone, unsandboxed (lower is better; best of 9 rounds)');
  // The overhead includes a second Node start-up (the CLI's), so it scales with the machine: it is
  // also shown as a multiple of `node -e 0` in the same environment (the 120 ms target was set where that took ~64 ms).
  report('  per-task overhead (end to end − worker alone)', e2eMs - bareMs, 'ms', Math.min(...rounds.node), `baseline: node -e 0 (target ≤ 120 ms ≈ 1.9× node -e 0); median of the rounds' differences ${overheadMedian.toFixed(1)} ms`);
  // The sandbox started by the launcher from the last run's plan (src/adapters/local/prestart.ts) is
  // what the lines above measure; without it (a first run, another --sandbox, LOGOS_PRESTART=0):
  const coldMedian = median(rounds.cold.map((t, i) => t - rounds.bare[i]));
  report('  per-task overhead without the early start', Math.min(...rounds.cold) - bareMs, 'ms', Math.min(...rounds.node), `baseline: node -e 0; median of the rounds' differences ${coldMedian.toFixed(1)} ms`);

  // 6. A worker killed mid-reply: time from the kill to logos exiting with SANDBOX_DISCONNECTED.
  stall = true;
  const workerPids = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
          return cmd.includes('/opt/logos/worker.mjs') && !cmd.includes('bwrap');
        } catch {
          return false;
        }
      })
      .map(Number);
  const killOnce = () =>
    new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [join(root, 'bin/logos.js'), 'run', '--sandbox', 'bench', '--json', 'hello'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      let killedAt = 0;
      c.stdout.on('data', (d) => {
        out += d;
        if (!killedAt && out.includes('"type":"token"')) {
          const pids = workerPids();
          if (pids.length !== 1) return reject(new Error(`expected one worker, found ${pids.length}`));
          killedAt = performance.now();
          process.kill(pids[0], 'SIGKILL');
        }
      });
      c.on('close', (code) => {
        if (code !== 7 || !out.includes('SANDBOX_DISCONNECTED')) return reject(new Error(`unexpected exit ${code}`));
        resolve(performance.now() - killedAt);
      });
    });
  let killToExit = Infinity;
  for (let i = 0; i < 3; i++) killToExit = Math.min(killToExit, await killOnce());
  let killBaseline = Infinity;
  for (let i = 0; i < 3; i++) {
    killBaseline = Math.min(
      killBaseline,
      await new Promise((resolve) => {
        const c = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
        setTimeout(() => {
          const t = performance.now();
          c.on('close', () => resolve(performance.now() - t));
          c.kill('SIGKILL');
        }, 100);
      }),
    );
  }
  report('worker killed mid-reply → reported', killToExit, 'ms', killBaseline, 'baseline: kill of a bare child to its close event (target: < 1000 ms)');
  stall = false;

  // 7. Big replies end to end: frames/s through the local sandbox and the host's peak memory,
  //    beside what the upstream alone, jq and a bare node pass-through do with the same frames.
  console.log('');
  const byLength = [];
  for (const tokens of [200_000, 1_000_000]) {
    bigReply = sseReply(tokens);
    const frameFile = join(home, `frames-${tokens}.jsonl`);
    writeFileSync(frameFile, Array.from({ length: tokens }, (_, i) => JSON.stringify({ type: 'token', task_id: 't_0mbench000000', content: `tok${i} ` })).join('\n') + '\n');
    const upstreamMs = await bestAsync(3, () => fetchAll(`${url}/chat/completions`));
    const jqMs = hasJq ? await bestAsync(3, () => runTo(['jq', '-c', '.', frameFile])) : undefined;
    const passMs = await bestAsync(3, () => runTo([process.execPath, '-e', PASS_THROUGH, frameFile]));
    const e2e = await bestOfMeasured(3, () => measuredRun(['run', '--sandbox', 'bench', '--json', 'hello']));
    if (e2e.frames < tokens) throw new Error(`saw ${e2e.frames} frames for ${tokens} tokens`);
    const k = (ms) => tokens / (ms / 1000) / 1000;
    report(
      `reply of ${tokens / 1000}k tokens end to end`,
      e2e.frames / (e2e.ms / 1000) / 1000,
      'k frames/s',
      jqMs ? k(jqMs) : undefined,
      `baseline: jq -c . on the same frames; ${e2e.ms.toFixed(0)} ms, host peak RSS ${(e2e.peakKiB / 1024).toFixed(0)} MiB (targets: ≥ 250k frames/s, RSS < 150 MiB and flat)`,
    );
    report(`  bare node parse + write, same frames`, k(passMs), 'k lines/s');
    report(`  the upstream alone, same reply`, k(upstreamMs), 'k events/s');
    byLength.push(e2e);
  }
  // Without the fixed cost of starting a task: frames/s between the two lengths.
  const [short, long] = byLength;
  report('streaming rate (800k more frames, start-up excluded)', (long.frames - short.frames) / ((long.ms - short.ms) / 1000) / 1000, 'k frames/s', undefined, 'target ≥ 250k frames/s');

  // 8. The daemon.
  bigReply = undefined;
  console.log('');
  const { benchDaemon } = await import('./daemon.mjs');
  await benchDaemon({ root, env, logos, report });
} finally {
  server.close();
  rmSync(home, { recursive: true, force: true });
}

// 9. The dashboard on a real terminal (tmux): renders and CPU, idle, under a log at 1,000
// records/s and a run streaming; and the real command idle on the daemon and on the files.
console.log('');
if (spawnSync('tmux', ['-V']).status === 0) {
  const r = spawnSync(process.execPath, [join(root, 'bench', 'dashboard.mjs'), '6'], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`dashboard bench failed (exit ${r.status})`);
} else {
  console.log('dashboard: skipped (tmux is not installed)');
}


const mem = process.memoryUsage();
console.log(`\nbench process RSS ${(mem.rss / 1048576).toFixed(0)} MiB, heap used ${(mem.heapUsed / 1048576).toFixed(0)} MiB`);
