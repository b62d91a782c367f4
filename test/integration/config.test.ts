import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHome, type Home } from '../helpers/logos.js';

/** `logos config`: settings shown with their source, set through their schema, never silently reset. */

let home: Home;
beforeEach(() => {
  home = makeHome();
});
afterEach(() => home.cleanup());

const file = (): string => join(home.dir, 'logos', 'config', 'config.json');

describe('logos config', () => {
  it('lists the defaults without writing anything', async () => {
    const r = await home.run(['config', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; settings: Array<{ name: string; value: unknown; source: string }> };
    expect(out.file).toBe(file());
    expect(out.settings.find((s) => s.name === 'runTimeoutSec')).toEqual({ name: 'runTimeoutSec', value: 600, source: 'default' });
    expect(existsSync(join(home.dir, 'logos'))).toBe(false);
  });

  it('sets, gets and unsets values; a value outside the schema is refused and nothing changes', async () => {
    expect((await home.run(['config', 'set', 'runTimeoutSec', '1800'])).code).toBe(0);
    expect((await home.run(['config', 'set', 'binaries.openshell', '/opt/os/bin/openshell'])).code).toBe(0);
    expect((await home.run(['config', 'get', 'runTimeoutSec'])).stdout).toBe('1800\n');
    expect(JSON.parse(readFileSync(file(), 'utf8'))).toEqual({ runTimeoutSec: 1800, binaries: { openshell: '/opt/os/bin/openshell' } });
    const before = readFileSync(file(), 'utf8');
    for (const [key, value] of [
      ['runTimeoutSec', '0'],
      ['runTimeoutSec', 'soon'],
      ['defaultDriver', 'docker'],
      ['gatewayPortRange', '[1]'],
      ['nonsense', '1'],
    ] as const) {
      const r = await home.run(['config', 'set', key, value, '--json']);
      expect(r.code, `${key}=${value}`).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('INVALID_ARGUMENT');
    }
    expect(readFileSync(file(), 'utf8')).toBe(before);
    expect((await home.run(['config', 'unset', 'runTimeoutSec'])).code).toBe(0);
    expect((await home.run(['config', 'get', 'runTimeoutSec', '--json'])).stdout).toContain('"value": 600');
  });

  it('the settings take effect: a run uses the configured default deadline', async () => {
    expect((await home.run(['config', 'set', 'runTimeoutSec', '1234'])).code).toBe(0);
    expect((await home.run(['route', 'add', 'custom/m', '--endpoint', 'http://127.0.0.1:9/v1', '--name', 'm'])).code).toBe(0);
    await home.run(['run', 'hi']);
    const started = home.log().find((l) => l.msg === 'exec start') as { timeout_ms: number };
    expect(started.timeout_ms).toBe(1_234_000);
  });

  it('a damaged settings file is reported (STATE_CORRUPT), never replaced by defaults', async () => {
    mkdirSync(join(home.dir, 'logos', 'config'), { recursive: true });
    writeFileSync(file(), '{"runTimeoutSec": "ten"}');
    for (const args of [['route', 'list'], ['config', 'set', 'runTimeoutSec', '5']]) {
      const r = await home.run([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(6);
      expect(JSON.parse(r.stdout).error.code).toBe('STATE_CORRUPT');
    }
    expect(readFileSync(file(), 'utf8')).toBe('{"runTimeoutSec": "ten"}');
  });
});
