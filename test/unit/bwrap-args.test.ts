import { describe, expect, it } from 'vitest';
import { buildBwrapArgs, IN_SANDBOX } from '../../src/adapters/local/bwrap-args.js';

const spec = { workdir: '/data/sb/demo/workdir', workerFile: '/app/dist/worker/logos-worker.mjs', nodePath: '/usr/bin/node', socketPath: '/run/user/1/logos/p.sock' };

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

  it('makes the sandbox dir the only writable bind, with a private /tmp', () => {
    expect(pairs(args, '--bind')).toEqual([
      [spec.workdir, IN_SANDBOX.workdir],
      [spec.socketPath, IN_SANDBOX.socket],
    ]);
    expect(args[args.indexOf('--tmpfs') + 1]).toBe('/tmp');
    expect(pairs(args, '--ro-bind')).toContainEqual([spec.workerFile, IN_SANDBOX.worker]);
    expect(pairs(args, '--ro-bind')).toContainEqual(['/usr', '/usr']);
  });

  it('keeps /etc secrets out: only named /etc files are bound', () => {
    const etc = [...pairs(args, '--ro-bind'), ...pairs(args, '--ro-bind-try')].filter(([src]) => src?.startsWith('/etc'));
    expect(etc.map(([s]) => s)).not.toContain('/etc');
    expect(etc.map(([s]) => s)).not.toContain('/etc/shadow');
    expect(etc.map(([s]) => s)).toContain('/etc/passwd');
  });

  it('sets the worker environment with the proxy socket and no keys', () => {
    const env = Object.fromEntries(pairs(args, '--setenv'));
    expect(env.LOGOS_INFERENCE_SOCKET).toBe(IN_SANDBOX.socket);
    expect(env.HOME).toBe('/sandbox');
    expect(Object.keys(env).filter((k) => /KEY|TOKEN|SECRET/.test(k))).toEqual([]);
    expect(args.slice(-3)).toEqual(['--', '/usr/bin/node', IN_SANDBOX.worker]);
  });

  it('binds node read-only when it lives outside /usr (nvm, volta, tarballs)', () => {
    const a = buildBwrapArgs({ ...spec, nodePath: '/home/u/.nvm/versions/node/v20/bin/node' });
    expect(pairs(a, '--ro-bind')).toContainEqual(['/home/u/.nvm/versions/node/v20/bin', '/home/u/.nvm/versions/node/v20/bin']);
    expect(pairs(args, '--ro-bind').find(([s]) => s === '/usr/bin')).toBeUndefined();
  });
});
