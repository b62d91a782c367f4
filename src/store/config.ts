import Conf from 'conf';
import { LogosError } from '../core/errors.js';
import type { LogosPaths } from './paths.js';

/** User settings (config.json in the config dir). State lives in state files, not here. */
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
  /** The unified log moves to logos.jsonl.1 when it grows past this many bytes (checked while running too). */
  logRotateBytes: number;
}

export const CONFIG_DEFAULTS: LogosConfig = {
  defaultDriver: 'auto',
  binaries: { bwrap: 'bwrap', openshell: 'openshell', docker: 'docker', node: process.execPath },
  runTimeoutSec: 600,
  workerFile: '',
  gatewayPortRange: [17670, 17699],
  logRotateBytes: 20 * 1024 * 1024,
};

export type ConfigStore = Conf<LogosConfig>;

export function openConfig(paths: LogosPaths): ConfigStore {
  try {
    return new Conf<LogosConfig>({
      cwd: paths.config,
      configName: 'config',
      defaults: CONFIG_DEFAULTS,
      clearInvalidConfig: false,
      projectSuffix: '',
    });
  } catch (err) {
    throw new LogosError('STATE_CORRUPT', `The config file in ${paths.config} could not be read: ${(err as Error).message}`, {
      hint: `Fix or remove ${paths.config}/config.json (settings only; routes, sandboxes and keys live in other files).`,
      cause: err,
    });
  }
}

/** Settings with defaults filled in, as a plain object. */
export function readConfig(store: ConfigStore): LogosConfig {
  const v = store.store;
  return {
    ...CONFIG_DEFAULTS,
    ...v,
    binaries: { ...CONFIG_DEFAULTS.binaries, ...(v.binaries ?? {}) },
  };
}
