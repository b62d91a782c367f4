// Fake `docker` client 28.2.2 with a pretend engine (see docker-engine.mjs).
// Texts and exit codes were checked against the real 28.2.2 client where it can answer without a
// daemon (usage errors 125 for flags, 1 for argument counts, unknown commands, no-daemon errors).
import fs from 'node:fs';
import path from 'node:path';
import { Exit, isTruthyEnv, logInvocation, randomHex, sleep } from './common.mjs';
import { compile } from './go-template.mjs';
import { ALIASES, API_VERSION, CLIENT_VERSION, DEFAULT_PATH_ENV, GROUPS, NO_DAEMON, TOP_COMMANDS, USAGE, ZERO_TIME, argCount, cmdWord, errw, out, parseFlags } from './docker-cli.mjs';
import { Engine, RESTART, daemonCheck, findContainer, findImage, fullRepo, newImage, newVolume, normaliseRef, parsePublish, parseVolume, pullError, pullFails, pullLines, repoOf, sha, startContainer, stopContainer } from './docker-engine.mjs';
import { humanDuration, humanSize, inspectContainer, inspectImage, inspectVolume, printInspect, psRow, renderFormatted, tabulate } from './docker-format.mjs';

// Commands.
function cmdVersion(ctx, { opts, pos }) {
  argCount('version', pos, { max: 0 });
  const client = {
    Platform: { Name: '' },
    Version: CLIENT_VERSION,
    ApiVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    GitCommit: 'e6534b4',
    GoVersion: 'go1.24.3',
    Os: 'linux',
    Arch: 'amd64',
    BuildTime: 'Fri May 30 12:07:14 2025',
    Context: 'default',
  };
  const noDaemon = isTruthyEnv(ctx.env.FAKE_DOCKER_NO_DAEMON);
  const server = noDaemon
    ? null
    : {
        Platform: { Name: 'Docker Engine - Community' },
        Components: [
          { Name: 'Engine', Version: CLIENT_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: '1.24', GitCommit: '45873be', GoVersion: 'go1.24.3', Os: 'linux', Arch: 'amd64', KernelVersion: '6.8.0', Experimental: 'false', BuildTime: '2025-05-30T12:07:14.000000000+00:00' } },
          { Name: 'containerd', Version: '1.7.27', Details: { GitCommit: '05044ec0a9a75232cad458027ca83437aae3f4da' } },
          { Name: 'runc', Version: '1.2.5', Details: { GitCommit: 'v1.2.5-0-g59923ef' } },
          { Name: 'docker-init', Version: '0.19.0', Details: { GitCommit: 'de40ad0' } },
        ],
        Version: CLIENT_VERSION,
        ApiVersion: API_VERSION,
        MinAPIVersion: '1.24',
        GitCommit: '45873be',
        GoVersion: 'go1.24.3',
        Os: 'linux',
        Arch: 'amd64',
        KernelVersion: '6.8.0',
        BuildTime: '2025-05-30T12:07:14.000000000+00:00',
      };
  if (opts.format) {
    if (noDaemon) {
      out('\n');
      throw new Exit(1, `${NO_DAEMON}\n`);
    }
    printInspect([{ Client: client, Server: server }], opts.format);
    return 0;
  }
  out(
    'Client:\n' +
      ` Version:           ${CLIENT_VERSION}\n API version:       ${API_VERSION}\n Go version:        go1.24.3\n` +
      ' Git commit:        e6534b4\n Built:             Fri May 30 12:07:14 2025\n OS/Arch:           linux/amd64\n Context:           default\n',
  );
  if (noDaemon) throw new Exit(1, `${NO_DAEMON}\n`);
  out(
    '\nServer: Docker Engine - Community\n Engine:\n' +
      `  Version:          ${CLIENT_VERSION}\n  API version:      ${API_VERSION} (minimum version 1.24)\n  Go version:       go1.24.3\n` +
      '  Git commit:       45873be\n  Built:            Fri May 30 12:07:14 2025\n  OS/Arch:          linux/amd64\n  Experimental:     false\n' +
      ' containerd:\n  Version:          1.7.27\n  GitCommit:        05044ec0a9a75232cad458027ca83437aae3f4da\n' +
      ' runc:\n  Version:          1.2.5\n  GitCommit:        v1.2.5-0-g59923ef\n' +
      ' docker-init:\n  Version:          0.19.0\n  GitCommit:        de40ad0\n',
  );
  return 0;
}

function cmdInfo(ctx, { opts, pos }) {
  argCount('info', pos, { max: 0 });
  const noDaemon = isTruthyEnv(ctx.env.FAKE_DOCKER_NO_DAEMON);
  if (opts.format && noDaemon) throw new Exit(1, `${NO_DAEMON}\n`);
  if (noDaemon) {
    out(`Client:\n Version:    ${CLIENT_VERSION}\n Context:    default\n Debug Mode: false\n\nServer:\n`);
    throw new Exit(1, `${NO_DAEMON}\n`);
  }
  const st = ctx.engine.read();
  fs.mkdirSync(path.join(ctx.engine.dir, 'root'), { recursive: true });
  const running = st.containers.filter((c) => c.State.Running).length;
  const info = {
    ID: 'FAKE:DOCKER:ENGINE',
    Containers: st.containers.length,
    ContainersRunning: running,
    ContainersPaused: 0,
    ContainersStopped: st.containers.length - running,
    Images: Object.keys(st.images).length,
    Driver: 'overlay2',
    // Where images live; the fake's is inside its state directory so a host-side statfs works.
    DockerRootDir: path.join(ctx.engine.dir, 'root'),
    Name: 'fake-docker-host',
    NCPU: 2,
    MemTotal: 8_000_000_000,
    KernelVersion: '6.8.0',
    OperatingSystem: 'Fake Linux (test double)',
    OSType: 'linux',
    Architecture: 'x86_64',
    ServerVersion: CLIENT_VERSION,
    CgroupDriver: 'systemd',
    CgroupVersion: '2',
    ClientInfo: { Debug: false, Version: CLIENT_VERSION, Context: 'default' },
  };
  if (opts.format) {
    printInspect([info], opts.format);
    return 0;
  }
  out(
    `Client:\n Version:    ${CLIENT_VERSION}\n Context:    default\n Debug Mode: false\n\nServer:\n` +
      ` Containers: ${info.Containers}\n  Running: ${running}\n  Paused: 0\n  Stopped: ${info.ContainersStopped}\n` +
      ` Images: ${info.Images}\n Server Version: ${CLIENT_VERSION}\n Storage Driver: overlay2\n Cgroup Driver: systemd\n Cgroup Version: 2\n` +
      ` Kernel Version: 6.8.0\n Operating System: ${info.OperatingSystem}\n OSType: linux\n Architecture: x86_64\n CPUs: 2\n` +
      ` Name: ${info.Name}\n ID: ${info.ID}\n Docker Root Dir: /var/lib/docker\n`,
  );
  return 0;
}

const FILTER_KEYS = new Set(['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume']);

function parseFilters(list, cmd) {
  const filters = {};
  for (const f of list ?? []) {
    const eq = f.indexOf('=');
    if (eq <= 0) {
      throw new Exit(125, `invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)\n\nUsage:  ${USAGE[cmd]}\n\nRun '${cmdWord(cmd)} --help' for more information\n`);
    }
    (filters[f.slice(0, eq)] ??= []).push(f.slice(eq + 1));
  }
  return filters;
}

function labelMatch(labels, spec) {
  const eq = spec.indexOf('=');
  if (eq === -1) return Object.hasOwn(labels ?? {}, spec);
  return (labels ?? {})[spec.slice(0, eq)] === spec.slice(eq + 1);
}

function nameMatch(name, pattern) {
  let re;
  try {
    re = new RegExp(pattern);
  } catch {
    return name.includes(pattern);
  }
  return re.test(name) || re.test(name.replace(/^\//, ''));
}

function cmdPs(ctx, { opts, pos }) {
  argCount('ps', pos, { max: 0 });
  const filters = parseFilters(opts.filter, 'ps');
  if (opts.format && !opts.quiet) {
    // The real client parses the template before it talks to the daemon.
    try {
      compile(opts.format.replace(/^table/, ''), { structType: '*formatter.ContainerContext' });
    } catch (e) {
      throw new Exit(1, `failed to parse template: ${e.message}\n`);
    }
  }
  daemonCheck(ctx.env);
  for (const k of Object.keys(filters)) {
    if (!FILTER_KEYS.has(k)) throw new Exit(1, `Error response from daemon: invalid filter '${k}'\n`);
  }
  const st = ctx.engine.read();
  let list = [...st.containers].reverse(); // newest first
  const all = opts.all || filters.status || filters.exited || opts.latest || opts.last;
  list = list.filter((ct) => {
    if (!all && !ct.State.Running) return false;
    if (filters.name && !filters.name.some((n) => nameMatch(ct.Name, n))) return false;
    if (filters.label && !filters.label.every((l) => labelMatch(ct.Config.Labels, l))) return false;
    if (filters.status && !filters.status.includes(ct.State.Status)) return false;
    if (filters.id && !filters.id.some((i) => ct.Id.startsWith(i))) return false;
    if (filters.ancestor && !filters.ancestor.some((a) => ct.Config.Image === a || ct.Config.Image === normaliseRef(a))) return false;
    if (filters.exited && !(ct.State.Status === 'exited' && filters.exited.includes(String(ct.State.ExitCode)))) return false;
    if (filters.publish && !filters.publish.some((p) => ct.ports.some((q) => q.hostPort === p.split('/')[0]))) return false;
    return true;
  });
  if (opts.latest) list = list.slice(0, 1);
  if (opts.last) list = list.slice(0, Number(opts.last));
  const rows = list.map((ct) => psRow(ct, opts['no-trunc']));
  if (opts.quiet) {
    if (opts.format) errw('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    for (const r of rows) out(`${r.ID}\n`);
    return 0;
  }
  if (opts.format && opts.format !== 'table') {
    out(renderFormatted(opts.format, rows, '*formatter.ContainerContext'));
    return 0;
  }
  const table = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']];
  for (const r of rows) table.push([r.ID, r.Image, r.Command, `${r.RunningFor}`, r.Status, r.Ports, r.Names]);
  out(tabulate(table));
  return 0;
}

function ensureImage(ctx, state, ref, stream) {
  if (findImage(state, ref)) return;
  if (stream === 'run') errw(`Unable to find image '${ref}' locally\n`);
  if (pullFails(ctx.env, ref, state)) return pullError(ref);
  for (const l of pullLines(ref, false)) errw(`${l}\n`);
  state.images[ref] = newImage(ref);
  return null;
}

function createContainer(ctx, cmd, { opts, pos }) {
  argCount(cmd, pos, { min: 1 });
  const [imageArg, ...cmdArgs] = pos;
  const fail = (msg) => new Exit(125, `docker: ${msg}\n\nRun '${cmdWord(cmd)} --help' for more information\n`);
  if (opts.restart !== undefined && !RESTART.test(opts.restart)) {
    throw fail(`invalid restart policy: unknown policy '${opts.restart}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (opts.rm && opts.restart && opts.restart !== 'no') throw fail('Conflicting options: --restart and --rm');
  const ports = (opts.publish ?? []).map(parsePublish);
  const mounts = (opts.volume ?? []).map(parseVolume);
  const env = [];
  for (const e of opts.env ?? []) {
    if (e.includes('=')) env.push(e);
    else if (ctx.env[e] !== undefined) env.push(`${e}=${ctx.env[e]}`);
  }
  const labels = {};
  for (const l of opts.label ?? []) {
    const eq = l.indexOf('=');
    labels[eq === -1 ? l : l.slice(0, eq)] = eq === -1 ? '' : l.slice(eq + 1);
  }
  if (isTruthyEnv(ctx.env.FAKE_DOCKER_NO_DAEMON)) throw fail(NO_DAEMON);
  const name = opts.name;
  if (name !== undefined && !/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw fail(`Error response from daemon: Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const ref = normaliseRef(imageArg);
  return ctx.engine.update((state) => {
    const pullErr = ensureImage(ctx, state, ref, 'run');
    if (pullErr) throw fail(pullErr);
    const cname = name ? name.replace(/^\//, '') : `${['eager', 'brave', 'quirky', 'zen'][Math.floor(Math.random() * 4)]}_${randomHex(3)}`;
    const existing = state.containers.find((c) => c.Name === `/${cname}`);
    if (existing) {
      throw fail(
        `Error response from daemon: Conflict. The container name "/${cname}" is already in use by container "${existing.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    for (const m of mounts) {
      if (m.Type === 'volume' && !state.volumes[m.Name]) state.volumes[m.Name] = newVolume(m.Name, {});
    }
    const image = findImage(state, ref);
    const entrypoint = opts.entrypoint !== undefined ? [opts.entrypoint] : (image.Entrypoint ?? null);
    const cmdv = cmdArgs.length ? cmdArgs : image.Cmd;
    const argv = [...(entrypoint ?? []), ...cmdv];
    const ct = {
      Id: randomHex(32),
      Name: `/${cname}`,
      Created: new Date().toISOString(),
      Path: argv[0],
      Args: argv.slice(1),
      Image: image.Id,
      State: { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
      HostConfig: {
        Binds: mounts.map((m) => `${m.Type === 'volume' ? m.Name : m.Source}:${m.Destination}${m.Mode ? `:${m.Mode}` : ''}`),
        NetworkMode: opts.network ?? 'bridge',
        RestartPolicy: { Name: (opts.restart ?? 'no').split(':')[0], MaximumRetryCount: Number((opts.restart ?? '').split(':')[1] ?? 0) },
        AutoRemove: Boolean(opts.rm),
        GroupAdd: opts['group-add'] ?? [],
        ExtraHosts: opts['add-host'] ?? [],
      },
      Mounts: mounts.map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined))),
      Config: {
        User: opts.user ?? '',
        Env: [...env, DEFAULT_PATH_ENV],
        Cmd: cmdv,
        Image: imageArg,
        WorkingDir: opts.workdir ?? '',
        Entrypoint: entrypoint,
        Labels: labels,
      },
      ports,
      ip: `172.17.0.${2 + state.containers.length}`,
      logs: [],
    };
    state.containers.push(ct);
    return ct;
  });
}

function cmdCreate(ctx, parsed) {
  const ct = createContainer(ctx, 'create', parsed);
  out(`${ct.Id}\n`);
  return 0;
}

/** `generate-certs --output-dir D` of the gateway image writes a bundle through a bind mount. */
function fakeGenerateCerts(ct) {
  const args = [ct.Path, ...ct.Args];
  const i = args.indexOf('--output-dir');
  if (!args.includes('generate-certs') || i === -1 || !args[i + 1]) return false;
  const dir = args[i + 1];
  const m = ct.Mounts.filter((mt) => mt.Type === 'bind' && (dir === mt.Destination || dir.startsWith(`${mt.Destination}/`))).sort(
    (a, b) => b.Destination.length - a.Destination.length,
  )[0];
  const lines = [];
  if (m) {
    const hostDir = path.join(m.Source, dir.slice(m.Destination.length));
    const pem = (what) => `-----BEGIN ${what}-----\nZmFrZQ==\n-----END ${what}-----\n`;
    const files = {
      'ca.crt': pem('CERTIFICATE'),
      'ca.key': pem('PRIVATE KEY'),
      'server/tls.crt': pem('CERTIFICATE'),
      'server/tls.key': pem('PRIVATE KEY'),
      'client/tls.crt': pem('CERTIFICATE'),
      'client/tls.key': pem('PRIVATE KEY'),
    };
    for (const [f, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(hostDir, f)), { recursive: true });
      fs.writeFileSync(path.join(hostDir, f), body);
    }
  }
  lines.push(`Generated CA, server and client certificates in ${dir}`);
  for (const l of lines) ct.logs.push({ s: 'stdout', l });
  out(lines.map((l) => `${l}\n`).join(''));
  return true;
}

function cmdRun(ctx, parsed) {
  const ct = createContainer(ctx, 'run', parsed);
  const detach = parsed.opts.detach;
  const res = ctx.engine.update((state) => {
    const c = state.containers.find((x) => x.Id === ct.Id);
    const conflict = startContainer(state, c, ctx.env);
    if (conflict) return { conflict };
    if (!detach) {
      // Foreground run: the fake has no real process; the container runs to completion at once.
      fakeGenerateCerts(c);
      stopContainer(c, 0);
      if (c.HostConfig.AutoRemove) state.containers = state.containers.filter((x) => x !== c);
    }
    return { ct: c };
  });
  if (res.conflict) throw new Exit(125, `docker: Error response from daemon: ${res.conflict}\n\nRun 'docker run --help' for more information\n`);
  if (detach) out(`${ct.Id}\n`);
  return 0;
}

function eachContainer(ctx, names, fn) {
  let failed = false;
  ctx.engine.update((state) => {
    for (const n of names) {
      const ct = findContainer(state, n);
      if (!ct) {
        errw(`Error response from daemon: No such container: ${n}\n`);
        failed = true;
        continue;
      }
      const msg = fn(state, ct, n);
      if (msg) {
        errw(`${msg}\n`);
        failed = true;
      } else out(`${n}\n`);
    }
  });
  return failed;
}

function cmdRm(ctx, { opts, pos }) {
  argCount('rm', pos, { min: 1 });
  daemonCheck(ctx.env);
  const failed = eachContainer(ctx, pos, (state, ct) => {
    if (ct.State.Running && !opts.force) {
      return `Error response from daemon: cannot remove container "${ct.Name}": container is running: stop the container before removing or force remove`;
    }
    state.containers = state.containers.filter((x) => x !== ct);
    return null;
  });
  return failed ? 1 : 0;
}

function cmdStop(ctx, { pos }) {
  argCount('stop', pos, { min: 1 });
  daemonCheck(ctx.env);
  return eachContainer(ctx, pos, (_s, ct) => {
    stopContainer(ct, 0);
    for (const p of ct.ports) if (p.ephemeral) p.hostPort = '';
    return null;
  })
    ? 1
    : 0;
}

function cmdStart(ctx, { pos }, restart = false) {
  const cmd = restart ? 'restart' : 'start';
  argCount(cmd, pos, { min: 1 });
  if (isTruthyEnv(ctx.env.FAKE_DOCKER_NO_DAEMON)) {
    throw new Exit(1, `${NO_DAEMON}\nError: failed to ${cmd} containers: ${pos.join(', ')}\n`);
  }
  const bad = [];
  ctx.engine.update((state) => {
    for (const n of pos) {
      const ct = findContainer(state, n);
      if (!ct) {
        errw(`Error response from daemon: No such container: ${n}\n`);
        bad.push(n);
        continue;
      }
      if (restart) stopContainer(ct, 0);
      const conflict = startContainer(state, ct, ctx.env);
      if (conflict) {
        errw(`Error response from daemon: ${conflict}\n`);
        bad.push(n);
      } else out(`${n}\n`);
    }
  });
  if (bad.length) {
    errw(`Error: failed to ${cmd} containers: ${bad.join(', ')}\n`);
    return 1;
  }
  return 0;
}

function cmdInspect(ctx, { opts, pos }) {
  argCount('inspect', pos, { min: 1 });
  if (isTruthyEnv(ctx.env.FAKE_DOCKER_NO_DAEMON)) {
    out('[]\n');
    throw new Exit(1, `${NO_DAEMON}\n`);
  }
  const st = ctx.engine.read();
  const type = opts.type;
  const found = [];
  const missing = [];
  for (const n of pos) {
    let o;
    if (!type || type === 'container') o = findContainer(st, n) && inspectContainer(findContainer(st, n));
    if (!o && (!type || type === 'image')) o = findImage(st, n) && inspectImage(findImage(st, n));
    if (!o && (!type || type === 'volume')) o = st.volumes[n] && inspectVolume(st.volumes[n]);
    if (o) found.push(o);
    else missing.push(n);
  }
  if (found.length || !opts.format) printInspect(found, opts.format);
  for (const n of missing) errw(`Error: No such ${type === 'container' ? 'container' : type === 'image' ? 'image' : type === 'volume' ? 'volume' : 'object'}: ${n}\n`);
  return missing.length ? 1 : 0;
}

async function cmdLogs(ctx, { opts, pos }) {
  argCount('logs', pos, { exact: 1 });
  daemonCheck(ctx.env);
  const ct = findContainer(ctx.engine.read(), pos[0]);
  if (!ct) throw new Exit(1, `Error response from daemon: No such container: ${pos[0]}\n`);
  let lines = ct.logs;
  if (opts.tail !== undefined && opts.tail !== 'all') lines = lines.slice(Math.max(0, lines.length - Number(opts.tail)));
  const emit = (ls) => {
    for (const l of ls) (l.s === 'stderr' ? errw : out)(`${l.l}\n`);
  };
  emit(lines);
  if (opts.follow) {
    let seen = ct.logs.length;
    for (;;) {
      const cur = findContainer(ctx.engine.read(), ct.Id);
      if (!cur) break;
      emit(cur.logs.slice(seen));
      seen = cur.logs.length;
      if (!cur.State.Running) break;
      await sleep(100);
    }
  }
  return 0;
}

function cmdPull(ctx, { opts, pos }) {
  argCount('pull', pos, { exact: 1 });
  const raw = pos[0];
  if (!raw.slice(raw.lastIndexOf('/') + 1).includes(':') && !raw.includes('@')) out('Using default tag: latest\n');
  daemonCheck(ctx.env);
  const ref = normaliseRef(raw);
  if (pullFails(ctx.env, ref, ctx.engine.read())) throw new Exit(1, `${pullError(ref)}\n`);
  const have = ctx.engine.update((state) => {
    const had = Boolean(state.images[ref]);
    if (!had) state.images[ref] = newImage(ref);
    return had;
  });
  if (!opts.quiet) for (const l of pullLines(ref, have)) out(`${l}\n`);
  out(`${fullRepo(ref)}:${ref.slice(ref.lastIndexOf(':') + 1)}\n`);
  return 0;
}

function cmdCp(ctx, { pos }) {
  argCount('cp', pos, { exact: 2 });
  const [src, dst] = pos;
  const split = (s) => {
    const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(s);
    return m && !s.startsWith('/') && !s.startsWith('.') ? { ct: m[1], p: m[2] } : null;
  };
  const from = split(src);
  const to = split(dst);
  if (!from && !to) throw new Exit(1, 'must specify at least one container source\n');
  if (from && to) throw new Exit(1, 'copying between containers is not supported\n');
  daemonCheck(ctx.env);
  const st = ctx.engine.read();
  const ct = findContainer(st, (from ?? to).ct);
  if (!ct) throw new Exit(1, `Error response from daemon: No such container: ${(from ?? to).ct}\n`);
  if (from) {
    const base = path.basename(from.p);
    const content = `#!/bin/sh\n# fake ${from.p} copied from ${ct.Config.Image} by the docker test double\necho "${base} (fake, from ${ct.Config.Image})"\n`;
    if (dst === '-') {
      out(content);
      return 0;
    }
    const target = fs.existsSync(dst) && fs.statSync(dst).isDirectory() ? path.join(dst, base) : dst;
    if (!fs.existsSync(path.dirname(path.resolve(target)))) {
      throw new Exit(1, `lstat ${path.dirname(path.resolve(target))}: no such file or directory\n`);
    }
    fs.writeFileSync(target, content, { mode: 0o755 });
    errw(`Successfully copied ${humanSize(content.length)} to ${target}\n`);
    return 0;
  }
  if (!fs.existsSync(src)) throw new Exit(1, `lstat ${path.resolve(src)}: no such file or directory\n`);
  errw(`Successfully copied ${humanSize(fs.statSync(src).size)} to ${dst}\n`);
  return 0;
}

function cmdImageInspect(ctx, { opts, pos }) {
  argCount('image inspect', pos, { min: 1 });
  if (isTruthyEnv(ctx.env.FAKE_DOCKER_NO_DAEMON)) {
    out('[]\n');
    throw new Exit(1, `${NO_DAEMON}\n`);
  }
  const st = ctx.engine.read();
  const found = [];
  const missing = [];
  for (const n of pos) {
    const im = findImage(st, n);
    if (im) found.push(inspectImage(im));
    else missing.push(n);
  }
  if (found.length || !opts.format) printInspect(found, opts.format);
  for (const n of missing) errw(`Error response from daemon: No such image: ${n}\n`);
  return missing.length ? 1 : 0;
}

function cmdImageLs(ctx, { opts, pos }) {
  daemonCheck(ctx.env);
  const st = ctx.engine.read();
  const filters = parseFilters(opts.filter, 'image ls');
  const refs = [...(filters.reference ?? []), ...pos];
  const globRe = (g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  const matchesRef = (ref) => refs.length === 0 || refs.some((r) => globRe(r.includes(':') ? r : `${r}:*`).test(ref) || globRe(r.includes(':') ? r : `${r}:*`).test(ref.replace(/^docker\.io\/(library\/)?/, '')));
  const rows = Object.values(st.images).filter((im) => matchesRef(im.RepoTags[0])).map((im) => {
    const ref = im.RepoTags[0];
    return {
      Repository: repoOf(ref),
      Tag: ref.slice(ref.lastIndexOf(':') + 1),
      ID: im.Id.slice(7, 19),
      CreatedSince: `${humanDuration(Date.now() - Date.parse(im.Created))} ago`,
      CreatedAt: im.Created,
      Size: `${Math.round(im.Size / 1e6)}MB`,
      Digest: im.RepoDigests[0]?.split('@')[1] ?? '<none>',
    };
  });
  if (opts.quiet) {
    for (const r of rows) out(`${r.ID}\n`);
    return 0;
  }
  if (opts.format) {
    out(renderFormatted(opts.format, rows, '*formatter.ImageContext'));
    return 0;
  }
  out(tabulate([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size])]));
  return 0;
}

function cmdImageRm(ctx, { opts, pos }) {
  argCount('image rm', pos, { min: 1 });
  daemonCheck(ctx.env);
  let failed = false;
  ctx.engine.update((state) => {
    for (const n of pos) {
      const im = findImage(state, n);
      if (!im) {
        errw(`Error response from daemon: No such image: ${n}\n`);
        failed = true;
        continue;
      }
      const user = state.containers.find((c) => c.Image === im.Id);
      if (user && !opts.force) {
        errw(`Error response from daemon: conflict: unable to remove repository reference "${n}" (must force) - container ${user.Id.slice(0, 12)} is using its referenced image ${im.Id.slice(7, 19)}\n`);
        failed = true;
        continue;
      }
      delete state.images[im.RepoTags[0]];
      out(`Untagged: ${im.RepoTags[0]}\nDeleted: ${im.Id}\n`);
    }
  });
  return failed ? 1 : 0;
}


function cmdVolumeCreate(ctx, { opts, pos }) {
  if (pos.length > 1) {
    throw new Exit(1, `docker: 'docker volume create' requires at most 1 argument\n\nUsage:  ${USAGE['volume create']}\n\nSee 'docker volume create --help' for more information\n`);
  }
  daemonCheck(ctx.env);
  const labels = {};
  for (const l of opts.label ?? []) {
    const eq = l.indexOf('=');
    labels[eq === -1 ? l : l.slice(0, eq)] = eq === -1 ? '' : l.slice(eq + 1);
  }
  const name = pos[0] ?? randomHex(32);
  ctx.engine.update((state) => {
    if (!state.volumes[name]) state.volumes[name] = newVolume(name, labels);
  });
  out(`${name}\n`);
  return 0;
}

function cmdVolumeRm(ctx, { pos }) {
  argCount('volume rm', pos, { min: 1 });
  daemonCheck(ctx.env);
  let failed = false;
  ctx.engine.update((state) => {
    for (const n of pos) {
      if (!state.volumes[n]) {
        errw(`Error response from daemon: get ${n}: no such volume\n`);
        failed = true;
        continue;
      }
      const users = state.containers.filter((c) => c.Mounts.some((m) => m.Type === 'volume' && m.Name === n));
      if (users.length) {
        errw(`Error response from daemon: remove ${n}: volume is in use - [${users.map((u) => u.Id).join(', ')}]\n`);
        failed = true;
        continue;
      }
      delete state.volumes[n];
      out(`${n}\n`);
    }
  });
  return failed ? 1 : 0;
}

function cmdVolumeLs(ctx, { opts }) {
  const filters = parseFilters(opts.filter, 'volume ls');
  daemonCheck(ctx.env);
  const st = ctx.engine.read();
  const inUse = (n) => st.containers.some((c) => c.Mounts.some((m) => m.Type === 'volume' && m.Name === n));
  const vols = Object.values(st.volumes)
    .filter((v) => !filters.name || filters.name.some((p) => nameMatch(v.Name, p)))
    .filter((v) => !filters.label || filters.label.every((l) => labelMatch(v.Labels, l)))
    .filter((v) => !filters.dangling || filters.dangling.some((d) => (d === 'true' || d === '1') === !inUse(v.Name)))
    .sort((a, b) => a.Name.localeCompare(b.Name));
  if (opts.quiet) {
    for (const v of vols) out(`${v.Name}\n`);
    return 0;
  }
  const rows = vols.map((v) => ({
    Name: v.Name,
    Driver: v.Driver,
    Scope: 'local',
    Mountpoint: v.Mountpoint,
    Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
    Label: (k) => v.Labels?.[k] ?? '',
  }));
  if (opts.format) {
    out(renderFormatted(opts.format, rows, '*formatter.volumeContext'));
    return 0;
  }
  out(tabulate([['DRIVER', 'VOLUME NAME'], ...rows.map((r) => [r.Driver, r.Name])]));
  return 0;
}

function cmdVolumeInspect(ctx, { opts, pos }) {
  argCount('volume inspect', pos, { min: 1 });
  daemonCheck(ctx.env);
  const st = ctx.engine.read();
  const found = pos.filter((n) => st.volumes[n]).map((n) => inspectVolume(st.volumes[n]));
  const missing = pos.filter((n) => !st.volumes[n]);
  if (found.length || !opts.format) printInspect(found, opts.format);
  for (const n of missing) errw(`Error response from daemon: get ${n}: no such volume\n`);
  return missing.length ? 1 : 0;
}

function cmdBuild(ctx, { opts, pos }) {
  argCount('build', pos, { exact: 1 });
  daemonCheck(ctx.env);
  const context = pos[0];
  if (!fs.existsSync(context)) throw new Exit(1, `ERROR: unable to prepare context: path "${context}" not found\n`);
  const dockerfile = opts.file ?? path.join(context, 'Dockerfile');
  if (!fs.existsSync(dockerfile)) {
    throw new Exit(1, `ERROR: failed to build: failed to solve: failed to read dockerfile: open ${path.basename(dockerfile)}: no such file or directory\n`);
  }
  const tags = (opts.tag ?? []).map(normaliseRef);
  // FAKE_DOCKER_BUILD_OOM=1: the builder is killed, yet the client reports success and no image
  // is tagged (what large builds did on small hosts).
  const oom = isTruthyEnv(ctx.env.FAKE_DOCKER_BUILD_OOM);
  if (isTruthyEnv(ctx.env.FAKE_DOCKER_BUILD_FAIL)) {
    errw('#5 [2/3] RUN apt-get update && apt-get install -y git\n#5 ERROR: process "/bin/sh -c apt-get update" did not complete successfully: exit code: 100\n');
    throw new Exit(1, 'ERROR: failed to build: failed to solve: process "/bin/sh -c apt-get update" did not complete successfully: exit code: 100\n');
  }
  if (!oom) {
    ctx.engine.update((state) => {
      for (const t of tags) {
        state.images[t] = newImage(t);
        state.images[t].RepoDigests = [];
        state.images[t].Labels = { ...state.images[t].Labels, built_from: path.basename(dockerfile) };
      }
    });
  }
  if (!opts.quiet) {
    errw('#0 building with "default" instance using docker driver\n\n');
    errw(`#1 [internal] load build definition from ${path.basename(dockerfile)}\n#1 DONE 0.0s\n\n`);
    errw('#2 exporting to image\n#2 exporting layers done\n');
    for (const t of tags) errw(`#2 naming to ${fullRepo(t)}:${t.slice(t.lastIndexOf(':') + 1)} done\n`);
    errw('#2 DONE 0.1s\n');
  } else out(`sha256:${sha(`build:${tags.join(',')}`)}\n`);
  return 0;
}

function cmdTag(ctx, { pos }) {
  argCount('tag', pos, { exact: 2 });
  daemonCheck(ctx.env);
  const [src, dst] = pos;
  ctx.engine.update((state) => {
    const im = findImage(state, src);
    if (!im) throw new Exit(1, `Error response from daemon: No such image: ${src}\n`);
    const ref = normaliseRef(dst);
    state.images[ref] = { ...im, RepoTags: [ref], RepoDigests: im.RepoDigests.filter((d) => d.startsWith(`${repoOf(ref)}@`)) };
  });
  return 0;
}

/** `docker push REF`: the pretend registry gets it; the client prints the digest line. */
function cmdPush(ctx, { pos }) {
  argCount('push', pos, { exact: 1 });
  daemonCheck(ctx.env);
  const ref = normaliseRef(pos[0]);
  const first = repoOf(ref).split('/')[0];
  if (!repoOf(ref).includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    throw new Exit(1, `denied: requested access to the resource is denied\n`);
  }
  const digest = ctx.engine.update((state) => {
    const im = state.images[ref];
    if (!im) throw new Exit(1, `An image does not exist locally with the tag: ${repoOf(ref)}\n`);
    const d = `sha256:${sha(`push:${ref}:${im.Id}`)}`;
    im.RepoDigests = [...new Set([...(im.RepoDigests ?? []), `${repoOf(ref)}@${d}`])];
    (state.registry ??= {})[ref] = d;
    return d;
  });
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  out(`The push refers to repository [${repoOf(ref)}]\n${sha(`layer:${ref}`).slice(0, 12)}: Pushed\n${tag}: digest: ${digest} size: 1573\n`);
  return 0;
}

const HANDLERS = {
  tag: cmdTag,
  push: cmdPush,
  'image tag': cmdTag,
  'image push': cmdPush,
  version: cmdVersion,
  info: cmdInfo,
  ps: cmdPs,
  run: cmdRun,
  create: cmdCreate,
  rm: cmdRm,
  stop: cmdStop,
  start: (ctx, p) => cmdStart(ctx, p, false),
  restart: (ctx, p) => cmdStart(ctx, p, true),
  inspect: cmdInspect,
  logs: cmdLogs,
  pull: cmdPull,
  cp: cmdCp,
  build: cmdBuild,
  'image inspect': cmdImageInspect,
  'image ls': cmdImageLs,
  'image rm': cmdImageRm,
  'volume create': cmdVolumeCreate,
  'volume rm': cmdVolumeRm,
  'volume ls': cmdVolumeLs,
  'volume inspect': cmdVolumeInspect,
};

const GLOBAL_VALUE_FLAGS = new Set(['-H', '--host', '-c', '--context', '--config', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey']);
const GLOBAL_BOOL_FLAGS = new Set(['-D', '--debug', '--tls', '--tlsverify']);

function groupUsage(group) {
  const subs = GROUPS[group].split(' ');
  return `Usage:  docker ${group} COMMAND\n\nManage ${group}s\n\nCommands:\n${subs.map((s) => `  ${s}`).join('\n')}\n\nRun 'docker ${group} COMMAND --help' for more information on a command.\n`;
}

export async function main(argv) {
  const stateDir = process.env.FAKE_DOCKER_STATE;
  if (!stateDir) {
    process.stderr.write('fake docker: FAKE_DOCKER_STATE is not set. Point it at a temporary directory (test/helpers/fake-cli.ts makeFakeEnv() does this).\n');
    process.exitCode = 3;
    return;
  }
  fs.mkdirSync(stateDir, { recursive: true });
  logInvocation('docker', stateDir);
  const ctx = { env: process.env, engine: new Engine(stateDir) };
  let code = 0;
  try {
    let i = 0;
    while (i < argv.length && argv[i].startsWith('-')) {
      const a = argv[i];
      const key = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
      if (a === '-v' || a === '--version') {
        out(`Docker version ${CLIENT_VERSION}, build e6534b4\n`);
        process.exitCode = 0;
        return;
      }
      if (GLOBAL_VALUE_FLAGS.has(key)) i += a.includes('=') ? 1 : 2;
      else if (GLOBAL_BOOL_FLAGS.has(key)) i += 1;
      else throw new Exit(125, `unknown flag: ${key}\nSee 'docker --help'.\n`);
    }
    const rest = argv.slice(i);
    if (rest.length === 0) {
      out('Usage:  docker [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n');
      process.exitCode = 0;
      return;
    }
    let cmd = rest[0];
    let args = rest.slice(1);
    if (GROUPS[cmd]) {
      if (args.length === 0 || args[0] === '--help') {
        errw(groupUsage(cmd));
        process.exitCode = 0;
        return;
      }
      const sub = `${cmd} ${args[0]}`;
      if (!GROUPS[cmd].split(' ').includes(args[0])) {
        throw new Exit(1, `docker: unknown command: docker ${sub}\n\nUsage:  docker ${cmd} COMMAND\n\nRun 'docker ${cmd} --help' for more information\n`);
      }
      cmd = sub;
      args = args.slice(1);
    } else if (!TOP_COMMANDS.has(cmd)) {
      throw new Exit(1, `docker: unknown command: docker ${cmd}\n\nRun 'docker --help' for more information\n`);
    }
    cmd = ALIASES[cmd] ?? cmd;
    const handler = HANDLERS[cmd];
    if (!handler) {
      errw(`fake docker: 'docker ${cmd}' is not implemented by the test double (test/fakes/lib-openshell/docker-main.mjs)\n`);
      process.exitCode = 3;
      return;
    }
    code = (await handler(ctx, parseFlags(cmd, args))) ?? 0;
  } catch (e) {
    if (e instanceof Exit) {
      if (e.stdoutText) out(e.stdoutText);
      if (e.stderrText) errw(e.stderrText);
      code = e.exitCode;
    } else {
      errw(`fake docker: internal error: ${e?.stack ?? e}\n`);
      code = 70;
    }
  }
  process.exitCode = code;
}
