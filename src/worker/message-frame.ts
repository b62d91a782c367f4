/**
 * `message` frames: each message the worker adds to the conversation, in the
 * neutral form, so the host can keep a session. A frame must stay a line the
 * host reads (under MAX_FRAME_BYTES): content and arguments are cut to their
 * beginning (and flagged) when they would not fit.
 */
import { MAX_FRAME_BYTES, MAX_MESSAGE_FRAME_CONTENT_BYTES, type ChatMessage, type MessageFrame } from '../core/protocol.js';
import { utf8Head } from './text.js';

function cut(text: string, max: number): { text: string; cut: boolean } {
  if (text.length * 3 <= max || Buffer.byteLength(text) <= max) return { text, cut: false };
  return { text: utf8Head(text, max), cut: true };
}

function cutMessage(m: ChatMessage, budget: number): { message: ChatMessage; cut: boolean } {
  const content = cut(m.content, budget);
  let any = content.cut;
  if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
    const each = Math.floor(budget / m.tool_calls.length);
    const calls = m.tool_calls.map((c) => {
      const a = cut(c.arguments, each);
      any ||= a.cut;
      return { ...c, arguments: a.text };
    });
    return { message: { ...m, content: content.text, tool_calls: calls }, cut: any };
  }
  return { message: { ...m, content: content.text }, cut: any };
}

export function messageFrame(taskId: string, message: ChatMessage, truncated = false): MessageFrame {
  // JSON escaping can make text up to six times longer: halve the budget until the line fits.
  for (let budget = MAX_MESSAGE_FRAME_CONTENT_BYTES; ; budget = Math.floor(budget / 2)) {
    const r = cutMessage(message, budget);
    const frame: MessageFrame = { type: 'message', task_id: taskId, message: r.message };
    if (truncated || r.cut) frame.truncated = true;
    if (budget < 1024 || Buffer.byteLength(JSON.stringify(frame)) < MAX_FRAME_BYTES - 4096) return frame;
  }
}
