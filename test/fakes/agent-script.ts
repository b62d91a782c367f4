/**
 * The fake model servers' scripted agent mode. A script is what the "model"
 * decides on each call of a conversation: step k answers the k-th call (k = the
 * assistant turns already in the request + 1) with tool calls (several in one
 * turn, arguments streamed in fragments) or text (a final answer, or text with
 * tool calls written in it as XML, for a server that did not parse them). The
 * server streams it in the real formats and checks the request the way the real
 * APIs do (tool results answering every call, Anthropic thinking blocks sent
 * back with a valid signature), so a worker that passes here would pass there.
 */
import { createHash } from 'node:crypto';

export interface ScriptedToolCall {
  name: string;
  /** An object (sent as its JSON) or the exact text the model writes (which may be malformed). */
  arguments: string | Record<string, unknown>;
  id?: string;
  /** Pieces the arguments' text is streamed in (default 3). */
  fragments?: number;
}

export interface AgentStep {
  /** Reasoning first: OpenAI `reasoning_content`, Anthropic a thinking block with a signature. */
  thinking?: string;
  /** Anthropic: a redacted_thinking block (its data must come back unchanged). */
  redactedThinking?: string;
  /** Visible text: narration before tool calls, the final answer, or text with XML tool calls in it. */
  text?: string;
  /** Stream the text in pieces of this many characters (default: word by word). */
  textPieceChars?: number;
  /** Tool calls through the API. */
  toolCalls?: ScriptedToolCall[];
}

export interface AgentScript {
  steps: AgentStep[];
  /** Past the end, repeat the last step (a model that never stops calling tools). */
  repeatLast?: boolean;
}

/** A scripted model name: `agent:<script>[?key=value…]`. */
export function agentScriptName(model: unknown): { name: string; params: URLSearchParams } | undefined {
  if (typeof model !== 'string' || !model.startsWith('agent:')) return undefined;
  const rest = model.slice('agent:'.length);
  const q = rest.indexOf('?');
  return { name: q === -1 ? rest : rest.slice(0, q), params: new URLSearchParams(q === -1 ? '' : rest.slice(q + 1)) };
}

/** The marker a `hang` script's command carries in its argv (so tests can look for it in /proc). */
export function hangCommand(marker: string): string {
  return `echo started; sleep 1000.${marker}`;
}

/** Scripts every fake knows: `agent:loop`, `agent:hang?marker=N`, `agent:flood-output?bytes=N`, `agent:malformed`. */
export function builtinScript(name: string, params: URLSearchParams): AgentScript | undefined {
  switch (name) {
    case 'loop':
      return { steps: [{ text: 'Once more.', toolCalls: [{ name: 'shell', arguments: { command: 'echo again' } }] }], repeatLast: true };
    case 'hang':
      return {
        steps: [{ toolCalls: [{ name: 'shell', arguments: { command: hangCommand(params.get('marker') ?? '0') } }] }, { text: 'It finished.' }],
      };
    case 'flood-output':
      return {
        steps: [
          { toolCalls: [{ name: 'shell', arguments: { command: `yes 0123456789abcdef | head -c ${Number(params.get('bytes') ?? 10 * 1024 * 1024)}` } }] },
          { text: 'That was a lot of output.' },
        ],
      };
    case 'malformed':
      return {
        steps: [
          {
            toolCalls: [
              { name: 'shell', arguments: '{"command": "echo hi"' },
              { name: 'python', arguments: { code: 'print(1)' } },
              { name: 'read_file', arguments: {} },
            ],
          },
          { text: 'I will stop here.' },
        ],
      };
    default:
      return undefined;
  }
}

/** The step that answers the k-th call (1-based), or undefined past the end. */
export function scriptStep(script: AgentScript, k: number): AgentStep | undefined {
  if (k <= script.steps.length) return script.steps[k - 1];
  return script.repeatLast ? script.steps[script.steps.length - 1] : undefined;
}

export function argumentsText(call: ScriptedToolCall): string {
  return typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
}

/** `text` cut into `n` pieces (whole code points), none empty unless the text is. */
export function fragments(text: string, n = 3): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, n)));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** The fake's thinking signature: the real API signs the text; changing either breaks it. */
export function fakeSignature(thinking: string): string {
  return `EqFake${createHash('sha256').update(thinking).digest('base64').slice(0, 40)}`;
}

/** The fake's redacted thinking data (checkable the same way). */
export function fakeRedacted(text: string): string {
  return `EmRedacted${createHash('sha256').update(`redacted:${text}`).digest('base64').slice(0, 40)}`;
}

type Msg = Record<string, unknown>;
const isObj = (v: unknown): v is Msg => typeof v === 'object' && v !== null && !Array.isArray(v);

/** OpenAI's checks of tools and tool messages (the real error texts). */
export function openAIToolProblem(body: Msg): string | undefined {
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return "Invalid type for 'tools': expected an array.";
    for (const [i, t] of body.tools.entries()) {
      if (!isObj(t) || t.type !== 'function') return `Invalid value for 'tools[${i}].type': expected 'function'.`;
      if (!isObj(t.function) || typeof t.function.name !== 'string') return `Missing required parameter: 'tools[${i}].function.name'.`;
    }
  }
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObj(m)) continue;
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      const ids: string[] = [];
      for (const [j, c] of m.tool_calls.entries()) {
        if (!isObj(c) || typeof c.id !== 'string') return `Missing required parameter: 'messages[${i}].tool_calls[${j}].id'.`;
        if (!isObj(c.function) || typeof c.function.name !== 'string' || typeof c.function.arguments !== 'string') {
          return `Missing required parameter: 'messages[${i}].tool_calls[${j}].function.arguments'.`;
        }
        ids.push(c.id);
      }
      const answered = new Set<string>();
      for (let k = i + 1; k < messages.length && isObj(messages[k]) && (messages[k] as Msg).role === 'tool'; k++) answered.add(String((messages[k] as Msg).tool_call_id));
      const missing = ids.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(', ')}`;
      }
    }
    if (m.role === 'tool') {
      let k = i - 1;
      while (k >= 0 && isObj(messages[k]) && (messages[k] as Msg).role === 'tool') k--;
      const prev = messages[k];
      const calls = isObj(prev) && prev.role === 'assistant' && Array.isArray(prev.tool_calls) ? prev.tool_calls : [];
      if (!calls.some((c) => isObj(c) && c.id === m.tool_call_id)) {
        return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
      }
      if (typeof m.content !== 'string') return `Invalid type for 'messages[${i}].content': expected a string.`;
    }
  }
  return undefined;
}

/** Anthropic's checks of tool_use / tool_result pairing and thinking blocks (the real error texts). */
export function anthropicToolProblem(body: Msg, issuedRedacted: ReadonlySet<string>): string | undefined {
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return 'tools: Input should be a valid list';
    for (const [i, t] of body.tools.entries()) {
      if (!isObj(t) || typeof t.name !== 'string' || !isObj(t.input_schema)) return `tools.${i}.custom.input_schema: Field required`;
    }
  }
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObj(m) || !Array.isArray(m.content)) continue;
    const blocks = m.content as unknown[];
    if (m.role === 'assistant') {
      const ids: string[] = [];
      for (const [j, b] of blocks.entries()) {
        if (!isObj(b)) continue;
        if (b.type === 'text' && (typeof b.text !== 'string' || b.text === '')) return 'messages: text content blocks must be non-empty';
        if (b.type === 'tool_use') {
          if (!isObj(b.input)) return `messages.${i}.content.${j}.tool_use.input: Input should be a valid dictionary`;
          ids.push(String(b.id));
        }
        if (b.type === 'thinking' && (typeof b.thinking !== 'string' || b.signature !== fakeSignature(b.thinking))) {
          return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
        }
        if (b.type === 'redacted_thinking' && !issuedRedacted.has(String(b.data))) return `messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`;
      }
      if (ids.length > 0) {
        const next = messages[i + 1];
        const results = new Set(
          isObj(next) && next.role === 'user' && Array.isArray(next.content)
            ? (next.content as unknown[]).filter((b): b is Msg => isObj(b) && b.type === 'tool_result').map((b) => String(b.tool_use_id))
            : [],
        );
        const missing = ids.filter((id) => !results.has(id));
        if (missing.length > 0) {
          return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
        }
      }
    } else {
      const prev = messages[i - 1];
      const used = new Set(
        isObj(prev) && prev.role === 'assistant' && Array.isArray(prev.content)
          ? (prev.content as unknown[]).filter((b): b is Msg => isObj(b) && b.type === 'tool_use').map((b) => String(b.id))
          : [],
      );
      for (const [j, b] of blocks.entries()) {
        if (!isObj(b) || b.type !== 'tool_result') continue;
        if (!used.has(String(b.tool_use_id))) {
          return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(b.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        }
      }
    }
  }
  return undefined;
}

/**
 * With thinking on, the API wants the last assistant turn (the one whose tool calls are
 * being answered) to start with its thinking block, unchanged.
 */
export function anthropicThinkingProblem(body: Msg, script: AgentScript): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  let turn = 0;
  let lastIndex = -1;
  let lastTurn = 0;
  for (const [i, m] of messages.entries()) {
    if (isObj(m) && m.role === 'assistant') {
      turn++;
      lastIndex = i;
      lastTurn = turn;
    }
  }
  if (lastIndex === -1) return undefined;
  const step = scriptStep(script, lastTurn);
  if (!step || (!step.thinking && !step.redactedThinking) || !step.toolCalls?.length) return undefined;
  const m = messages[lastIndex] as Msg;
  const first = Array.isArray(m.content) ? (m.content as unknown[])[0] : undefined;
  const type = isObj(first) ? String(first.type) : 'text';
  if (type !== 'thinking' && type !== 'redacted_thinking') {
    return `messages.${lastIndex}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${type}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`;
  }
  return undefined;
}

/** Assistant turns already in a request: the next call is step count + 1. */
export function assistantTurns(body: Msg): number {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  return messages.filter((m) => isObj(m) && m.role === 'assistant').length;
}
