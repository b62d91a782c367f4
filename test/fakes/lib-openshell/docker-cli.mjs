// Fake docker client: flag tables (from the real 28.2.2 `--help`), pflag-style parsing, usage errors.
import { Exit } from './common.mjs';

export const CLIENT_VERSION = '28.2.2';
export const API_VERSION = '1.50';
export const NO_DAEMON = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const ZERO_TIME = '0001-01-01T00:00:00Z';

// Flags per command, from `docker <cmd> --help` of the real 28.2.2 client: [values, bools].
const RUN_VALUES =
  'add-host annotation a|attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent cgroupns cidfile cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period cpu-rt-runtime c|cpu-shares cpus cpuset-cpus cpuset-mems detach-keys device device-cgroup-rule device-read-bps device-read-iops device-write-bps device-write-iops dns dns-option dns-search domainname entrypoint e|env env-file expose gpus group-add health-cmd health-interval health-retries health-start-interval health-start-period health-timeout h|hostname io-maxbandwidth io-maxiops ip ip6 ipc isolation kernel-memory l|label label-file link link-local-ip log-driver log-opt mac-address m|memory memory-reservation memory-swap memory-swappiness mount name network network-alias oom-score-adj pid pids-limit platform p|publish pull restart runtime security-opt shm-size stop-signal stop-timeout storage-opt sysctl tmpfs ulimit u|user userns uts v|volume volume-driver volumes-from w|workdir';
const RUN_BOOLS =
  'disable-content-trust init i|interactive no-healthcheck oom-kill-disable privileged P|publish-all q|quiet read-only rm t|tty use-api-socket';
const FLAGS = {
  run: [RUN_VALUES, `d|detach sig-proxy ${RUN_BOOLS}`],
  create: [RUN_VALUES, RUN_BOOLS],
  ps: ['f|filter format n|last', 'a|all l|latest no-trunc q|quiet s|size'],
  rm: ['', 'f|force l|link v|volumes'],
  stop: ['s|signal t|timeout', ''],
  start: ['checkpoint checkpoint-dir detach-keys', 'a|attach i|interactive'],
  restart: ['s|signal t|timeout', ''],
  inspect: ['f|format type', 's|size'],
  logs: ['since n|tail until', 'details f|follow t|timestamps'],
  pull: ['platform', 'a|all-tags disable-content-trust q|quiet'],
  cp: ['', 'a|archive L|follow-link q|quiet'],
  'image inspect': ['f|format platform', ''],
  'image ls': ['f|filter format', 'a|all digests no-trunc q|quiet tree'],
  'image rm': ['platform', 'f|force no-prune'],
  'volume create': [
    'availability d|driver group label limit-bytes o|opt required-bytes scope secret sharing topology-preferred topology-required type',
    '',
  ],
  'volume rm': ['', 'f|force'],
  'volume ls': ['f|filter format', 'cluster q|quiet'],
  'volume inspect': ['f|format', ''],
  version: ['f|format', ''],
  info: ['f|format', ''],
  build: ['add-host build-arg cache-from f|file label network platform progress secret ssh t|tag target', 'no-cache pull q|quiet load push'],
  tag: ['', ''],
  push: ['platform', 'a|all-tags disable-content-trust q|quiet'],
};
const MULTI = new Set(['env', 'publish', 'volume', 'label', 'group-add', 'add-host', 'filter', 'tag', 'build-arg', 'mount', 'expose', 'dns', 'cap-add', 'cap-drop', 'opt']);

export const USAGE = {
  run: 'docker run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  create: 'docker create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  ps: 'docker ps [OPTIONS]',
  rm: 'docker rm [OPTIONS] CONTAINER [CONTAINER...]',
  stop: 'docker stop [OPTIONS] CONTAINER [CONTAINER...]',
  start: 'docker start [OPTIONS] CONTAINER [CONTAINER...]',
  restart: 'docker restart [OPTIONS] CONTAINER [CONTAINER...]',
  inspect: 'docker inspect [OPTIONS] NAME|ID [NAME|ID...]',
  logs: 'docker logs [OPTIONS] CONTAINER',
  pull: 'docker pull [OPTIONS] NAME[:TAG|@DIGEST]',
  cp: 'docker cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  'image inspect': 'docker image inspect [OPTIONS] IMAGE [IMAGE...]',
  'image ls': 'docker image ls [OPTIONS] [REPOSITORY[:TAG]]',
  'image rm': 'docker image rm [OPTIONS] IMAGE [IMAGE...]',
  'volume create': 'docker volume create [OPTIONS] [VOLUME]',
  'volume rm': 'docker volume rm [OPTIONS] VOLUME [VOLUME...]',
  'volume ls': 'docker volume ls [OPTIONS]',
  'volume inspect': 'docker volume inspect [OPTIONS] VOLUME [VOLUME...]',
  version: 'docker version [OPTIONS]',
  info: 'docker info [OPTIONS]',
  build: 'docker buildx build [OPTIONS] PATH | URL | -',
  tag: 'docker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  push: 'docker push [OPTIONS] NAME[:TAG]',
};

export const ALIASES = {
  images: 'image ls',
  rmi: 'image rm',
  'container ls': 'ps',
  'container ps': 'ps',
  'container list': 'ps',
  'container run': 'run',
  'container create': 'create',
  'container rm': 'rm',
  'container start': 'start',
  'container stop': 'stop',
  'container restart': 'restart',
  'container inspect': 'inspect',
  'container logs': 'logs',
  'container cp': 'cp',
  'image list': 'image ls',
  'image pull': 'pull',
  'image remove': 'image rm',
  'image build': 'build',
  'image tag': 'tag',
  'image push': 'push',
  'volume list': 'volume ls',
  'volume remove': 'volume rm',
  'buildx build': 'build',
};
export const GROUPS = {
  image: 'build history import inspect load ls prune pull push rm save tag',
  volume: 'create inspect ls prune rm update',
  container: 'attach commit cp create diff exec export inspect kill logs ls pause port prune rename restart rm run start stats stop top unpause update wait',
  network: 'connect create disconnect inspect ls prune rm',
  buildx: 'build',
};
export const TOP_COMMANDS = new Set(
  'attach build builder buildx checkpoint commit compose config container context cp create diff events exec export history image images import info inspect kill load login logout logs manifest network node pause plugin port ps pull push rename restart rm rmi run save search secret service stack start stats stop swarm system tag top trust unpause update version volume wait'.split(
    ' ',
  ),
);

// ---------------------------------------------------------------------------------------------
export const out = (s) => process.stdout.write(s);
export const errw = (s) => process.stderr.write(s);

function flagTable(cmd) {
  const [vals, bools] = FLAGS[cmd] ?? ['', ''];
  const table = new Map();
  for (const [list, takes] of [
    [vals, true],
    [bools, false],
  ]) {
    for (const tok of list.split(' ').filter(Boolean)) {
      const [short, long] = tok.includes('|') ? tok.split('|') : [null, tok];
      const f = { long, short, takes };
      table.set(`--${long}`, f);
      if (short) table.set(`-${short}`, f);
    }
  }
  return table;
}

function usageErr(cmd, msg) {
  return new Exit(125, `${msg}\n\nUsage:  ${USAGE[cmd]}\n\nRun '${cmdWord(cmd)} --help' for more information\n`);
}
export const cmdWord = (cmd) => `docker ${cmd}`;

/** pflag-style parsing. run/create stop at the first positional (the image). */
export function parseFlags(cmd, args) {
  const table = flagTable(cmd);
  const interspersed = !['run', 'create'].includes(cmd);
  const opts = {};
  const pos = [];
  const set = (f, v) => {
    if (MULTI.has(f.long)) (opts[f.long] ??= []).push(v);
    else opts[f.long] = v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      pos.push(...args.slice(i + 1));
      break;
    }
    if (a === '--help') throw new Exit(0, '', `Usage:  ${USAGE[cmd]}\n`);
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const key = eq === -1 ? a : a.slice(0, eq);
      const f = table.get(key);
      if (!f) throw usageErr(cmd, `unknown flag: ${key}`);
      if (f.takes) {
        let v = eq === -1 ? args[++i] : a.slice(eq + 1);
        if (v === undefined) throw usageErr(cmd, `flag needs an argument: ${key}`);
        set(f, v);
      } else set(f, eq === -1 ? true : a.slice(eq + 1) !== 'false');
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const f = table.get(`-${a[k]}`);
        if (!f) throw usageErr(cmd, `unknown shorthand flag: '${a[k]}' in ${a}`);
        if (f.takes) {
          let v = a.slice(k + 1);
          if (v.startsWith('=')) v = v.slice(1);
          if (v === '') {
            v = args[++i];
            if (v === undefined) throw usageErr(cmd, `flag needs an argument: '${a[k]}' in ${a}`);
          }
          set(f, v);
          break;
        }
        set(f, true);
      }
      continue;
    }
    if (!interspersed) {
      pos.push(...args.slice(i));
      break;
    }
    pos.push(a);
  }
  return { opts, pos };
}

export function argCount(cmd, pos, { min = 0, exact, max }) {
  if (exact !== undefined && pos.length !== exact) {
    throw new Exit(1, `docker: '${cmdWord(cmd)}' requires ${exact} argument${exact === 1 ? '' : 's'}\n\nUsage:  ${USAGE[cmd]}\n\nRun '${cmdWord(cmd)} --help' for more information\n`);
  }
  if (pos.length < min) {
    throw new Exit(1, `docker: '${cmdWord(cmd)}' requires at least ${min} argument${min === 1 ? '' : 's'}\n\nUsage:  ${USAGE[cmd]}\n\nSee '${cmdWord(cmd)} --help' for more information\n`);
  }
  if (max === 0 && pos.length > 0) {
    throw new Exit(1, `docker: '${cmdWord(cmd)}' accepts no arguments\n\nUsage:  ${USAGE[cmd]}\n\nRun '${cmdWord(cmd)} --help' for more information\n`);
  }
}
