import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Conf from 'conf';
import type { Schema } from 'conf';
import { LogosError } from '../core/errors.js';
import { isObject } from '../core/records.js';
import type { LogosPaths } from './paths.js';

/**
 * User settings (config.json in the config dir). State lives in state files, not here.
 * Every command reads the file directly (cheap); `logos config set` writes it through
 * conf, which checks each value against SCHEMA and writes atomically.
 */
export interface LogosConfig {
  /** Driver for new sandboxes: auto picks openshell when it is installed, else local. */
  defaultDriver: 'auto' | 'local' | 'openshell';
  /** Program paths; a bare name is looked up on PATH (tests point these at fakes). */
  binaries: { bwrap: string; openshell: string; docker: string; node: string };
  /** Default deadline for `logos run`, in seconds. */
  runTimeoutSec: number;
  /**
   * A custom worker (protocol v1, see docs/worker-protocol.md) to run in local
   * sandboxes instead of the bundled one. Empty: the bundled worker.
   */
  workerFile: string;
  /** Ports tried for local gateways. */
  gatewayPortRange: [number, number];
  /** The unified log starts its next file (logos.N.jsonl) when one grows past this many bytes, while running too. */
  logRotateBytes: number;
  /** Where the daemon listens. Off loopback every request needs the token, /health included. */
  daemonHost: string;
  daemonPort: number;
  /** The daemon probes providers and gateways about this often (seconds, jittered ±20%). */
  daemonProbeSec: number;
  /** The daemon looks at sandboxes on gateways (one openshell call each) about this often; local ones every 2 s. */
  daemonSandboxSec: number;
  /** Drive an OpenShell 0.1.x CLI newer than the tested 0.1.10 as if it were 0.1.10. */
  openshellAllowNewer: boolean;
  /**
   * The image new OpenShell sandboxes are made from ('' = the default for the line: the
   * community base on 0.0.x, Logos' own `logos-sandbox:<version>` on 0.1.x). Set by
   * `logos image push|pull` to a reference pinned by digest.
   */
  sandboxImage: string;
  /** `logos image build|pull` refuse below this much free disk where docker keeps images. */
  imageMinFreeDiskBytes: number;
  /** `logos image build|pull` refuse below this much available memory. */
  imageMinFreeMemBytes: number;
}

export const CONFIG_DEFAULTS: LogosConfig = {
  defaultDriver: 'auto',
  binaries: { bwrap: 'bwrap', openshell: 'openshell', docker: 'docker', node: process.execPath },
  runTimeoutSec: 600,
  workerFile: '',
  gatewayPortRange: [17670, 17699],
  logRotateBytes: 20 * 1024 * 1024,
  daemonHost: '127.0.0.1',
  daemonPort: 17600,
  daemonProbeSec: 30,
  daemonSandboxSec: 15,
  openshellAllowNewer: false,
  sandboxImage: '',
  imageMinFreeDiskBytes: 4 * 1024 ** 3,
  imageMinFreeMemBytes: 1024 ** 3,
};

const binary = { type: 'string', minLength: 1 } as const;

/** What each setting may hold; `logos config set` refuses anything else. */
export const CONFIG_SCHEMA = {
  defaultDriver: { type: 'string', enum: ['auto', 'local', 'openshell'], description: 'driver for new sandboxes (auto: openshell when installed, else local)' },
  binaries: {
    type: 'object',
    properties: { bwrap: binary, openshell: binary, docker: binary, node: binary },
    additionalProperties: false,
    description: 'program paths (a bare name is looked up on PATH)',
  },
  runTimeoutSec: { type: 'integer', minimum: 1, maximum: 24 * 86_400, description: 'default deadline of `logos run`, in seconds' },
  workerFile: { type: 'string', description: 'a custom protocol-v1 worker for local sandboxes (empty: the bundled one)' },
  gatewayPortRange: {
    type: 'array',
    items: { type: 'integer', minimum: 1, maximum: 65535 },
    minItems: 2,
    maxItems: 2,
    description: 'first and last port tried for local gateways',
  },
  logRotateBytes: { type: 'integer', minimum: 65536, description: 'rotate the unified log past this size' },
  daemonHost: { type: 'string', minLength: 1, description: 'address the daemon listens on (127.0.0.1; another address requires the token for everything)' },
  daemonPort: { type: 'integer', minimum: 0, maximum: 65535, description: 'port the daemon listens on (0: any free port)' },
  daemonProbeSec: { type: 'integer', minimum: 1, maximum: 86_400, description: 'how often the daemon probes providers and gateways, in seconds (jittered ±20%)' },
  daemonSandboxSec: { type: 'integer', minimum: 1, maximum: 86_400, description: 'how often the daemon asks gateways for their sandboxes’ phases, in seconds' },
  openshellAllowNewer: { type: 'boolean', description: 'drive an OpenShell 0.1.x newer than the tested 0.1.10 (at your own risk)' },
  sandboxImage: { type: 'string', maxLength: 512, description: "image for new OpenShell sandboxes ('' = the line's default; `logos image push|pull` pin one by digest)" },
  imageMinFreeDiskBytes: { type: 'integer', minimum: 0, description: 'free disk `logos image build|pull` need where docker keeps images' },
  imageMinFreeMemBytes: { type: 'integer', minimum: 0, description: 'available memory `logos image build|pull` need' },
} as const;

export const CONFIG_FILE = 'config.json';

export function configFile(paths: LogosPaths): string {
  return join(paths.config, CONFIG_FILE);
}

function corrupt(file: string, why: string): LogosError {
  return new LogosError('STATE_CORRUPT', `The settings file ${file} ${why}.`, {
    hint: `Fix it (\`logos config list\` shows what is in effect) or remove it to go back to the defaults; routes, sandboxes and keys live in other files.`,
    details: { file },
  });
}

/** Settings with defaults filled in. A missing file means the defaults; a damaged one is an error, never ignored. */
export function loadConfig(paths: LogosPaths): LogosConfig {
  const file = configFile(paths);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(CONFIG_DEFAULTS);
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw corrupt(file, 'is not valid JSON');
  }
  if (!isObject(v)) throw corrupt(file, 'is not a JSON object');
  const out: LogosConfig = { ...structuredClone(CONFIG_DEFAULTS) };
  const bad = (key: string): never => {
    throw corrupt(file, `has an invalid ${key}`);
  };
  if (v.defaultDriver !== undefined) {
    if (v.defaultDriver !== 'auto' && v.defaultDriver !== 'local' && v.defaultDriver !== 'openshell') bad('defaultDriver');
    out.defaultDriver = v.defaultDriver as LogosConfig['defaultDriver'];
  }
  if (v.binaries !== undefined) {
    if (!isObject(v.binaries)) bad('binaries');
    for (const [k, p] of Object.entries(v.binaries as Record<string, unknown>)) {
      if (!(k in out.binaries) || typeof p !== 'string' || p === '') bad(`binaries.${k}`);
      out.binaries[k as keyof LogosConfig['binaries']] = p as string;
    }
  }
  const int = (key: 'runTimeoutSec' | 'logRotateBytes' | 'daemonPort' | 'daemonProbeSec' | 'daemonSandboxSec' | 'imageMinFreeDiskBytes' | 'imageMinFreeMemBytes', min: number, max: number): void => {
    const n = v[key];
    if (n === undefined) return;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) bad(key);
    out[key] = n as number;
  };
  int('runTimeoutSec', 1, 24 * 86_400);
  int('logRotateBytes', 65536, Number.MAX_SAFE_INTEGER);
  int('daemonPort', 0, 65535);
  int('daemonProbeSec', 1, 86_400);
  int('daemonSandboxSec', 1, 86_400);
  if (v.daemonHost !== undefined) {
    if (typeof v.daemonHost !== 'string' || v.daemonHost === '' || /[\s/]/.test(v.daemonHost)) bad('daemonHost');
    out.daemonHost = v.daemonHost as string;
  }
  int('imageMinFreeDiskBytes', 0, Number.MAX_SAFE_INTEGER);
  int('imageMinFreeMemBytes', 0, Number.MAX_SAFE_INTEGER);
  if (v.openshellAllowNewer !== undefined) {
    if (typeof v.openshellAllowNewer !== 'boolean') bad('openshellAllowNewer');
    out.openshellAllowNewer = v.openshellAllowNewer as boolean;
  }
  if (v.sandboxImage !== undefined) {
    // An image reference: no whitespace or control characters (it goes on an openshell argv).
    if (typeof v.sandboxImage !== 'string' || v.sandboxImage.length > 512 || /[\s\u0000-\u001f\u007f]/.test(v.sandboxImage)) bad('sandboxImage');
    out.sandboxImage = v.sandboxImage as string;
  }
  if (v.workerFile !== undefined) {
    if (typeof v.workerFile !== 'string') bad('workerFile');
    out.workerFile = v.workerFile as string;
  }
  if (v.gatewayPortRange !== undefined) {
    const r = v.gatewayPortRange as unknown[];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((p) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535) || (r[0] as number) > (r[1] as number)) bad('gatewayPortRange');
    out.gatewayPortRange = [r[0] as number, r[1] as number];
  }
  return out;
}

export type ConfigStore = Conf<LogosConfig>;

/** The settings file as a conf store, for `logos config set|unset` (loads conf and its schema checker on demand). */
export async function openConfigStore(paths: LogosPaths): Promise<ConfigStore> {
  const { default: ConfCtor } = await import('conf');
  try {
    return new ConfCtor<LogosConfig>({
      cwd: paths.config,
      configName: 'config',
      schema: CONFIG_SCHEMA as unknown as Schema<LogosConfig>,
      clearInvalidConfig: false,
      projectSuffix: '',
    });
  } catch (err) {
    throw new LogosError('STATE_CORRUPT', `The settings in ${configFile(paths)} could not be read: ${(err as Error).message}`, {
      hint: `Fix or remove ${configFile(paths)} (settings only; routes, sandboxes and keys live in other files).`,
      cause: err,
    });
  }
}
