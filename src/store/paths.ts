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
  logs: string;
  runtime: string;
  /** The unified debug log. */
  logFile: string;
  credentials: string;
  credentialsFile: string;
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
    logFile: join(logs, 'logos.jsonl'),
    credentials,
    credentialsFile: join(credentials, 'credentials.json'),
  };
  if (p.home) out.home = p.home;
  return out;
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
