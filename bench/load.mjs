// A small HTTP/1.1 load generator for `npm run bench`: keep-alive connections on raw sockets,
// one request at a time each (latency is per request), in a worker thread of its own so the
// bench's other work does not slow it. Node's http client is too slow to load a server here.
import { connect } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export function load(port, path, headers, { clients = 50, ms = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { port, path, headers, clients, ms } });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

if (!isMainThread) {
  const { port, path, headers, clients, ms } = workerData;
  const req = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  const lat = [];
  let errors = 0;
  const until = performance.now() + ms;
  const one = () =>
    new Promise((done) => {
      const s = connect(port, '127.0.0.1');
      s.setNoDelay(true);
      let buf = Buffer.alloc(0);
      let t = 0;
      const send = () => {
        if (performance.now() >= until) {
          s.end();
          done();
          return;
        }
        t = performance.now();
        s.write(req);
      };
      s.on('connect', send);
      s.on('data', (d) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = buf.subarray(0, end).toString('latin1');
          const m = /content-length:\s*(\d+)/i.exec(head);
          const len = m ? Number(m[1]) : 0;
          if (buf.length < end + 4 + len) return;
          if (head.startsWith('HTTP/1.1 200')) lat.push(performance.now() - t);
          else errors++;
          buf = buf.subarray(end + 4 + len);
          send();
        }
      });
      s.on('error', () => {
        errors++;
        done();
      });
      s.on('close', done);
    });
  await Promise.all(Array.from({ length: clients }, one));
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? NaN;
  parentPort.postMessage({ rps: lat.length / (ms / 1000), p50: q(0.5), p99: q(0.99), errors });
}
