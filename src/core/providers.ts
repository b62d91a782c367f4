import type { RouteApi } from './protocol.js';
import { LogosError } from './errors.js';

/** The providers Logos knows. Local ones speak the OpenAI-compatible API on their usual ports. */
export interface ProviderInfo {
  id: string;
  label: string;
  api: RouteApi;
  /** Default endpoint (the OpenAI-compatible or Anthropic base URL, with /v1). */
  defaultEndpoint?: string;
  /** True for model servers that usually run on this machine (auto-discovered). */
  local: boolean;
  /** Environment variable read as a fallback credential. */
  keyEnv?: string;
  /** Whether a key is required to talk to it. */
  needsKey: boolean;
  /** OpenShell provider type used when the route lives on a gateway. */
  openshellType: 'openai' | 'anthropic';
}

export const PROVIDERS: readonly ProviderInfo[] = [
  { id: 'lmstudio', label: 'LM Studio', api: 'openai-chat', defaultEndpoint: 'http://127.0.0.1:1234/v1', local: true, keyEnv: 'LMSTUDIO_API_KEY', needsKey: false, openshellType: 'openai' },
  { id: 'ollama', label: 'Ollama', api: 'openai-chat', defaultEndpoint: 'http://127.0.0.1:11434/v1', local: true, keyEnv: 'OLLAMA_API_KEY', needsKey: false, openshellType: 'openai' },
  { id: 'llamacpp', label: 'llama.cpp server', api: 'openai-chat', defaultEndpoint: 'http://127.0.0.1:8080/v1', local: true, keyEnv: 'LLAMACPP_API_KEY', needsKey: false, openshellType: 'openai' },
  { id: 'openai', label: 'OpenAI', api: 'openai-chat', defaultEndpoint: 'https://api.openai.com/v1', local: false, keyEnv: 'OPENAI_API_KEY', needsKey: true, openshellType: 'openai' },
  { id: 'anthropic', label: 'Anthropic', api: 'anthropic-messages', defaultEndpoint: 'https://api.anthropic.com/v1', local: false, keyEnv: 'ANTHROPIC_API_KEY', needsKey: true, openshellType: 'anthropic' },
  { id: 'openrouter', label: 'OpenRouter', api: 'openai-chat', defaultEndpoint: 'https://openrouter.ai/api/v1', local: false, keyEnv: 'OPENROUTER_API_KEY', needsKey: true, openshellType: 'openai' },
  { id: 'custom', label: 'Any OpenAI-compatible server (needs --endpoint)', api: 'openai-chat', local: false, keyEnv: 'CUSTOM_API_KEY', needsKey: false, openshellType: 'openai' },
];

export function providerIds(): string[] {
  return PROVIDERS.map((p) => p.id);
}

export function getProvider(id: string): ProviderInfo {
  const p = PROVIDERS.find((x) => x.id === id);
  if (!p) {
    throw new LogosError('INVALID_ARGUMENT', `Unknown provider '${id}'.`, {
      hint: `Known providers: ${providerIds().join(', ')}. Example: \`logos route add lmstudio/qwen/qwen3.5-9b\`.`,
    });
  }
  return p;
}

/** Map of provider id → fallback environment variable, for `creds list`. */
export function providerKeyEnvs(): Record<string, string | undefined> {
  return Object.fromEntries(PROVIDERS.map((p) => [p.id, p.keyEnv]));
}

/** `lmstudio/qwen/qwen3.5-9b` → provider lmstudio, model qwen/qwen3.5-9b. */
export function parseProviderModel(spec: string): { provider: string; model: string } {
  const i = spec.indexOf('/');
  if (i <= 0 || i === spec.length - 1) {
    throw new LogosError('INVALID_ARGUMENT', `Expected <provider>/<model>, got '${spec}'.`, {
      hint: 'For example `logos route add openai/gpt-4o-mini` or `logos route add lmstudio/qwen/qwen3.5-9b`.',
    });
  }
  return { provider: spec.slice(0, i), model: spec.slice(i + 1) };
}

/** Validate and normalise an endpoint URL (strip trailing slashes). */
export function normalizeEndpoint(url: string): string {
  // WHATWG URL parsing silently drops tabs and newlines (`…/v1\nX` becomes `…/v1X`): refuse them instead.
  if (/[\u0000-\u001f\u007f-\u009f\s]/.test(url)) {
    throw new LogosError('INVALID_ARGUMENT', `Invalid endpoint URL ${JSON.stringify(url)}: it contains spaces or control characters.`, {
      hint: 'Give the base URL including /v1, e.g. http://127.0.0.1:1234/v1.',
    });
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LogosError('INVALID_ARGUMENT', `Invalid endpoint URL '${url}'.`, {
      hint: 'Give the base URL including /v1, e.g. http://127.0.0.1:1234/v1.',
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new LogosError('INVALID_ARGUMENT', `Endpoint must be http or https, got '${u.protocol}'.`, {
      hint: 'Give the base URL including /v1, e.g. http://127.0.0.1:1234/v1.',
    });
  }
  if (u.username || u.password) {
    throw new LogosError('INVALID_ARGUMENT', 'Endpoint URLs must not carry credentials.', {
      hint: 'Store the key with `logos creds set <provider>` instead.',
    });
  }
  if (u.search || u.hash || url.includes('?') || url.includes('#')) {
    // The proxy and OpenShell join paths onto the base URL; a query string would be dropped on the way.
    throw new LogosError('INVALID_ARGUMENT', `Endpoint URLs cannot carry a query string or fragment ('${u.search}${u.hash}').`, {
      hint: 'Give only the base URL, e.g. https://my-resource.openai.azure.com/openai/v1 (Azure\'s v1 API needs no api-version).',
    });
  }
  return u.toString().replace(/\/+$/, '');
}
