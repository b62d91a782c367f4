import { LocalDriver } from '../adapters/local/driver.js';
import { findExecutable } from '../adapters/exec/which.js';
import { discoverEndpoint } from '../adapters/providers/discover.js';
import { systemClock, type Logger } from '../core/context.js';
import { LogosError } from '../core/errors.js';
import { emptyRoutes, type RouteContext, type RoutesFile } from '../core/routes.js';
import type { RunTaskContext } from '../core/run-task.js';
import { emptySandboxes, type DriverKind, type SandboxContext, type SandboxDriver, type SandboxesFile } from '../core/sandboxes.js';
import { createFileLogger } from '../log/logger.js';
import { openConfig, readConfig, type LogosConfig } from '../store/config.js';
import { JsonFile } from '../store/json-file.js';
import { envValue, resolvePaths, type LogosPaths } from '../store/paths.js';
import { FileRunStore } from '../store/runs-store.js';
import { Vault } from '../store/vault.js';
import { join } from 'node:path';
import { prepareRoute } from './prepare-route.js';

/** Everything a command needs, wired once per process. Built lazily so `--help` and `--version` stay fast. */
export interface App {
  paths: LogosPaths;
  config: LogosConfig;
  logger: Logger;
  vault: Vault;
  routes: JsonFile<RoutesFile>;
  sandboxes: JsonFile<SandboxesFile>;
  runs: FileRunStore;
  driver(kind: DriverKind): SandboxDriver;
  defaultDriver(): DriverKind;
  routeCtx(): RouteContext;
  sandboxCtx(): SandboxContext;
  runCtx(): RunTaskContext;
}

export function createApp(env: NodeJS.ProcessEnv = process.env): App {
  const paths = resolvePaths(env);
  const config = readConfig(openConfig(paths));
  const logger = createFileLogger(paths.logFile, { level: envValue('LOGOS_LOG_LEVEL', env) ?? 'debug', source: 'cli' });
  const vault = new Vault(paths);
  const routes = new JsonFile<RoutesFile>(join(paths.state, 'routes.json'), {
    empty: emptyRoutes,
    validate: (v) => !!v && typeof (v as RoutesFile).routes === 'object',
  });
  const sandboxes = new JsonFile<SandboxesFile>(join(paths.state, 'sandboxes.json'), {
    empty: emptySandboxes,
    validate: (v) => !!v && typeof (v as SandboxesFile).sandboxes === 'object',
  });
  const runs = new FileRunStore(join(paths.state, 'runs'));
  let local: LocalDriver | undefined;
  const workerFile = envValue('LOGOS_WORKER_FILE', env) ?? (config.workerFile || undefined);
  const driver = (kind: DriverKind): SandboxDriver => {
    if (kind === 'local') {
      local ??= new LocalDriver({
        dataDir: paths.data,
        runtimeDir: paths.runtime,
        bwrap: config.binaries.bwrap,
        nodePath: config.binaries.node,
        credentials: { get: (p, e) => vault.get(p, e, env) },
        logger,
        ...(env.PATH ? { pathEnv: env.PATH } : {}),
        ...(workerFile ? { workerFile } : {}),
      });
      return local;
    }
    throw new LogosError('OPENSHELL_MISSING', 'The OpenShell driver is not available in this version of Logos.', {
      hint: 'Use the local driver: `logos sandbox create <name> --driver local`.',
    });
  };
  const defaultDriver = (): DriverKind => {
    if (config.defaultDriver === 'local' || config.defaultDriver === 'openshell') return config.defaultDriver;
    return findExecutable(config.binaries.openshell, env.PATH) ? 'openshell' : 'local';
  };
  const app: App = {
    paths,
    config,
    logger,
    vault,
    routes,
    sandboxes,
    runs,
    driver,
    defaultDriver,
    routeCtx: () => ({ routes, clock: systemClock, logger, discover: (c) => discoverEndpoint(c) }),
    sandboxCtx: () => ({ sandboxes, clock: systemClock, logger, driver }),
    runCtx: () => ({
      routes,
      sandboxes,
      runs,
      clock: systemClock,
      logger,
      driver,
      defaultDriver,
      hostPid: process.pid,
      beforeDispatch: (route, sandbox) => prepareRoute(app, route, sandbox),
    }),
  };
  return app;
}
