// The daemon's figures for `npm run bench` (imported by bench/run.mjs): /v1/status under 50
// concurrent clients beside a bare node HTTP server, event fan-out to 200 WebSocket clients
// with one stalled, and a run dispatched through the daemon beside `logos run`.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { load } from './load.mjs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

function get(agent, port, path, token) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request({ host: '127.0.0.1', port, path, agent, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t }));
    });
    req.on('error', reject);
    req.end();
  });
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

export async function benchDaemon({ root, env, logos, report }) {
  const WebSocket = (await import('ws')).default;
  const { currentLogFile } = await import(join(root, 'dist/log/files.js'));
  const daemon = spawn(process.execPath, [join(root, 'bin/logos.js'), 'daemon', 'run', '--port', '0', '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const started = await new Promise((resolve, reject) => {
    let out = '';
    daemon.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
    });
    daemon.on('exit', (c) => reject(new Error(`daemon exited ${c}`)));
  });
  const port = started.port;
  const token = readFileSync(join(env.LOGOS_HOME, 'state', 'daemon', 'token'), 'utf8').trim();
  try {
    await get(undefined, port, '/v1/status', token); // first snapshot
    // A bare server answering the same body: what Node's HTTP alone costs here.
    const body = await new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/status', headers: { authorization: `Bearer ${token}` } }, (res) => {
        let t = '';
        res.on('data', (d) => (t += d));
        res.on('end', () => resolve(t));
      });
      req.end();
    });
    const bare = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise((r) => bare.listen(0, '127.0.0.1', r));
    const bareLoad = await load(bare.address().port, '/', {});
    bare.close();
    const statusLoad = await load(port, '/v1/status', { authorization: `Bearer ${token}` });
    report('daemon: GET /v1/status, 50 clients', statusLoad.rps, 'req/s', bareLoad.rps, `p50 ${statusLoad.p50.toFixed(1)} ms, p99 ${statusLoad.p99.toFixed(1)} ms, ${statusLoad.errors} errors; baseline: a bare node server with the same body (p99 ${bareLoad.p99.toFixed(1)} ms); targets ≥ 5,000 req/s, p99 < 20 ms`);

    // Fan-out: 2,000 log records/s written to the log, each becomes a log.record event to 200 clients, one of which stops reading.
    const clients = await Promise.all(
      Array.from({ length: 200 }, () =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events?types=log.record`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
          const c = { ws, got: 0, dropped: 0 };
          ws.on('message', (m) => {
            const s = String(m);
            if (s.includes('"events.dropped"')) {
              for (const item of JSON.parse(s)) if (item.type === 'events.dropped') c.dropped += item.count;
            }
            c.got += s.split('"type":"log.record"').length - 1;
          });
          ws.once('open', () => resolve(c));
          ws.once('error', reject);
        }),
      ),
    );
    const stalled = clients[0];
    stalled.ws._socket.pause();
    const rssBefore = rssKiB(daemon.pid);
    // Appended by hand to the file the daemon writes (the highest number; the first when none).
    const logFile = currentLogFile(join(env.LOGOS_HOME, 'state', 'logs'));
    mkdirSync(join(env.LOGOS_HOME, 'state', 'logs'), { recursive: true });
    // Long enough that the stalled client's socket buffers (a few MiB) fill and its queue overflows.
    const seconds = 10;
    const perTick = 100; // 100 records every 50 ms = 2,000/s
    let written = 0;
    let rssPeak = rssBefore;
    const pad = 'x'.repeat(300);
    for (let tick = 0; tick < seconds * 20; tick++) {
      let lines = '';
      for (let i = 0; i < perTick; i++) lines += `${JSON.stringify({ ts: new Date().toISOString(), level: 'info', source: 'bench', msg: `record ${written++}`, pad })}\n`;
      appendFileSync(logFile, lines);
      await new Promise((r) => setTimeout(r, 50));
      rssPeak = Math.max(rssPeak, rssKiB(daemon.pid));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const others = clients.slice(1);
    const complete = others.filter((c) => c.got >= written).length;
    const minGot = Math.min(...others.map((c) => c.got));
    stalled.ws._socket.resume();
    await new Promise((r) => setTimeout(r, 500));
    report(
      'daemon: 2,000 events/s to 200 WebSocket clients',
      (minGot / written) * 100,
      '% delivered',
      undefined,
      `${complete}/199 live clients got all ${written}; the stalled one got ${stalled.got} and was told ${stalled.dropped} were dropped; daemon RSS ${(rssBefore / 1024).toFixed(0)} → peak ${(rssPeak / 1024).toFixed(0)} MiB`,
    );
    for (const c of clients) c.ws.terminate();

    // A run through the daemon (it is warm) beside the same run through the CLI.
    const viaDaemon = async () => {
      const t = performance.now();
      const id = await new Promise((resolve, reject) => {
        const payload = JSON.stringify({ message: 'hello', sandbox: 'bench', tools: false });
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/runs', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
          let t2 = '';
          res.on('data', (d) => (t2 += d));
          res.on('end', () => resolve(JSON.parse(t2).id));
        });
        req.on('error', reject);
        req.end(payload);
      });
      await new Promise((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: `/v1/runs/${id}/events`, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.on('data', () => {});
          res.on('end', resolve);
        });
        req.end();
      });
      return performance.now() - t;
    };
    let daemonBest = Infinity;
    let cliBest = Infinity;
    for (let i = 0; i < 5; i++) {
      daemonBest = Math.min(daemonBest, await viaDaemon());
      const t = performance.now();
      await logos(['run', '--sandbox', 'bench', '--no-tools', '--json', 'hello']);
      cliBest = Math.min(cliBest, performance.now() - t);
    }
    report('run through the daemon (200 tokens)', daemonBest, 'ms', cliBest, 'baseline: the same run with `logos run` (lower is better)');
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.on('exit', r));
  }
}
