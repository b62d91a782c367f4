import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FAKE_BIN_DIR, makeFakeEnv, type ArgvLogEntry, type FakeEnv } from './fake-cli.js';
import { makeHome, type Home } from './logos.js';

/** A temp LOGOS_HOME whose PATH has the fake openshell and docker first. */
export interface OsHome {
  fake: FakeEnv;
  home: Home;
  /** openshell argv (without the leading -g NAME) for assertions, in order. */
  openshellCalls(): string[][];
  dockerCalls(): string[][];
  log(which: 'openshell' | 'docker'): ArgvLogEntry[];
  /** A PATH with only some of the fakes (and node), for "missing tool" tests. */
  pathWith(tools: Array<'openshell' | 'docker'>): string;
  writeConfig(config: Record<string, unknown>): void;
  cleanup(): void;
}

export function makeOsHome(extra: NodeJS.ProcessEnv = {}): OsHome {
  const fake = makeFakeEnv();
  const pass = ['PATH', 'HOME', 'XDG_CONFIG_HOME', 'FAKE_OPENSHELL_STATE', 'FAKE_DOCKER_STATE', 'FAKE_OPENSHELL_SYSTEM_DIR'];
  const env: NodeJS.ProcessEnv = Object.fromEntries(pass.map((k) => [k, fake.env[k]]));
  const home = makeHome({ ...env, ...extra });
  const mutating = /^(run|rm|create|cp|volume|pull|stop|start)$/;
  return {
    fake,
    home,
    log: (which) => fake.readArgvLog(which),
    openshellCalls: () => fake.readArgvLog('openshell').map((e) => e.argv),
    dockerCalls: () => fake.readArgvLog('docker').map((e) => e.argv).filter((a) => mutating.test(a[0] ?? '')),
    pathWith: (tools) => {
      const dir = join(fake.dir, `bin-${tools.join('-') || 'none'}`);
      mkdirSync(dir, { recursive: true });
      for (const t of tools) symlinkSync(join(FAKE_BIN_DIR, t), join(dir, t));
      symlinkSync(process.execPath, join(dir, 'node'));
      return dir;
    },
    writeConfig: (config) => {
      const dir = join(home.env.LOGOS_HOME as string, 'config');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    },
    cleanup: () => {
      home.cleanup();
      fake.cleanup();
    },
  };
}

/** Every openshell call Logos makes names its gateway with -g first (never the "active" one). */
export function expectGatewayOnEveryCall(os: OsHome): void {
  const calls = os.openshellCalls();
  for (const argv of calls) {
    expect(argv[0], argv.join(' ')).toBe('-g');
    expect(argv[1], argv.join(' ')).toMatch(/^[a-z0-9-]+$/);
  }
}

/** No secret ever appears on an argv of openshell or docker. */
export function expectNoSecretOnArgv(os: OsHome, secrets: string[]): void {
  for (const e of [...os.log('openshell'), ...os.log('docker')]) {
    const line = e.argv.join(' ');
    for (const s of secrets) {
      expect(line).not.toContain(s);
      // nor a distinctive piece of it
      expect(line).not.toContain(s.slice(0, 12));
    }
  }
}

/** Calls that touch a workspace carry --workspace right after -g NAME. */
export function workspaceOf(argv: string[]): string | undefined {
  return argv[2] === '--workspace' ? argv[3] : undefined;
}

/** Strip "-g NAME [--workspace W]" for readable sequence assertions. */
export function bare(argv: string[]): string {
  const rest = argv[2] === '--workspace' ? argv.slice(4) : argv.slice(2);
  return rest.join(' ');
}
