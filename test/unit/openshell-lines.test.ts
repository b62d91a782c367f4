import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseListPage } from '../../src/adapters/openshell/parse.js';
import { gatewayToml, openshellImages } from '../../src/core/gateway-config.js';
import { checkImageResources, chooseSandboxImage, repositoryOf } from '../../src/core/images.js';
import { isOpenShellName, sandboxNameForRoute, shortOpenShellName, validateSandboxName } from '../../src/core/names.js';
import { checkOpenShellVersion } from '../../src/core/openshell.js';
import { profileFor } from '../../src/core/profiles.js';
import { getProvider } from '../../src/core/providers.js';
import { ROOT } from '../helpers/logos.js';
// The fakes' TOML reader, to check that what Logos writes is TOML the gateway would read.
// @ts-expect-error plain JavaScript test double
import { parseToml } from '../fakes/lib-openshell/gw-image.mjs';

describe('checkOpenShellVersion', () => {
  it.each([
    ['0.0.111', '0.0'],
    ['0.0.112-dev.7+g2f7fb6559', '0.0'],
    ['0.0.116', '0.0'],
    ['0.1.0', '0.1'],
    ['0.1.10', '0.1'],
  ])('%s is the %s line', (v, line) => expect(checkOpenShellVersion(v)).toEqual({ version: v, line }));

  it.each([
    ['0.0.95', 'OPENSHELL_TOO_OLD'],
    ['0.0.110', 'OPENSHELL_TOO_OLD'],
    ['0.0.117', 'OPENSHELL_UNSUPPORTED'],
    ['0.1.11', 'OPENSHELL_UNSUPPORTED'],
    ['0.2.0', 'OPENSHELL_UNSUPPORTED'],
    ['1.0.0', 'OPENSHELL_UNSUPPORTED'],
  ])('%s → %s', (v, code) => expect(() => checkOpenShellVersion(v)).toThrow(expect.objectContaining({ code })));

  it('lets a newer 0.1.x through only when asked, and nothing else', () => {
    expect(checkOpenShellVersion('0.1.12', { allowNewer: true })).toEqual({ version: '0.1.12', line: '0.1' });
    expect(() => checkOpenShellVersion('0.0.117', { allowNewer: true })).toThrow(expect.objectContaining({ code: 'OPENSHELL_UNSUPPORTED' }));
    expect(() => checkOpenShellVersion('0.2.0', { allowNewer: true })).toThrow(expect.objectContaining({ code: 'OPENSHELL_UNSUPPORTED' }));
  });
});

describe('gateway images and gateway.toml', () => {
  it('images come from ghcr.io/nvidia/openshell up to 0.1.9 and quay.io/ai-openshell from 0.1.10, pinned to the CLI version', () => {
    expect(openshellImages('0.0.111').gateway).toBe('ghcr.io/nvidia/openshell/gateway:0.0.111');
    expect(openshellImages('0.1.9').supervisor).toBe('ghcr.io/nvidia/openshell/supervisor:0.1.9');
    expect(openshellImages('0.1.10')).toEqual({
      gateway: 'quay.io/ai-openshell/gateway:0.1.10',
      supervisor: 'quay.io/ai-openshell/supervisor:0.1.10',
      sandbox: 'quay.io/ai-openshell/sandbox:0.1.10',
    });
    expect(openshellImages('0.0.112-dev.7+g2f7fb6559').gateway).toBe('ghcr.io/nvidia/openshell/gateway:0.0.112-dev.7');
  });

  it('0.0.x: schema 1, supervisor_bin, the listen port as published, no auth table', () => {
    const t = parseToml(gatewayToml({ name: 'logos', line: '0.0', version: '0.0.111', port: 17670, supervisorBin: '/d/openshell-sandbox', images: openshellImages('0.0.111'), loopbackOnly: true }));
    expect(t).toEqual({
      openshell: {
        version: 1,
        gateway: { bind_address: '0.0.0.0:17670', compute_drivers: ['docker'], disable_tls: true },
        drivers: { docker: { grpc_endpoint: 'http://host.openshell.internal:17670', supervisor_bin: '/d/openshell-sandbox' } },
      },
    });
  });

  it('0.1.x: schema 2, compute_driver, unauthenticated only for a loopback-only port, images pinned', () => {
    const input = { name: 'logos', line: '0.1' as const, version: '0.1.10', port: 17671, images: openshellImages('0.1.10'), loopbackOnly: true };
    const t = parseToml(gatewayToml(input));
    expect(t.openshell.version).toBe(2);
    expect(t.openshell.gateway).toEqual({ bind_address: '0.0.0.0:17671', compute_driver: 'docker', disable_tls: true, auth: { allow_unauthenticated_users: true } });
    expect(t.openshell.drivers.docker).toMatchObject({ supervisor_image: 'quay.io/ai-openshell/supervisor:0.1.10', sandbox_runtime_image: 'quay.io/ai-openshell/sandbox:0.1.10', image_pull_policy: 'if_not_present' });
    const exposed = parseToml(gatewayToml({ ...input, loopbackOnly: false }));
    expect(exposed.openshell.gateway.auth).toBeUndefined();
    expect(exposed.openshell.gateway.disable_tls).toBeUndefined();
  });
});

describe('provider profiles', () => {
  it('a local server: host.openshell.internal and its port, bearer key, the image node binaries', () => {
    expect(profileFor({ provider: 'lmstudio', api: 'openai-chat' }, 'http://host.openshell.internal:1234/v1')).toMatchObject({
      id: 'logos-lmstudio',
      category: 'inference',
      credentials: [{ env_vars: ['OPENAI_API_KEY'], auth_style: 'bearer', header_name: 'authorization', required: true }],
      endpoints: [{ host: 'host.openshell.internal', port: 1234, protocol: 'rest', access: 'read-write', enforcement: 'enforce' }],
      binaries: ['/usr/local/bin/node', '/usr/bin/node'],
    });
    expect(profileFor({ provider: 'custom', api: 'openai-chat' }, 'https://10.0.0.5/v1').endpoints[0]).toMatchObject({ host: '10.0.0.5', port: 443 });
  });

  it.each(['openai', 'anthropic', 'openrouter'])('templates/openshell-profiles/%s.yaml is what Logos imports', (id) => {
    const p = getProvider(id);
    const file = parseYaml(readFileSync(join(ROOT, 'templates', 'openshell-profiles', `${id}.yaml`), 'utf8')) as unknown;
    expect(file).toEqual(profileFor({ provider: id, api: p.api }, p.defaultEndpoint as string));
  });
});

describe('sandbox names on OpenShell', () => {
  it('the server rule', () => {
    for (const ok of ['a', 'work', 'review-1', 'nineteen-characters']) expect(isOpenShellName(ok)).toBe(true);
    for (const bad of ['', 'twenty-characters-xy', 'with.dot', '-a', 'a-', 'a--b', 'Upper']) expect(isOpenShellName(bad)).toBe(false);
    expect(() => validateSandboxName('with.dot', 'openshell')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(validateSandboxName('with.dot', 'local')).toBe('with.dot');
  });

  it('a route name too long for OpenShell gets a short stable valid one (local keeps the route name)', () => {
    const long = 'meta-llama-llama-3-1-8b-instruct';
    const short = sandboxNameForRoute(long, 'openshell');
    expect(isOpenShellName(short)).toBe(true);
    expect(short).toBe(sandboxNameForRoute(long, 'openshell'));
    expect(short.startsWith('meta-llama')).toBe(true);
    expect(sandboxNameForRoute(long, 'local')).toBe(long);
    expect(sandboxNameForRoute('gpt-4o-mini', 'openshell')).toBe('gpt-4o-mini');
    expect(shortOpenShellName('a'.repeat(40), new Set([shortOpenShellName('a'.repeat(40))]))).not.toBe(shortOpenShellName('a'.repeat(40)));
  });
});

describe('list output of both lines', () => {
  it('reads an array (0.0.x) and an envelope with a page token (0.1.x)', () => {
    expect(parseListPage([{ name: 'a' }], 'sandboxes')).toEqual({ items: [{ name: 'a' }] });
    expect(parseListPage({ sandboxes: [{ name: 'a' }], next_page_token: 'pt1.1' }, 'sandboxes')).toEqual({ items: [{ name: 'a' }], next: 'pt1.1' });
    expect(parseListPage({ sandboxes: [], next_page_token: '' }, 'sandboxes')).toEqual({ items: [] });
    expect(parseListPage({ providers: [{ name: 'p' }] }, 'providers').items).toEqual([{ name: 'p' }]);
  });
});

describe('sandbox images', () => {
  const base = { configured: '', logosVersion: '1.2.3', gateway: 'g', gatewayIsLocal: true, localImagePresent: async () => true };
  it('picks the configured image, the community base on 0.0.x, the local build on 0.1.x', async () => {
    expect(await chooseSandboxImage({ ...base, line: '0.0' })).toBe('ghcr.io/nvidia/openshell-community/sandboxes/base:latest');
    expect(await chooseSandboxImage({ ...base, line: '0.1' })).toBe('logos-sandbox:1.2.3');
    expect(await chooseSandboxImage({ ...base, line: '0.1', configured: 'r.example/x@sha256:1' })).toBe('r.example/x@sha256:1');
    await expect(chooseSandboxImage({ ...base, line: '0.1', localImagePresent: async () => false })).rejects.toMatchObject({ code: 'IMAGE_MISSING' });
    await expect(chooseSandboxImage({ ...base, line: '0.1', gatewayIsLocal: false })).rejects.toMatchObject({ code: 'IMAGE_MISSING' });
  });

  it('refuses with numbers when disk or memory is short', async () => {
    const ctx = (disk: number | undefined, mem: number) => ({
      docker: { rootDir: async () => '/var/lib/docker' } as never,
      resources: { freeDiskBytes: async () => disk, availableMemBytes: () => mem },
      needDiskBytes: 4 * 1024 ** 3,
      needMemBytes: 1024 ** 3,
    });
    await expect(checkImageResources(ctx(10 * 1024 ** 3, 2 * 1024 ** 3), 'x')).resolves.toMatchObject({ diskFree: 10 * 1024 ** 3 });
    await expect(checkImageResources(ctx(1024 ** 3, 2 * 1024 ** 3), 'the build')).rejects.toThrow('Not starting the build: only 1.0 GiB free disk under /var/lib/docker (needs 4.0 GiB).');
    await expect(checkImageResources(ctx(undefined, 512 * 1024 ** 2), 'x')).rejects.toThrow('only 512 MiB of memory available (needs 1.0 GiB)');
    expect(repositoryOf('r.example:5000/a/b:1@sha256:x')).toBe('r.example:5000/a/b');
  });
});
