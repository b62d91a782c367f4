import { chmod, mkdir, stat } from 'node:fs/promises';
import { LogosError } from '../core/errors.js';
import { hasOwn, isObject, isRecordMap, own } from '../core/records.js';
import { maskSecret, registerSecret } from '../core/redact.js';
import { JsonFile } from './json-file.js';
import type { LogosPaths } from './paths.js';

/**
 * Provider credentials: credentials.json (mode 0600) in a 0700 directory.
 * The modes are checked on every read; a wrong mode is an error with a fix,
 * never silently accepted. A damaged file is moved aside, never emptied.
 */

interface VaultFile {
  version: 1;
  keys: Record<string, { value: string; updated_at: string }>;
}

export interface CredentialInfo {
  provider: string;
  source: 'vault' | 'env';
  masked: string;
  updatedAt?: string;
  envVar?: string;
}

export class Vault {
  private readonly file: JsonFile<VaultFile>;

  /** `env`: where keys not in the vault are looked up (the caller's environment, passed in). */
  constructor(
    private readonly paths: LogosPaths,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {
    this.file = new JsonFile<VaultFile>(paths.credentialsFile, {
      empty: () => ({ version: 1, keys: {} }),
      mode: 0o600,
      dirMode: 0o700,
      validate: (v) => isObject(v) && isRecordMap(v.keys, (k) => typeof k.value === 'string' && typeof k.updated_at === 'string', false),
    });
  }

  /**
   * The dir and the file that others can read or write, with the mode each should have
   * (missing ones are fine; stricter modes such as a 0400 file are fine too).
   */
  private async wrongModes(): Promise<Array<{ path: string; mode: number; want: number }>> {
    const out: Array<{ path: string; mode: number; want: number }> = [];
    for (const [path, want] of [
      [this.paths.credentials, 0o700],
      [this.paths.credentialsFile, 0o600],
    ] as const) {
      try {
        const mode = (await stat(path)).mode & 0o777;
        if ((mode & 0o077) !== 0) out.push({ path, mode, want });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return out;
  }

  /** Throws PERMISSION_NOT_600 when the dir is not 0700 or the file not 0600. */
  async checkPermissions(): Promise<void> {
    const oct = (m: number): string => m.toString(8).padStart(4, '0');
    const problems = (await this.wrongModes()).map((w) => `${w.path} has mode ${oct(w.mode)} (want ${oct(w.want)})`);
    if (problems.length > 0) {
      throw new LogosError('PERMISSION_NOT_600', `The credentials file is readable by others: ${problems.join('; ')}.`, {
        hint: 'Run `logos creds fix-permissions` (sets the directory to 0700 and the file to 0600).',
        details: { problems },
      });
    }
  }

  async fixPermissions(): Promise<string[]> {
    const wrong = await this.wrongModes();
    for (const w of wrong) await chmod(w.path, w.want);
    return wrong.map((w) => w.path);
  }

  private async ensureDir(): Promise<void> {
    await mkdir(this.paths.credentials, { recursive: true, mode: 0o700 });
  }

  private async load(): Promise<VaultFile> {
    await this.checkPermissions();
    const v = await this.file.read();
    for (const k of Object.values(v.keys)) registerSecret(k.value);
    return v;
  }

  async set(provider: string, value: string, now = new Date()): Promise<void> {
    if (!value || /^\s*$/.test(value)) {
      throw new LogosError('INVALID_ARGUMENT', 'The key is empty.', { hint: 'Pipe the key on stdin: `printf %s "$KEY" | logos creds set openai --key-stdin`.' });
    }
    await this.ensureDir();
    await this.checkPermissions();
    registerSecret(value);
    await this.file.update((v) => {
      v.keys[provider] = { value, updated_at: now.toISOString() };
    });
  }

  async remove(provider: string): Promise<boolean> {
    await this.checkPermissions();
    return this.file.update((v) => {
      const had = hasOwn(v.keys, provider);
      delete v.keys[provider];
      return had;
    });
  }

  /** The stored key, or the provider's environment variable as a fallback. */
  async get(provider: string, envVar: string | undefined, env: NodeJS.ProcessEnv = this.env): Promise<{ value: string; source: 'vault' | 'env' } | undefined> {
    const v = await this.load();
    const stored = own(v.keys, provider);
    if (stored) return { value: stored.value, source: 'vault' };
    const fromEnv = envVar ? env[envVar] : undefined;
    if (fromEnv) {
      registerSecret(fromEnv);
      return { value: fromEnv, source: 'env' };
    }
    return undefined;
  }

  async list(envVars: Record<string, string | undefined>, env: NodeJS.ProcessEnv = this.env): Promise<CredentialInfo[]> {
    const v = await this.load();
    const out: CredentialInfo[] = [];
    for (const [provider, k] of Object.entries(v.keys)) {
      out.push({ provider, source: 'vault', masked: maskSecret(k.value), updatedAt: k.updated_at });
    }
    for (const [provider, envVar] of Object.entries(envVars)) {
      if (!envVar || own(v.keys, provider)) continue;
      const val = env[envVar];
      if (val) {
        registerSecret(val);
        out.push({ provider, source: 'env', masked: maskSecret(val), envVar });
      }
    }
    return out.sort((a, b) => a.provider.localeCompare(b.provider));
  }
}
