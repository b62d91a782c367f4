// Fake docker output: ps rows, tables, Go-template --format and inspect JSON shapes.
import { Exit } from './common.mjs';
import { TemplateError, compile } from './go-template.mjs';
import { DEFAULT_PATH_ENV, out } from './docker-cli.mjs';
import { sha } from './docker-engine.mjs';

// Presentation.
export function humanDuration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.floor(m / 60);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  return `${Math.floor(h / 24)} days`;
}

/** go-units HumanSize: decimal units, 3 significant digits. */
export function humanSize(n) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

function statusText(ct) {
  const st = ct.State;
  if (st.Running) {
    const health = st.Health ? ` (${st.Health.Status})` : '';
    return `Up ${humanDuration(Date.now() - Date.parse(st.StartedAt))}${health}`;
  }
  if (st.Status === 'created') return 'Created';
  return `Exited (${st.ExitCode}) ${humanDuration(Date.now() - Date.parse(st.FinishedAt))} ago`;
}

function portsText(ct) {
  const live = ct.State.Running;
  return ct.ports
    .map((p) => (live && p.hostPort ? `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.proto}` : `${p.containerPort}/${p.proto}`))
    .join(', ');
}

export function psRow(ct, noTrunc) {
  const cmd = JSON.stringify([ct.Path, ...ct.Args].join(' '));
  const labels = Object.entries(ct.Config.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    Command: noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 19)}…`,
    CreatedAt: ct.Created.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' +0000 UTC'),
    ID: noTrunc ? ct.Id : ct.Id.slice(0, 12),
    Image: ct.Config.Image,
    Labels: labels,
    LocalVolumes: String(ct.Mounts.filter((m) => m.Type === 'volume').length),
    Mounts: ct.Mounts.map((m) => (m.Type === 'volume' ? m.Name : m.Source)).join(','),
    Names: ct.Name.slice(1),
    Networks: ct.HostConfig.NetworkMode === 'default' ? 'bridge' : ct.HostConfig.NetworkMode,
    Ports: portsText(ct),
    RunningFor: `${humanDuration(Date.now() - Date.parse(ct.Created))} ago`,
    Size: '0B',
    State: ct.State.Status,
    Status: statusText(ct),
    Label: (k) => ct.Config.Labels?.[k] ?? '',
  };
}

const PS_HEADERS = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES', Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT',
  Repository: 'REPOSITORY', Tag: 'TAG', CreatedSince: 'CREATED', Digest: 'DIGEST',
};

/** tabwriter with padding 3, like docker's table output. */
export function tabulate(rows) {
  const widths = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join('').trimEnd() + '\n').join('');
}

/** docker/cli formatter: `table` prefix, \t and \n escapes, one line per item. */
export function renderFormatted(format, items, structType) {
  let f = format;
  const table = f.startsWith('table');
  if (table) f = f.slice(5);
  f = f.trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  let tpl;
  try {
    tpl = compile(f, { structType });
  } catch (e) {
    throw new Exit(1, `failed to parse template: ${e.message}\n`);
  }
  const lines = [];
  try {
    if (table) {
      const header = f.replace(/\{\{\s*(?:json\s+)?\.(\w+)[^}]*\}\}/g, (_m, k) => PS_HEADERS[k] ?? k.toUpperCase());
      lines.push(header);
    }
    for (const it of items) lines.push(tpl(it));
  } catch (e) {
    if (e instanceof TemplateError) throw new Exit(1, `failed to execute template: ${e.message}\n`);
    throw e;
  }
  if (table) return tabulate(lines.map((l) => l.split('\t')));
  return lines.map((l) => `${l}\n`).join('');
}

export function inspectContainer(ct) {
  const ports = {};
  const bindings = {};
  for (const p of ct.ports) {
    const key = `${p.containerPort}/${p.proto}`;
    (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: p.ephemeral ? '' : p.hostPort });
    if (ct.State.Running) (ports[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: p.hostPort });
  }
  const exposed = Object.fromEntries(ct.ports.map((p) => [`${p.containerPort}/${p.proto}`, {}]));
  const state = { ...ct.State };
  return {
    Id: ct.Id,
    Created: ct.Created,
    Path: ct.Path,
    Args: ct.Args,
    State: state,
    Image: ct.Image,
    ResolvConfPath: `/var/lib/docker/containers/${ct.Id}/resolv.conf`,
    HostnamePath: `/var/lib/docker/containers/${ct.Id}/hostname`,
    HostsPath: `/var/lib/docker/containers/${ct.Id}/hosts`,
    LogPath: `/var/lib/docker/containers/${ct.Id}/${ct.Id}-json.log`,
    Name: ct.Name,
    RestartCount: 0,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: 'docker-default',
    ExecIDs: null,
    HostConfig: {
      Binds: ct.HostConfig.Binds.length ? ct.HostConfig.Binds : null,
      NetworkMode: ct.HostConfig.NetworkMode,
      PortBindings: bindings,
      RestartPolicy: ct.HostConfig.RestartPolicy,
      AutoRemove: ct.HostConfig.AutoRemove,
      GroupAdd: ct.HostConfig.GroupAdd.length ? ct.HostConfig.GroupAdd : null,
      ExtraHosts: ct.HostConfig.ExtraHosts.length ? ct.HostConfig.ExtraHosts : null,
      Privileged: false,
    },
    Mounts: ct.Mounts,
    Config: {
      Hostname: ct.Id.slice(0, 12),
      Domainname: '',
      User: ct.Config.User,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: ct.Config.Env,
      Cmd: ct.Config.Cmd,
      Image: ct.Config.Image,
      Volumes: null,
      WorkingDir: ct.Config.WorkingDir,
      Entrypoint: ct.Config.Entrypoint,
      OnBuild: null,
      Labels: ct.Config.Labels,
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: ct.State.Running ? sha(`sb:${ct.Id}`) : '',
      Ports: ports,
      IPAddress: ct.State.Running ? ct.ip : '',
      Networks: {
        bridge: { IPAddress: ct.State.Running ? ct.ip : '', Gateway: ct.State.Running ? '172.17.0.1' : '' },
      },
    },
  };
}

export function inspectImage(im) {
  return {
    Id: im.Id,
    RepoTags: im.RepoTags,
    RepoDigests: im.RepoDigests,
    Parent: '',
    Comment: 'buildkit.dockerfile.v0',
    Created: im.Created,
    DockerVersion: '',
    Author: '',
    Config: {
      Env: [DEFAULT_PATH_ENV],
      Cmd: im.Cmd,
      Entrypoint: null,
      WorkingDir: '',
      Labels: Object.keys(im.Labels ?? {}).length ? im.Labels : null,
    },
    Architecture: 'amd64',
    Os: 'linux',
    Size: im.Size,
    RootFS: { Type: 'layers', Layers: [`sha256:${sha(`layer:${im.RepoTags[0]}`)}`] },
    Metadata: { LastTagTime: im.Created },
  };
}

export function inspectVolume(v) {
  return { CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Options, Scope: 'local' };
}

export function printInspect(objs, format) {
  if (!format) {
    out(JSON.stringify(objs, null, 4) + '\n');
    return;
  }
  let tpl;
  try {
    tpl = compile(format, { missingKey: 'error' });
  } catch (e) {
    throw new Exit(1, `template parsing error: ${e.message}\n`);
  }
  for (const o of objs) {
    try {
      out(`${tpl(JSON.parse(JSON.stringify(o)))}\n`);
    } catch (e) {
      if (e instanceof TemplateError) throw new Exit(1, `template parsing error: ${e.message}\n`);
      throw e;
    }
  }
}
