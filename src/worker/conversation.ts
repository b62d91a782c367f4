/**
 * The conversation the loop sends on each step: the task's messages (earlier
 * turns of a session, in the neutral ChatMessage form) and what this task added.
 * Each API reader turns it into its own format (openai.ts, anthropic.ts).
 */
import type { ChatMessage } from '../core/protocol.js';

/** Anthropic reasoning blocks, sent back verbatim: the API checks them when tool use follows thinking. */
export type AnthropicThinkingBlock = { type: 'thinking'; thinking: string; signature: string } | { type: 'redacted_thinking'; data: string };

export interface ConversationEntry {
  message: ChatMessage;
  /** Anthropic: the reasoning blocks of an assistant turn made in this task. */
  thinking?: AnthropicThinkingBlock[];
}

export function conversationOf(messages: readonly ChatMessage[]): ConversationEntry[] {
  return messages.map((message) => ({ message }));
}

/**
 * A call's arguments as the object the APIs want back. Arguments the model wrote
 * malformed go back as {} (servers that parse the history would reject them;
 * the model learnt what was wrong from the tool result).
 */
export function argumentsObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The arguments as JSON text for OpenAI: as written when they are an object, else "{}". */
export function argumentsText(text: string): string {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? text : '{}';
  } catch {
    return '{}';
  }
}

/** A tool result is never sent empty (Anthropic rejects empty content). */
export function toolResultText(content: string): string {
  return content === '' ? '(no output)' : content;
}
