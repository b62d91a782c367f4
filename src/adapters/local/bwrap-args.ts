import { basename, dirname, posix } from 'node:path';

/** The inference proxy's socket in a task's directory (IN_SANDBOX.socket inside). */
export const SOCKET_NAME = 'inference.sock';

/** Where things appear inside a local sandbox. */
export const IN_SANDBOX = {
  workdir: '/sandbox',
  worker: '/opt/logos/worker.mjs',
  /** Node's directory when it lives outside the system directories (nvm, volta, a tarball). */
  nodeDir: '/opt/logos/node',
  socketDir: '/run/logos',
  socket: '/run/logos/inference.sock',
  workerLog: '/sandbox/.logos/worker.jsonl',
} as const;

/** Host files under /etc that programs need; the rest of /etc (shadow, keys, configs, the host's users) stays out. */
const ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
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
  /** Node on the host; its directory is mounted read-only at /opt/logos/node when it lives outside /usr. */
  nodePath: string;
  /**
   * The task's own host directory for the inference proxy's Unix socket
   * (`inference.sock`), mounted read-only at /run/logos: the sandbox starts before the
   * proxy listens (the socket appears in it later) and can create nothing there.
   */
  socketDir: string;
  /** The uid/gid the worker runs as (for the sandbox's own /etc/passwd and /etc/group). */
  uid?: number;
  gid?: number;
  /** Extra environment for the worker (names and values must not be secrets). */
  env?: Record<string, string>;
  /**
   * The zone file the host's /etc/localtime links to (see {@link localtimeTarget}): the
   * sandbox gets the same link, which is how ICU names the zone. A copy of the file would
   * make every `new Date()` in Node scan all of /usr/share/zoneinfo for a match first (~10 ms).
   * Undefined: /etc/localtime is bound as a file, when the host has one.
   */
  localtime?: string | undefined;
}

/**
 * Where the host's /etc/localtime points, when it is a link into the system
 * directories the sandbox also has (/usr/share/zoneinfo/...); otherwise undefined.
 * `readlink` is how it is read, so tests pass their own.
 */
export function localtimeTarget(readlink: (path: string) => string): string | undefined {
  let target: string;
  try {
    target = readlink('/etc/localtime');
  } catch {
    return undefined; // a plain file, or none
  }
  const abs = posix.resolve('/etc', target);
  return isSystemPath(abs) && !/[\0\n]/.test(abs) ? abs : undefined;
}

/** File descriptors the bwrap child gets, in order from 3. */
export const ARGS_FD = 3;
const PASSWD_FD = 4;
const GROUP_FD = 5;

/** The path node has inside the sandbox. */
export function nodeInSandbox(nodePath: string): string {
  return isSystemPath(dirname(nodePath)) ? nodePath : `${IN_SANDBOX.nodeDir}/${basename(nodePath)}`;
}

function isSystemPath(p: string): boolean {
  return /^\/(usr|bin|sbin|lib)(\/|$)/.test(p);
}

/**
 * The sandbox's /etc/passwd and /etc/group: root, the worker's own user and
 * nobody. The host's account list (names, home directories) stays out.
 */
export function sandboxAccounts(uid: number, gid: number): { passwd: string; group: string } {
  const users = ['root:x:0:0:root:/root:/usr/sbin/nologin'];
  const groups = ['root:x:0:'];
  if (uid !== 0) users.push(`sandbox:x:${uid}:${gid}:Logos sandbox:${IN_SANDBOX.workdir}:/bin/sh`);
  if (gid !== 0) groups.push(`sandbox:x:${gid}:`);
  users.push('nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin');
  groups.push('nogroup:x:65534:');
  return { passwd: `${users.join('\n')}\n`, group: `${groups.join('\n')}\n` };
}

/**
 * bwrap options for one task (everything before the command). No network
 * (--unshare-all), a private /tmp and /proc, read-only system dirs, a clean
 * environment (--clearenv: host keys never enter), no capabilities, and the
 * sandbox dies with its parent.
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
  if (spec.localtime) args.push('--symlink', spec.localtime, '/etc/localtime');
  else args.push('--ro-bind-try', '/etc/localtime', '/etc/localtime');
  args.push('--ro-bind-data', String(PASSWD_FD), '/etc/passwd', '--ro-bind-data', String(GROUP_FD), '/etc/group');
  const nodeDir = dirname(spec.nodePath);
  if (!isSystemPath(nodeDir)) args.push('--ro-bind', nodeDir, IN_SANDBOX.nodeDir);
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
    '--ro-bind',
    spec.socketDir,
    IN_SANDBOX.socketDir,
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
  return args;
}

/**
 * How bwrap is started: its options (host paths included) go through a pipe
 * (`--args FD`), so the sandbox, which sees bwrap as its PID 1, finds only
 * `bwrap --args 3 -- node /opt/logos/worker.mjs` in /proc/1/cmdline. The
 * sandbox's /etc/passwd and /etc/group come through pipes too.
 */
export function bwrapInvocation(spec: BwrapSpec): { argv: string[]; fds: Uint8Array[] } {
  const accounts = sandboxAccounts(spec.uid ?? 0, spec.gid ?? 0);
  const enc = new TextEncoder();
  const options = buildBwrapArgs(spec);
  return {
    argv: ['--args', String(ARGS_FD), '--', nodeInSandbox(spec.nodePath), IN_SANDBOX.worker],
    fds: [enc.encode(`${options.join('\0')}\0`), enc.encode(accounts.passwd), enc.encode(accounts.group)],
  };
}
