/** Is an OpenAI-compatible server answering at this base URL? (GET {base}/models, short timeout) */
export async function isOpenAICompatibleUp(baseUrl: string, timeoutMs = 800): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/models`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => {});
    // Any HTTP answer means a server is there (401 = it wants a key, which is still "found").
    return res.status < 500;
  } catch {
    return false;
  }
}

/** The first candidate base URL that answers, or undefined. */
export async function discoverEndpoint(candidates: string[], timeoutMs = 800): Promise<string | undefined> {
  const results = await Promise.all(candidates.map(async (c) => ((await isOpenAICompatibleUp(c, timeoutMs)) ? c : undefined)));
  return results.find((r) => r !== undefined);
}
