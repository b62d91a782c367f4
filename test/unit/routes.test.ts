import { describe, expect, it } from 'vitest';
import { nullLogger } from '../../src/core/context.js';
import type { Records } from '../../src/core/ports.js';
import { addRoute, emptyRoutes, removeRoute, resolveRoute, type RoutesFile } from '../../src/core/routes.js';

/** In-memory Records: the same contract as a JsonFile, for core logic tests. */
function memory<T>(initial: T): Records<T> & { value: T } {
  const box = { value: structuredClone(initial) };
  return {
    get value() {
      return box.value;
    },
    async read() {
      return structuredClone(box.value);
    },
    async update(fn) {
      const v = structuredClone(box.value);
      const r = await fn(v);
      box.value = v;
      return r;
    },
  };
}

const clock = { now: () => new Date('2026-11-21T12:00:00Z') };

describe('addRoute', () => {
  it('uses a local server found on its usual port', async () => {
    const routes = memory<RoutesFile>(emptyRoutes());
    const asked: string[][] = [];
    const res = await addRoute(
      { routes, clock, logger: nullLogger, discover: async (c) => (asked.push(c), c[0]) },
      { spec: 'lmstudio/qwen/qwen3.5-9b' },
    );
    expect(asked).toEqual([['http://127.0.0.1:1234/v1']]);
    expect(res).toMatchObject({ endpointSource: 'discovered', isDefault: true, route: { name: 'qwen-qwen3-5-9b', endpoint: 'http://127.0.0.1:1234/v1', api: 'openai-chat' } });
    expect(res.warning).toBeUndefined();
  });

  it('keeps the usual endpoint with a warning when nothing answers, and never probes cloud providers', async () => {
    const routes = memory<RoutesFile>(emptyRoutes());
    let probes = 0;
    const discover = async () => {
      probes += 1;
      return undefined;
    };
    const local = await addRoute({ routes, clock, logger: nullLogger, discover }, { spec: 'ollama/llama3.2' });
    expect(local.endpointSource).toBe('default');
    expect(local.warning).toContain('Ollama is not answering');
    await addRoute({ routes, clock, logger: nullLogger, discover }, { spec: 'anthropic/claude-x' });
    expect(probes).toBe(1);
  });

  it('a gateway route starts as provisioning with a stable, unique workspace', async () => {
    const routes = memory<RoutesFile>(emptyRoutes());
    const ctx = { routes, clock, logger: nullLogger };
    const a = await addRoute(ctx, { spec: 'openai/meta-llama-llama-3-1-8b-instruct-v1', gateway: 'g' });
    const b = await addRoute(ctx, { spec: 'openai/meta-llama-llama-3-1-8b-instruct-v2', gateway: 'g' });
    expect(a.route.status).toBe('provisioning');
    expect(a.route.workspace).not.toBe(b.route.workspace);
    for (const w of [a.route.workspace, b.route.workspace]) expect(w?.length).toBeLessThanOrEqual(19);
    const again = await addRoute(ctx, { spec: 'openai/meta-llama-llama-3-1-8b-instruct-v1', gateway: 'g', replace: true });
    expect(again.route.workspace).toBe(a.route.workspace);
  });

  it('a demo route never becomes the default by itself; removing the default picks another', async () => {
    const routes = memory<RoutesFile>(emptyRoutes());
    const ctx = { routes, clock, logger: nullLogger };
    await addRoute(ctx, { spec: 'custom/logos-demo', endpoint: 'http://127.0.0.1:9/v1', name: 'demo', demo: true });
    await expect(resolveRoute(ctx)).rejects.toMatchObject({ code: 'NO_DEFAULT_ROUTE' });
    await addRoute(ctx, { spec: 'openai/a' });
    await addRoute(ctx, { spec: 'openai/b' });
    expect((await resolveRoute(ctx)).name).toBe('a');
    await removeRoute(ctx, 'a', [], false);
    expect((await resolveRoute(ctx)).name).toBe('b');
  });
});

describe('--route by provider/model', () => {
  it('finds the one route added with that spec; two are ambiguous; names still win', async () => {
    const routes = memory<RoutesFile>(emptyRoutes());
    const ctx = { routes, clock, logger: nullLogger };
    await addRoute(ctx, { spec: 'lmstudio/qwen/qwen3.5-9b', endpoint: 'http://127.0.0.1:1234/v1' });
    await addRoute(ctx, { spec: 'openai/gpt-4o-mini' });
    expect((await resolveRoute(ctx, 'lmstudio/qwen/qwen3.5-9b')).name).toBe('qwen-qwen3-5-9b');
    expect((await resolveRoute(ctx, 'qwen-qwen3-5-9b')).name).toBe('qwen-qwen3-5-9b');
    await addRoute(ctx, { spec: 'openai/gpt-4o-mini', name: 'mini-2' });
    await expect(resolveRoute(ctx, 'openai/gpt-4o-mini')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: '2 routes use openai/gpt-4o-mini: gpt-4o-mini, mini-2.' });
    await expect(resolveRoute(ctx, 'ollama/llama3.2')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
