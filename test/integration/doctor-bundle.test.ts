import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHome, type Home } from '../helpers/logos.js';

/** `logos doctor` and `logos debug bundle`, through the real binary. */

let home: Home;
beforeEach(() => {
  home = makeHome();
});
afterEach(() => home.cleanup());

const L = (...p: string[]): string => join(home.dir, 'logos', ...p);

interface Check {
  check: string;
  status: string;
  code: string;
  fix?: string;
}

describe('logos doctor', () => {
  it('checks everything, fails on an unsafe credentials file with the fix, and --fix repairs it', async () => {
    expect((await home.run(['creds', 'set', 'openai', '--key-stdin'], { input: 'sk-doctor-0123456789abcdef' })).code).toBe(0);
    chmodSync(L('config', 'credentials', 'credentials.json'), 0o644);
    const r = await home.run(['doctor', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => c.check)).toEqual(expect.arrayContaining(['node', 'bubblewrap', 'openshell', 'docker', 'state directory', 'log directory', 'config directory', 'credentials file', 'daemon']));
    expect(report.checks.find((c) => c.check === 'bubblewrap')).toMatchObject({ status: 'OK' });
    expect(report.checks.find((c) => c.check === 'credentials file')).toMatchObject({ status: 'FAIL', code: 'PERMISSION_NOT_600', fix: expect.stringContaining('fix-permissions') });
    expect(report.checks.find((c) => c.check === 'daemon')).toMatchObject({ status: 'WARN', code: 'DAEMON_NOT_RUNNING' });
    const human = await home.run(['doctor']);
    expect(human.stdout).toMatch(/FAIL credentials file/);
    expect(human.stdout).toContain('fix: logos creds fix-permissions');
    const fixed = await home.run(['doctor', '--fix', '--json']);
    expect(fixed.code, fixed.stdout).toBe(0);
    expect((JSON.parse(fixed.stdout) as { checks: Check[] }).checks.find((c) => c.check === 'credentials file')).toMatchObject({ status: 'OK', fixed: true });
    expect((await home.run(['creds', 'list'])).code).toBe(0);
  });

  it('a route whose provider has no key is a failing provider check with the command that fixes it', async () => {
    expect((await home.run(['route', 'add', 'openai/gpt-4o-mini', '--no-gateway'])).code).toBe(0);
    const r = await home.run(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as { checks: Check[] };
    expect(report.checks.find((c) => c.check === 'provider openai')).toMatchObject({ status: 'FAIL', code: 'NO_CONFIG', fix: expect.stringContaining('logos creds set openai') });
    expect(r.code).toBe(1);
  });
});

describe('logos debug bundle', () => {
  it('holds versions, settings, status, doctor, log and runs, and none of the secrets planted everywhere', async () => {
    const vaultKey = 'sk-ant-VAULTCANARY-0123456789abcdef';
    const envKey = 'sk-ENVCANARY-0123456789abcdefghij';
    const odd = 'zzOddShapedEnvSecret42zz';
    const urlPass = 'URLPASSCANARY9876';
    const logKey = 'sk-LOGCANARY-0123456789abcdefgh';
    expect((await home.run(['creds', 'set', 'anthropic', '--key-stdin'], { input: vaultKey })).code).toBe(0);
    expect((await home.run(['route', 'add', 'custom/m', '--endpoint', 'http://127.0.0.1:9/v1', '--name', 'm', '--no-gateway'])).code).toBe(0);
    // A settings value and a route endpoint with credentials in it, written by hand.
    writeFileSync(L('config', 'config.json'), JSON.stringify({ binaries: { openshell: '/opt/sk-CONFIGCANARY-0123456789/openshell' } }));
    const routes = JSON.parse(readFileSync(L('state', 'routes.json'), 'utf8')) as { routes: Record<string, { endpoint: string }> };
    (routes.routes.m as { endpoint: string }).endpoint = `http://someone:${urlPass}@127.0.0.1:9/v1`;
    writeFileSync(L('state', 'routes.json'), JSON.stringify(routes));
    // A log record carrying a key (say, from an older version that did not mask it).
    mkdirSync(L('state', 'logs'), { recursive: true });
    appendFileSync(L('state', 'logs', 'logos.1.jsonl'), `${JSON.stringify({ ts: new Date().toISOString(), level: 'error', source: 'cli', msg: `upstream said: invalid key ${logKey} and ${vaultKey}` })}\n`);
    const out = join(home.dir, 'bundle.json');
    const r = await home.run(['debug', 'bundle', '-o', out], { env: { OPENAI_API_KEY: envKey, MY_SERVICE_TOKEN: odd } });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    const bundle = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(bundle)).toEqual(expect.arrayContaining(['versions', 'config', 'status', 'doctor', 'log', 'runs']));
    expect((bundle.versions as { bwrap: string }).bwrap).toMatch(/bubblewrap/);
    expect(text).toContain('upstream said: invalid key'); // the record is there …
    for (const secret of [vaultKey, envKey, odd, urlPass, logKey, 'CONFIGCANARY-0123456789']) expect(text, secret).not.toContain(secret); // … its secrets are not
    expect((await import('node:fs')).statSync(out).mode & 0o777).toBe(0o600);
    // And it refuses to overwrite.
    expect((await home.run(['debug', 'bundle', '-o', out])).code).toBe(4);
  });
});
