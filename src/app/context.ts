import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { packageVersion } from '../adapters/assets.js';
import { DockerClient } from '../adapters/docker/client.js';
import { findExecutable } from '../adapters/exec/which.js';
import { LocalDriver } from '../adapters/local/driver.js';
import { OpenShellClient, type VersionCacheFile } from '../adapters/openshell/client.js';
import { OpenShellDriver } from '../adapters/openshell/driver.js';
import { FilePersonas } from '../adapters/personas.js';
import { discoverEndpoint } from '../adapters/providers/discover.js';
import { systemClock, type Logger } from '../core/context.js';
import { routeSandboxSpec, syncRoute, type GatewayRouteContext } from '../core/gateway-routes.js';
import { chooseSandboxImage } from '../core/images.js';
import { DEFAULT_GATEWAY, emptyGateways, type GatewayContext, type GatewaysFile } from '../core/gateways.js';
import type { CredentialSource, PersonaSource } from '../core/ports.js';
import { emptyRoutes, type RouteContext, type RouteRecord, type RoutesFile } from '../core/routes.js';
import type { RunTaskContext } from '../core/run-task.js';
import { emptySandboxes, type DriverKind, type SandboxContext, type SandboxDriver, type SandboxesFile } from '../core/sandboxes.js';
import { createFileLogger } from '../log/logger.js';
import { loadConfig, type LogosConfig } from '../store/config.js';
import { JsonFile, pidAlive } from '../store/json-file.js';
import { envValue, openshellConfigDir, resolvePaths, type LogosPaths } from '../store/paths.js';
import { setOwnerHome } from '../adapters/exec/owner.js';
import { FileRunStore } from '../store/runs-store.js';
import { FileSessionStore } from '../store/sessions-store.js';
import { Vault } from '../store/vault.js';
import { prepareRoute } from './prepare-route.js';
import { own, validEntriesFile, validGatewaysFile, validRoutesFile, validSandboxesFile } from '../core/records.js';

/** With --dry-run: commands are passed to `dryRun` instead of being run; `dryRunNote` says what else happens. */
export interface DryRunOpts {
  dryRun?: (argv: string[]) => void;
  dryRunNote?: (text: string) => void;
}

/** Everything a command needs, wired once per process. Built lazily so `--help` and `--version` stay fast. */
export interface App {
  /** The environment the app was made with (see createApp). */
  env: NodeJS.ProcessEnv;
  paths: LogosPaths;
  config: LogosConfig;
  logger: Logger;
  vault: Vault;
  credentials: CredentialSource;
  routes: JsonFile<RoutesFile>;
  sandboxes: JsonFile<SandboxesFile>;
  gateways: JsonFile<GatewaysFile>;
  runs: FileRunStore;
  sessions: FileSessionStore;
  personas: PersonaSource;
  driver(kind: DriverKind): SandboxDriver;
  /** The driver a new sandbox on this route gets: OpenShell for gateway routes, else local. */
  driverForRoute(route: RouteRecord): DriverKind;
  /** Whether new routes go to an OpenShell gateway by default (config, or openshell installed). */
  openshellByDefault(): boolean;
  openshell(opts?: DryRunOpts): OpenShellClient;
  docker(opts?: { dryRun?: (argv: string[]) => void }): DockerClient;
  routeCtx(): RouteContext;
  sandboxCtx(): SandboxContext;
  runCtx(): RunTaskContext;
  gatewayCtx(opts?: DryRunOpts & { progress?: (msg: string) => void }): GatewayContext;
  gatewayRouteCtx(): GatewayRouteContext;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * The composition root shared by the CLI, the daemon and the dashboard. `env` is the
 * environment to work with (keys, LOGOS_HOME, …): passed in, never read behind the caller's back.
 */
export function createApp(env: NodeJS.ProcessEnv, opts: { source?: string } = {}): App {
  const paths = resolvePaths(env);
  setOwnerHome(paths.state);
  const config = loadConfig(paths);
  const rotateBytes = Number.isSafeInteger(config.logRotateBytes) && config.logRotateBytes >= 64 * 1024 ? config.logRotateBytes : undefined;
  const logger = createFileLogger(paths.logs, { level: envValue('LOGOS_LOG_LEVEL', env) ?? 'debug', source: opts.source ?? 'cli', ...(rotateBytes ? { rotateBytes } : {}) });
  const vault = new Vault(paths, env);
  const credentials: CredentialSource = { get: (p, e) => vault.get(p, e) };
  const state = <T>(file: string, empty: () => T, validate: (v: unknown) => boolean) => new JsonFile<T>(join(paths.state, file), { empty, validate });
  const routes = state<RoutesFile>('routes.json', emptyRoutes, validRoutesFile);
  const sandboxes = state<SandboxesFile>('sandboxes.json', emptySandboxes, validSandboxesFile);
  const gateways = state<GatewaysFile>('gateways.json', emptyGateways, validGatewaysFile);
  const versionCache = state<VersionCacheFile>('openshell-version.json', () => ({ entries: {} }), validEntriesFile);
  const runs = new FileRunStore(join(paths.state, 'runs'));
  const sessions = new FileSessionStore(join(paths.state, 'sessions'));
  const personas = new FilePersonas();
  const workerFile = envValue('LOGOS_WORKER_FILE', env) ?? (config.workerFile || undefined);
  const pathEnv = env.PATH;

  const openshell = (opts: DryRunOpts = {}): OpenShellClient =>
    new OpenShellClient({
      binary: config.binaries.openshell,
      logger,
      allowNewer: config.openshellAllowNewer,
      configDir: openshellConfigDir(env),
      ...(opts.dryRunNote ? { dryRunNote: opts.dryRunNote } : {}),
      versionCache,
      defaultGateway: DEFAULT_GATEWAY,
      ...(pathEnv ? { pathEnv } : {}),
      ...(opts.dryRun ? { dryRun: opts.dryRun } : {}),
    });
  const docker = (opts: { dryRun?: (argv: string[]) => void } = {}): DockerClient =>
    new DockerClient({ binary: config.binaries.docker, logger, ...(pathEnv ? { pathEnv } : {}), ...(opts.dryRun ? { dryRun: opts.dryRun } : {}) });
  let sharedOpenshell: OpenShellClient | undefined;
  const os = (): OpenShellClient => (sharedOpenshell ??= openshell());

  const gatewayRouteCtx = (): GatewayRouteContext => ({
    routes,
    openshell: os(),
    credentials,
    clock: systemClock,
    logger,
    gatewayIsLocal: async (gw) => {
      const rec = own((await gateways.read()).gateways, gw);
      if (rec) return rec.kind === 'local';
      const listed = (await os().gatewayList().catch(() => [])).find((g) => g.name === gw);
      return listed ? listed.type === 'local' : false;
    },
  });

  let local: LocalDriver | undefined;
  let remote: OpenShellDriver | undefined;
  const driver = (kind: DriverKind): SandboxDriver => {
    if (kind === 'local') {
      local ??= new LocalDriver({
        dataDir: paths.data,
        runtimeDir: paths.runtime,
        bwrap: config.binaries.bwrap,
        nodePath: config.binaries.node,
        credentials,
        logger,
        pidAlive,
        ...(pathEnv ? { pathEnv } : {}),
        ...(workerFile ? { workerFile } : {}),
      });
      return local;
    }
    remote ??= new OpenShellDriver({
      openshell: os(),
      logger,
      ...(workerFile ? { workerFile } : {}),
      imageFor: async (line, route) =>
        chooseSandboxImage({
          line,
          configured: config.sandboxImage,
          logosVersion: packageVersion(),
          gateway: route.gateway ?? '',
          gatewayIsLocal: route.gateway ? await gatewayRouteCtx().gatewayIsLocal(route.gateway) : false,
          localImagePresent: (ref) => docker().imagePresent(ref).catch(() => false),
        }),
      sandboxSpec: (route, line) => routeSandboxSpec(gatewayRouteCtx(), route, line),
      // Stale keys and base URLs inside gateways broke dispatch: re-push before every spawn.
      syncRoute: (route) => syncRoute(gatewayRouteCtx(), route),
    });
    return remote;
  };
  const openshellByDefault = (): boolean => {
    if (config.defaultDriver === 'local') return false;
    if (config.defaultDriver === 'openshell') return true;
    return !!findExecutable(config.binaries.openshell, pathEnv);
  };
  const driverForRoute = (route: RouteRecord): DriverKind => (route.gateway ? 'openshell' : 'local');

  const app: App = {
    env,
    paths,
    config,
    logger,
    vault,
    credentials,
    routes,
    sandboxes,
    gateways,
    runs,
    sessions,
    personas,
    driver,
    driverForRoute,
    openshellByDefault,
    openshell,
    docker,
    routeCtx: () => ({ routes, clock: systemClock, logger, discover: (c) => discoverEndpoint(c) }),
    sandboxCtx: () => ({ sandboxes, clock: systemClock, logger, driver }),
    runCtx: () => ({
      routes,
      sandboxes,
      runs,
      sessions,
      personas,
      clock: systemClock,
      logger,
      driver,
      defaultDriver: driverForRoute,
      hostPid: process.pid,
      beforeDispatch: (route, sandbox, signal) => prepareRoute(app, route, sandbox, signal),
    }),
    gatewayCtx: (opts = {}) => ({
      gateways,
      openshell: opts.dryRun ? openshell(opts) : os(),
      docker: docker(opts.dryRun ? { dryRun: opts.dryRun } : {}),
      clock: systemClock,
      logger,
      gatewayDir: (gw) => join(paths.data, 'gateways', gw),
      writeFile: async (p, text) => {
        await mkdir(dirname(p), { recursive: true });
        await writeFile(p, text, { mode: 0o644 });
      },
      ensureDir: async (p) => {
        await mkdir(p, { recursive: true });
      },
      fileExists: (p) => existsSync(p),
      portFree,
      portRange: config.gatewayPortRange,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
    }),
    gatewayRouteCtx,
  };
  return app;
}
