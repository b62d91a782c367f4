import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/store/paths.js';
import { Vault } from '../../src/store/vault.js';

let dir: string;
let vault: Vault;
let paths: ReturnType<typeof resolvePaths>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logos-vault-'));
  paths = resolvePaths({ LOGOS_HOME: dir });
  vault = new Vault(paths);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Vault', () => {
  it('stores keys 0600 in a 0700 dir and reads them back', async () => {
    await vault.set('openai', 'sk-test-abcdefghijklmnop');
    expect(statSync(paths.credentials).mode & 0o777).toBe(0o700);
    expect(statSync(paths.credentialsFile).mode & 0o777).toBe(0o600);
    expect(await vault.get('openai', 'OPENAI_API_KEY', {})).toEqual({ value: 'sk-test-abcdefghijklmnop', source: 'vault' });
  });

  it('falls back to the environment variable', async () => {
    expect(await vault.get('openai', 'OPENAI_API_KEY', { OPENAI_API_KEY: 'sk-env-0000000000001234' })).toEqual({ value: 'sk-env-0000000000001234', source: 'env' });
    expect(await vault.get('openai', 'OPENAI_API_KEY', {})).toBeUndefined();
  });

  it('lists keys masked only', async () => {
    await vault.set('anthropic', 'sk-ant-secretsecretsecret9876');
    const list = await vault.list({ anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY' }, { OPENAI_API_KEY: 'sk-fromenv-abcdefgh5555' });
    expect(JSON.stringify(list)).not.toContain('secretsecret');
    expect(JSON.stringify(list)).not.toContain('fromenv-abcdefgh');
    expect(list.map((c) => [c.provider, c.source, c.masked])).toEqual([
      ['anthropic', 'vault', 'sk-ant-…9876'],
      ['openai', 'env', 'sk-…5555'],
    ]);
  });

  it.each([
    ['file', 0o644],
    ['dir', 0o755],
  ])('refuses to read when the %s mode is too open, until fixed', async (which, mode) => {
    await vault.set('openai', 'sk-test-abcdefghijklmnop');
    chmodSync(which === 'file' ? paths.credentialsFile : paths.credentials, mode);
    await expect(vault.get('openai', undefined, {})).rejects.toMatchObject({ code: 'PERMISSION_NOT_600' });
    await expect(vault.set('x', 'abcdefghijkl')).rejects.toMatchObject({ code: 'PERMISSION_NOT_600' });
    expect((await vault.fixPermissions()).length).toBe(1);
    expect((await vault.get('openai', undefined, {}))?.value).toBe('sk-test-abcdefghijklmnop');
  });

  it('keeps a damaged file (moved aside) instead of emptying it', async () => {
    await vault.set('openai', 'sk-test-abcdefghijklmnop');
    writeFileSync(paths.credentialsFile, '{"version":1,"keys":{"openai":', { mode: 0o600 });
    const err = (await vault.get('openai', undefined, {}).catch((e: unknown) => e)) as { code: string; details: { moved_to: string } };
    expect(err.code).toBe('STATE_CORRUPT');
    expect(readFileSync(err.details.moved_to, 'utf8')).toContain('"openai"');
  });

  it('stores keys with shell metacharacters and quotes intact', async () => {
    const key = `k$(echo pwn)\`x\`'"; rm -rf / #|&>`;
    await vault.set('custom', key);
    expect((await vault.get('custom', undefined, {}))?.value).toBe(key);
  });
});
