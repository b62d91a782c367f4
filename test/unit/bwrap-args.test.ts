import { describe, expect, it } from 'vitest';
import { buildBwrapArgs, bwrapInvocation, IN_SANDBOX, localtimeTarget, sandboxAccounts } from '../../src/adapters/local/bwrap-args.js';

const spec = { workdir: '/data/sb/demo/workdir', workerFile: '/app/dist/worker/logos-worker.mjs', nodePath: '/usr/bin/node', socketDir: '/run/user/1/logos/task-1-t_abc' };

function pairs(args: string[], flag: string): string[][] {
  const out: string[][] = [];
  args.forEach((a, i) => {
    if (a === flag) out.push(args.slice(i + 1, i + 3));
  });
  return out;
}

describe('buildBwrapArgs', () => {
  const args = buildBwrapArgs(spec);

  it('isolates: no network, new session, dies with parent, clean env, no capabilities', () => {
    for (const f of ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv']) expect(args).toContain(f);
    expect(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2)).toEqual(['--cap-drop', 'ALL']);
    expect(args).not.toContain('--share-net');
  });

  it('makes the sandbox dir the only writable bind, with a private /tmp; the proxy socket\'s directory is read-only', () => {
    expect(pairs(args, '--bind')).toEqual([[spec.workdir, IN_SANDBOX.workdir]]);
    expect(pairs(args, '--ro-bind')).toContainEqual([spec.socketDir, IN_SANDBOX.socketDir]);
    expect(IN_SANDBOX.socket).toBe(`${IN_SANDBOX.socketDir}/inference.sock`);
    expect(args[args.indexOf('--tmpfs') + 1]).toBe('/tmp');
    expect(pairs(args, '--ro-bind')).toContainEqual([spec.workerFile, IN_SANDBOX.worker]);
    expect(pairs(args, '--ro-bind')).toContainEqual(['/usr', '/usr']);
  });

  it('keeps /etc secrets and the host\'s accounts out: only named /etc files, and its own passwd/group', () => {
    const etc = [...pairs(args, '--ro-bind'), ...pairs(args, '--ro-bind-try')].filter(([src]) => src?.startsWith('/etc'));
    expect(etc.map(([s]) => s)).not.toContain('/etc');
    expect(etc.map(([s]) => s)).not.toContain('/etc/shadow');
    expect(etc.map(([s]) => s)).not.toContain('/etc/passwd');
    expect(pairs(args, '--ro-bind-data').map(([, dest]) => dest)).toEqual(['/etc/passwd', '/etc/group']);
    const acc = sandboxAccounts(1000, 1000);
    expect(acc.passwd.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual(['root', 'sandbox', 'nobody']);
    expect(acc.passwd).toContain('sandbox:x:1000:1000:Logos sandbox:/sandbox:/bin/sh');
    expect(acc.group).toContain('sandbox:x:1000:');
    expect(sandboxAccounts(0, 0).passwd).not.toContain('sandbox:');
  });

  it('sets the worker environment with the proxy socket and no keys', () => {
    const env = Object.fromEntries(pairs(args, '--setenv'));
    expect(env.LOGOS_INFERENCE_SOCKET).toBe(IN_SANDBOX.socket);
    expect(env.HOME).toBe('/sandbox');
    expect(Object.keys(env).filter((k) => /KEY|TOKEN|SECRET/.test(k))).toEqual([]);
  });

  it('binds node read-only at a fixed place when it lives outside /usr (nvm, volta, tarballs)', () => {
    const a = buildBwrapArgs({ ...spec, nodePath: '/home/u/.nvm/versions/node/v20/bin/node' });
    expect(pairs(a, '--ro-bind')).toContainEqual(['/home/u/.nvm/versions/node/v20/bin', IN_SANDBOX.nodeDir]);
    expect(pairs(args, '--ro-bind').find(([s]) => s === '/usr/bin')).toBeUndefined();
    expect(bwrapInvocation({ ...spec, nodePath: '/home/u/.nvm/versions/node/v20/bin/node' }).argv).toEqual(['--args', '3', '--', `${IN_SANDBOX.nodeDir}/node`, IN_SANDBOX.worker]);
  });

  it('passes its options through a pipe: the command line the sandbox can read has no host path', () => {
    const inv = bwrapInvocation({ ...spec, uid: 1000, gid: 1000 });
    expect(inv.argv).toEqual(['--args', '3', '--', '/usr/bin/node', IN_SANDBOX.worker]);
    for (const hostPath of [spec.workdir, spec.workerFile, spec.socketDir]) expect(inv.argv.join(' ')).not.toContain(hostPath);
    const options = new TextDecoder().decode(inv.fds[0]).split('\0');
    expect(options.at(-1)).toBe('');
    expect(options.slice(0, -1)).toEqual(buildBwrapArgs({ ...spec, uid: 1000, gid: 1000 }));
    expect(new TextDecoder().decode(inv.fds[1])).toBe(sandboxAccounts(1000, 1000).passwd);
    expect(new TextDecoder().decode(inv.fds[2])).toBe(sandboxAccounts(1000, 1000).group);
  });
});

describe('/etc/localtime in the sandbox', () => {
  const link = (target: string) => () => target;
  const notLink = () => {
    throw Object.assign(new Error('EINVAL: invalid argument, readlink'), { code: 'EINVAL' });
  };

  it('is the host\'s link when that points into the system directories (absolute or relative)', () => {
    expect(localtimeTarget(link('/usr/share/zoneinfo/Europe/Paris'))).toBe('/usr/share/zoneinfo/Europe/Paris');
    expect(localtimeTarget(link('../usr/share/zoneinfo/Etc/UTC'))).toBe('/usr/share/zoneinfo/Etc/UTC');
    const args = buildBwrapArgs({ ...spec, localtime: '/usr/share/zoneinfo/Etc/UTC' });
    expect(pairs(args, '--symlink')).toEqual([['/usr/share/zoneinfo/Etc/UTC', '/etc/localtime']]);
    expect(pairs(args, '--ro-bind-try').map(([s]) => s)).not.toContain('/etc/localtime');
  });

  it('is the host\'s file, bound read-only, when it is not a link or points outside what the sandbox has', () => {
    expect(localtimeTarget(notLink)).toBeUndefined();
    expect(localtimeTarget(link('/etc/zones/mine'))).toBeUndefined();
    expect(localtimeTarget(link('/home/u/tz'))).toBeUndefined();
    const args = buildBwrapArgs(spec);
    expect(pairs(args, '--ro-bind-try')).toContainEqual(['/etc/localtime', '/etc/localtime']);
    expect(args).not.toContain('--symlink');
  });
});
