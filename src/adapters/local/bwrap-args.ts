import { dirname } from 'node:path';

/** Where things appear inside a local sandbox. */
export const IN_SANDBOX = {
  workdir: '/sandbox',
  worker: '/opt/logos/worker.mjs',
  socketDir: '/run/logos',
  socket: '/run/logos/inference.sock',
  workerLog: '/sandbox/.logos/worker.jsonl',
} as const;

/** Host files under /etc that programs need; the rest of /etc (shadow, keys, configs) stays out. */
const ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/localtime',
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/ssl',
  '/etc/ca-certificates',
];

export interface BwrapSpec {
  /** Host directory mounted read-write at /sandbox: the only writable place that outlives the task. */
  workdir: string;
  /** The worker bundle on the host, mounted read-only. */
  workerFile: string;
  /** Node on the host; its directory is mounted read-only when it lives outside /usr. */
  nodePath: string;
  /** The host-side inference proxy's Unix socket. */
  socketPath: string;
  /** Extra environment for the worker (names and values must not be secrets). */
  env?: Record<string, string>;
}

/**
 * bwrap argv for one task. No network (--unshare-all), a private /tmp and /proc,
 * read-only system dirs, a clean environment (--clearenv: host keys never enter),
 * no capabilities, and the sandbox dies with its parent.
 */
export function buildBwrapArgs(spec: BwrapSpec): string[] {
  const args = [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/usr',
    '/usr',
    '--ro-bind-try',
    '/lib',
    '/lib',
    '--ro-bind-try',
    '/lib64',
    '/lib64',
    '--ro-bind-try',
    '/lib32',
    '/lib32',
    '--ro-bind-try',
    '/bin',
    '/bin',
    '--ro-bind-try',
    '/sbin',
    '/sbin',
  ];
  for (const f of ETC_FILES) args.push('--ro-bind-try', f, f);
  const nodeDir = dirname(spec.nodePath);
  if (!/^\/(usr|bin|sbin|lib)(\/|$)/.test(nodeDir)) args.push('--ro-bind', nodeDir, nodeDir);
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--bind',
    spec.workdir,
    IN_SANDBOX.workdir,
    '--ro-bind',
    spec.workerFile,
    IN_SANDBOX.worker,
    '--dir',
    IN_SANDBOX.socketDir,
    '--bind',
    spec.socketPath,
    IN_SANDBOX.socket,
    '--chdir',
    IN_SANDBOX.workdir,
  );
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: IN_SANDBOX.workdir,
    LANG: 'C.UTF-8',
    LOGOS_INFERENCE_SOCKET: IN_SANDBOX.socket,
    LOGOS_WORKER_LOG: IN_SANDBOX.workerLog,
    ...spec.env,
  };
  for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
  args.push('--', spec.nodePath, IN_SANDBOX.worker);
  return args;
}
