// Puts the fake `openshell` and `docker` (test/fakes/bin) first on PATH inside a fresh temporary
// home, and reads back what they recorded. See the header comments of test/fakes/bin/openshell and
// test/fakes/bin/docker for the scenario switches (FAKE_OPENSHELL_*, FAKE_DOCKER_*).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAKE_BIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fakes', 'bin');

export type FakeTool = 'openshell' | 'docker';

export interface ArgvLogEntry {
  tool: FakeTool;
  argv: string[];
  /** Names (never values) of env vars matching /KEY|TOKEN|SECRET|PASSWORD|OPENSHELL_|DOCKER_/. */
  env_names: string[];
  ts: string;
  cwd: string;
  pid: number;
}

/** Provider secret values the fake gateway received: workspace → provider → KEY → value. */
export type FakeSecrets = Record<string, Record<string, Record<string, string>>>;

export interface FakeEnv {
  /** The temporary directory holding everything below. */
  dir: string;
  /** Env for child processes: fakes first on PATH, HOME/XDG_* and the fakes' state dirs inside `dir`. */
  env: NodeJS.ProcessEnv;
  /** Every recorded invocation of one fake, oldest first. */
  readArgvLog(which: FakeTool): ArgvLogEntry[];
  /** Server-side state of a fake gateway, by registered name or endpoint URL (default: the active one). */
  readOpenshellState(gateway?: string): FakeOpenshellState | null;
  /** Secret values stored by `provider create|update` on that gateway. */
  readSecrets(gateway?: string): FakeSecrets;
  /** The fake docker engine: containers, images, volumes. */
  readDockerState(): FakeDockerState;
  cleanup(): void;
}

export interface FakeOpenshellState {
  endpoint: string;
  workspaces: Record<
    string,
    {
      name: string;
      labels: Record<string, string>;
      sandboxes: Record<string, Record<string, unknown> & { name: string; phase: string; command: string[] }>;
      providers: Record<string, Record<string, unknown> & { type: string; credential_keys: string[]; config: Record<string, string> }>;
      inference: { user: FakeRoute | null; system: FakeRoute | null };
    }
  >;
}

export interface FakeRoute {
  provider: string;
  model: string;
  timeout_secs: number;
  version: number;
}

export interface FakeDockerState {
  containers: Array<Record<string, unknown> & { Id: string; Name: string; State: { Running: boolean; Status: string; ExitCode: number } }>;
  images: Record<string, Record<string, unknown>>;
  volumes: Record<string, Record<string, unknown>>;
}

const STRIPPED_ENV = /^(OPENSHELL_|FAKE_|DOCKER_|XDG_)/;

export function makeFakeEnv(extra: NodeJS.ProcessEnv = {}): FakeEnv {
  const dir = mkdtempSync(path.join(tmpdir(), 'logos-fake-'));
  const home = path.join(dir, 'home');
  const openshellState = path.join(dir, 'openshell-state');
  const dockerState = path.join(dir, 'docker-state');
  for (const d of [home, openshellState, dockerState]) mkdirSync(d, { recursive: true });

  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !STRIPPED_ENV.test(k)));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    PATH: `${FAKE_BIN_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    FAKE_OPENSHELL_STATE: openshellState,
    FAKE_DOCKER_STATE: dockerState,
    // Keeps the fake away from a real /etc/openshell (system gateways).
    FAKE_OPENSHELL_SYSTEM_DIR: path.join(dir, 'etc-openshell'),
    ...extra,
  };

  const readJsonFile = <T>(file: string, fallback: T): T =>
    existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : fallback;

  const serverDir = (gateway?: string): string | null => {
    let endpoint = gateway;
    if (!endpoint || !/^[a-z]+:\/\//.test(endpoint)) {
      const cfg = path.join(env.XDG_CONFIG_HOME as string, 'openshell');
      const name = gateway ?? (existsSync(path.join(cfg, 'active_gateway')) ? readFileSync(path.join(cfg, 'active_gateway'), 'utf8').trim() : '');
      const meta = path.join(cfg, 'gateways', name, 'metadata.json');
      if (!name || !existsSync(meta)) return null;
      endpoint = (JSON.parse(readFileSync(meta, 'utf8')) as { gateway_endpoint: string }).gateway_endpoint;
    }
    return path.join(openshellState, 'servers', endpoint.replace(/\/+$/, '').replace(/[^A-Za-z0-9.-]+/g, '_'));
  };

  return {
    dir,
    env,
    readArgvLog(which) {
      const shared = env.FAKE_CLI_LOG;
      const file = shared ?? path.join(which === 'openshell' ? openshellState : dockerState, 'argv.log');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ArgvLogEntry)
        .filter((e) => e.tool === which);
    },
    readOpenshellState(gateway) {
      const d = serverDir(gateway);
      return d ? readJsonFile<FakeOpenshellState | null>(path.join(d, 'state.json'), null) : null;
    },
    readSecrets(gateway) {
      const d = serverDir(gateway);
      return d ? readJsonFile<FakeSecrets>(path.join(d, 'secrets.json'), {}) : {};
    },
    readDockerState() {
      return readJsonFile<FakeDockerState>(path.join(dockerState, 'state.json'), { containers: [], images: {}, volumes: {} });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a program (usually a fake, by bare name so PATH picks it) with the fake env.
 * stdin gets `input` and is then closed; without `input` it is closed at once.
 */
export function runCli(
  fake: FakeEnv,
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? fake.dir,
      env: { ...fake.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
  });
}

/** Remove ANSI colour codes (the fake openshell colours tables even when piped, like the real one). */
export const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');
