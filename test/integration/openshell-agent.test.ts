import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type AgentScript, type FakeModelServer } from '../fakes/model-servers.js';
import { jsonLines } from '../helpers/logos.js';
import { makeOsHome, type OsHome } from '../helpers/openshell-home.js';

/**
 * The agent on OpenShell sandboxes, on both lines, through the real binary against the
 * fakes: the worker runs its tools inside the (fake) sandbox and, on 0.1.x, reaches the
 * model only through the supervisor's proxy.
 */

const HELLO_PY = 'print("hello from the gateway")\n';
const script: AgentScript = {
  steps: [
    { toolCalls: [{ name: 'write_file', arguments: { path: 'hello.py', content: HELLO_PY } }] },
    { toolCalls: [{ name: 'shell', arguments: { command: 'python3 hello.py' } }] },
    { text: 'It printed: hello from the gateway' },
  ],
};

let model: FakeModelServer;
beforeAll(async () => {
  model = await startFakeOpenAI();
  model.setScript('os-hello', script);
});
afterAll(async () => {
  await model.close();
});

function find(dir: string, name: string): string | undefined {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (n === name) return p;
    if (statSync(p).isDirectory()) {
      const f = find(p, name);
      if (f) return f;
    }
  }
  return undefined;
}

describe.each([
  ['0.0.116', '0.0'],
  ['0.1.10', '0.1'],
] as const)('the agent on OpenShell %s', (version, line) => {
  let os: OsHome;
  beforeEach(() => {
    os = makeOsHome({ FAKE_OPENSHELL_VERSION: version, ...(line === '0.1' ? { FAKE_OPENSHELL_EGRESS: 'strict' } : {}) });
    os.writeConfig({ imageMinFreeDiskBytes: 0, imageMinFreeMemBytes: 0 });
  });
  afterEach(() => os.cleanup());

  it('writes hello.py in the sandbox, runs it and reports what it printed', async () => {
    // 0.0.x: the fake runs the worker on the host, where inference.local does not resolve.
    const env = line === '0.0' ? { OPENAI_BASE_URL: model.url } : {};
    expect((await os.home.run(['gateway', 'up'])).code).toBe(0);
    if (line === '0.1') expect((await os.home.run(['image', 'build'])).code).toBe(0);
    const add = await os.home.run(['route', 'add', 'custom/agent:os-hello', '--endpoint', model.url, '--name', 'agent']);
    expect(add.code, add.stderr).toBe(0);
    expect((await os.home.run(['sandbox', 'create', 'work'])).code).toBe(0);
    const r = await os.home.run(['run', '--sandbox', 'work', '--json', 'create hello.py, run it, tell me what it printed'], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const frames = jsonLines(r.stdout);
    expect(frames.filter((f) => String(f.type).startsWith('tool_')).map((f) => `${f.type}:${f.tool ?? ''}`)).toEqual([
      'tool_start:write_file',
      'tool_end:write_file',
      'tool_start:shell',
      'tool_output:',
      'tool_end:shell',
    ]);
    expect(frames.at(-1)).toMatchObject({ type: 'task_result', status: 'ok', final_response: 'It printed: hello from the gateway', steps: 3, tools_used: { write_file: 1, shell: 1 } });
    const file = find(join(os.fake.dir, 'openshell-state'), 'hello.py');
    expect(file && readFileSync(file, 'utf8')).toBe(HELLO_PY);
    expect(file).toMatch(/sandboxes\/work\//);
  });
});
