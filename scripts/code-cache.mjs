// Makes the V8 code cache of the CLI bundle (dist/bundle/logos.cjs.cache), run by
// scripts/build-cli.mjs in a process of its own. V8 puts in the cache the functions
// compiled so far, so before writing it this runs the commands people start most, in a
// throw-away home, against a model server of its own on 127.0.0.1 (a few tokens): `logos
// run` (when bubblewrap is here), `status`, `runs list`, the lists, `--help`. What they do
// not reach is compiled when first used, as without a cache. Nothing here can fail the
// build: a command that fails (no bubblewrap, say) has still compiled its way there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BUNDLE, CODE_CACHE, compileBundle, runBundle } from '../bin/load-bundle.js';

const script = compileBundle(BUNDLE);
const cli = runBundle(script, BUNDLE);

function sseReply(n) {
  let body = '';
  for (let i = 0; i < n; i++) body += `data: {"choices":[{"index":0,"delta":{"content":"w${i} "}}]}\n\n`;
  return `${body}data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":${n}}}\n\ndata: [DONE]\n\n`;
}

const model = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object":"list","data":[{"id":"m","object":"model"}]}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(sseReply(20));
  });
});
await new Promise((resolve) => model.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${model.address().port}/v1`;

const home = mkdtempSync(join(tmpdir(), 'logos-code-cache-'));
const saved = { ...process.env };
Object.assign(process.env, { LOGOS_HOME: home, HOME: home, NO_COLOR: '1' });
delete process.env.XDG_RUNTIME_DIR;
const sink = () => Object.assign(new Writable({ write: (_chunk, _enc, done) => done() }), { isTTY: false });
const io = () => ({ out: sink(), err: sink(), stdin: process.stdin, isTTY: false, errTTY: false, stdinTTY: true });

const commands = [
  ['--help'],
  ['route', 'add', 'custom/m', '--endpoint', endpoint, '--name', 'cache', '--no-gateway'],
  ['sandbox', 'create', 'cache', '--driver', 'local'],
  ['run', '--sandbox', 'cache', '--json', 'hello'],
  ['run', '--sandbox', 'cache', 'hello'],
  ['status', '--json'],
  ['status'],
  ['runs', 'list', '--json'],
  ['runs', 'list'],
  ['route', 'list'],
  ['sandbox', 'list', '--json'],
];
try {
  for (const args of commands) {
    try {
      await cli.main(['node', 'logos', ...args], io());
    } catch {
      // compiled as far as it went
    }
  }
} finally {
  process.env = saved;
  model.close();
  rmSync(home, { recursive: true, force: true });
}
writeFileSync(CODE_CACHE, script.createCachedData());
