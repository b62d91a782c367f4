import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The only place that reads HOME / XDG_* / LOGOS_HOME.
 * With LOGOS_HOME set, everything lives below it (tests, portable installs);
 * otherwise the XDG base directories are used.
 */
export interface LogosPaths {
  home?: string;
  config: string;
  state: string;
  data: string;
  /** The unified debug log's directory (its files: log/files.ts). */
  logs: string;
  runtime: string;
  credentials: string;
  credentialsFile: string;
  /** The daemon's pid file and bearer token (a 0700 directory). */
  daemonDir: string;
  daemonPidFile: string;
  daemonTokenFile: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): LogosPaths {
  const home = env.LOGOS_HOME;
  if (home) {
    return build({
      home,
      config: join(home, 'config'),
      state: join(home, 'state'),
      data: join(home, 'data'),
      runtime: join(home, 'run'),
    });
  }
  const userHome = env.HOME || homedir();
  const config = join(env.XDG_CONFIG_HOME || join(userHome, '.config'), 'logos');
  const state = join(env.XDG_STATE_HOME || join(userHome, '.local', 'state'), 'logos');
  const data = join(env.XDG_DATA_HOME || join(userHome, '.local', 'share'), 'logos');
  const runtime = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'logos') : join(state, 'run');
  return build({ config, state, data, runtime });
}

function build(p: { home?: string; config: string; state: string; data: string; runtime: string }): LogosPaths {
  const logs = join(p.state, 'logs');
  const credentials = join(p.config, 'credentials');
  const out: LogosPaths = {
    config: p.config,
    state: p.state,
    data: p.data,
    logs,
    runtime: p.runtime,
    credentials,
    credentialsFile: join(credentials, 'credentials.json'),
    daemonDir: join(p.state, 'daemon'),
    daemonPidFile: join(p.state, 'daemon', 'daemon.pid'),
    daemonTokenFile: join(p.state, 'daemon', 'token'),
  };
  if (p.home) out.home = p.home;
  return out;
}

/** Where a systemd user unit goes (`logos daemon install`). */
export function systemdUserUnit(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'systemd', 'user', name);
}

/** LOGOS_HOME when set (a unit or a child process must keep it). */
export function logosHomeSetting(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.LOGOS_HOME || undefined;
}

/** Environment values Logos reads besides paths, collected here so the rest of src never touches process.env directly for them. */
export function envValue(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The OpenShell CLI's own config directory (`${XDG_CONFIG_HOME:-~/.config}/openshell`),
 * where it keeps `active_gateway`. Logos reads it only to put back the user's active
 * gateway after `openshell gateway add`, which would otherwise switch it.
 */
export function openshellConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'openshell');
}
