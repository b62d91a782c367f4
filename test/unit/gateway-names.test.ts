import { describe, expect, it } from 'vitest';
import { providerNameFor, workspaceNameFor } from '../../src/core/gateway-routes.js';
import { containerName, validateGatewayName } from '../../src/core/gateways.js';
import { gatewayVisibleEndpoint } from '../../src/core/openshell.js';

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

describe('workspaceNameFor', () => {
  it.each(['gpt-4o-mini', 'qwen-qwen3-5-9b', 'a', 'claude-sonnet-4-5'])('keeps a short route name: %s', (n) => {
    expect(workspaceNameFor(n)).toBe(n);
  });

  it.each(['meta-llama-llama-3-1-8b-instruct', 'deepseek-ai-deepseek-r1-distill-qwen-32b', 'x'.repeat(63), 'abcdefghijklmnopqrst'])(
    'derives a ≤19-char DNS label from a long one: %s',
    (n) => {
      const w = workspaceNameFor(n);
      expect(w.length).toBeLessThanOrEqual(19);
      expect(w).toMatch(DNS_LABEL);
      expect(w.startsWith(n.slice(0, 5))).toBe(true);
      // stable: the same name gives the same workspace
      expect(workspaceNameFor(n)).toBe(w);
    },
  );

  it('is unique among the workspaces already taken on the gateway', () => {
    const a = 'meta-llama-llama-3-1-8b-instruct';
    const first = workspaceNameFor(a);
    const second = workspaceNameFor(a, new Set([first]));
    expect(second).not.toBe(first);
    expect(second.length).toBeLessThanOrEqual(19);
    expect(second).toMatch(DNS_LABEL);
    expect(workspaceNameFor('gpt-4o', new Set(['gpt-4o']))).not.toBe('gpt-4o');
  });

  it('different long names with the same prefix do not collide', () => {
    const names = Array.from({ length: 200 }, (_, i) => `organisation-model-family-variant-${i}`);
    expect(new Set(names.map((n) => workspaceNameFor(n))).size).toBe(200);
  });
});

describe('gatewayVisibleEndpoint', () => {
  it.each([
    ['http://127.0.0.1:1234/v1', true, 'http://host.openshell.internal:1234/v1'],
    ['http://localhost:11434/v1', true, 'http://host.openshell.internal:11434/v1'],
    ['http://[::1]:8080/v1', true, 'http://host.openshell.internal:8080/v1'],
    ['http://127.0.0.1:1234/v1', false, 'http://127.0.0.1:1234/v1'],
    ['https://api.openai.com/v1', true, 'https://api.openai.com/v1'],
    ['http://10.0.0.5:8000/v1', true, 'http://10.0.0.5:8000/v1'],
  ])('%s (local gateway: %s) → %s', (url, local, want) => expect(gatewayVisibleEndpoint(url, local)).toBe(want));
});

describe('gateway names', () => {
  it('validates and derives container and provider names', () => {
    expect(validateGatewayName('logos')).toBe('logos');
    expect(() => validateGatewayName('Lab_1')).toThrow(/Invalid gateway name/);
    expect(containerName('logos')).toBe('logos-gw-logos');
    expect(providerNameFor({ provider: 'lmstudio' })).toBe('logos-lmstudio');
  });
});
