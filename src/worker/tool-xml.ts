/**
 * Tool calls written as text. A local model whose server failed to parse its tool
 * call leaves it in the content, in the model's own format:
 *   Hermes / Qwen:  <tool_call>{"name": "shell", "arguments": {"command": "ls"}}</tool_call>
 *   Qwen3-coder:    <function=shell><parameter=command>ls</parameter></function>
 *                   (usually wrapped in <tool_call>…</tool_call>)
 * This incremental splitter (like think.ts, tags may be cut anywhere) passes
 * other text through at once and holds text back from a possible opening tag
 * until it is clear whether it is a call, so the call never reaches the reply.
 */

export interface XmlToolCall {
  name: string;
  /** The arguments as JSON text (possibly malformed: validation reports it to the model). */
  arguments: string;
  /** Set when the call could not be read at all; the model gets this back as an error. */
  error?: string;
}

export type ToolXmlPart = { kind: 'text'; text: string } | ({ kind: 'call' } & XmlToolCall);

const TOOL_OPEN = '<tool_call>';
const TOOL_CLOSE = '</tool_call>';
const FN_OPEN = '<function=';
const FN_CLOSE = '</function>';
const PARAM_OPEN = '<parameter=';
const PARAM_CLOSE = '</parameter>';
/** A function name longer than this (or with spaces) means the text was not a tag. */
const MAX_NAME = 128;
/** A call's text is kept up to this size; a larger one is reported to the model as too large. */
export const MAX_XML_CALL_CHARS = 4 * 1024 * 1024;

const NAME_CHAR = /^[^\s<>]*$/;

export class ToolXmlSplitter {
  /** Calls found so far (a stray `</tool_call>` after one is dropped). */
  calls = 0;
  private mode: 'text' | 'tool_call' | 'function' = 'text';
  /** Text mode: a held-back possible tag. Block modes: the block's text so far. */
  private held = '';
  /** The block outgrew MAX_XML_CALL_CHARS: only its end is kept, to find the closing tag. */
  private overflow = false;

  /** Between blocks with nothing held back: text without `<` passes as text unchanged. */
  get idle(): boolean {
    return this.mode === 'text' && this.held === '';
  }

  push(text: string): ToolXmlPart[] {
    const out: ToolXmlPart[] = [];
    this.feed(text, out);
    return out;
  }

  /** End of the stream: an unclosed block is a call if it reads as one, else it was text. */
  end(): ToolXmlPart[] {
    const out: ToolXmlPart[] = [];
    const rest = this.held;
    this.held = '';
    const mode = this.mode;
    this.mode = 'text';
    if (mode === 'text') {
      emitText(out, rest);
      return out;
    }
    if (this.overflow) {
      this.overflow = false;
      this.push1(out, tooLarge(rest));
      return out;
    }
    const body = mode === 'tool_call' ? rest.slice(TOOL_OPEN.length) : rest;
    const trimmed = body.trimStart();
    if (trimmed.startsWith(FN_OPEN)) {
      // Qwen3-coder sometimes stops after </function> without closing </tool_call>.
      const close = trimmed.indexOf(FN_CLOSE);
      if (close !== -1) {
        this.push1(out, parseFunction(trimmed.slice(0, close)));
        emitText(out, trimmed.slice(close + FN_CLOSE.length));
        return out;
      }
      // …or even before </function>, after a complete last parameter.
      if (trimmed.trimEnd().endsWith(PARAM_CLOSE)) {
        this.push1(out, parseFunction(trimmed.trimEnd()));
        return out;
      }
    } else if (mode === 'tool_call') {
      const call = parseJsonCall(body);
      if (!call.error) {
        this.push1(out, call);
        return out;
      }
    }
    emitText(out, rest);
    return out;
  }

  private feed(text: string, out: ToolXmlPart[]): void {
    let s = this.held + text;
    this.held = '';
    while (s.length > 0) {
      if (this.mode === 'text') {
        const consumed = this.scanText(s, out);
        if (consumed === s.length) return;
        s = s.slice(consumed);
      } else {
        const close = this.mode === 'tool_call' ? TOOL_CLOSE : FN_CLOSE;
        // s is the block so far (opening tag included); only its new end can hold the close.
        const from = Math.max(0, s.length - text.length - close.length);
        const at = s.indexOf(close, this.mode === 'tool_call' ? Math.max(from, TOOL_OPEN.length) : from);
        if (at === -1) {
          if (this.overflow || s.length > MAX_XML_CALL_CHARS) {
            // Keep the head (for the name) and enough of the end to see the closing tag.
            this.overflow = true;
            s = s.slice(0, 4096) + s.slice(-close.length);
          }
          this.held = s;
          return;
        }
        const block = s.slice(0, at);
        if (this.overflow) {
          this.overflow = false;
          this.push1(out, tooLarge(block));
        } else if (this.mode === 'tool_call') {
          const body = block.slice(TOOL_OPEN.length);
          this.push1(out, body.trimStart().startsWith(FN_OPEN) ? parseFunction(body.trim()) : parseJsonCall(body));
        } else {
          this.push1(out, parseFunction(block));
        }
        this.mode = 'text';
        s = s.slice(at + close.length);
        text = s;
      }
    }
  }

  /** Scan text mode; returns how much of `s` was consumed (the rest starts a block). */
  private scanText(s: string, out: ToolXmlPart[]): number {
    let pos = 0;
    let textStart = 0;
    for (;;) {
      const lt = s.indexOf('<', pos);
      if (lt === -1) break;
      const rest = s.slice(lt, lt + TOOL_CLOSE.length + 1);
      if (s.startsWith(TOOL_OPEN, lt)) {
        emitText(out, s.slice(textStart, lt));
        this.mode = 'tool_call';
        return lt;
      }
      if (s.startsWith(FN_OPEN, lt)) {
        const gt = s.indexOf('>', lt + FN_OPEN.length);
        const name = s.slice(lt + FN_OPEN.length, gt === -1 ? undefined : gt);
        if (name.length <= MAX_NAME && NAME_CHAR.test(name)) {
          if (gt !== -1 && name.length > 0) {
            emitText(out, s.slice(textStart, lt));
            this.mode = 'function';
            return lt;
          }
          if (gt === -1) {
            // `<function=na` cut by the chunk boundary: wait for the rest of the name.
            emitText(out, s.slice(textStart, lt));
            this.held = s.slice(lt);
            return s.length;
          }
        }
        pos = lt + 1;
        continue;
      }
      if (this.calls > 0 && s.startsWith(TOOL_CLOSE, lt)) {
        // Qwen3-coder closes <function> and then </tool_call>: the call is already taken.
        emitText(out, s.slice(textStart, lt));
        pos = textStart = lt + TOOL_CLOSE.length;
        continue;
      }
      if (rest.length < TOOL_CLOSE.length && isPrefixOfTag(rest, this.calls > 0)) {
        emitText(out, s.slice(textStart, lt));
        this.held = s.slice(lt);
        return s.length;
      }
      pos = lt + 1;
    }
    emitText(out, s.slice(textStart));
    return s.length;
  }

  private push1(out: ToolXmlPart[], call: XmlToolCall): void {
    this.calls++;
    out.push({ kind: 'call', ...call });
  }
}

function isPrefixOfTag(s: string, closeToo: boolean): boolean {
  return TOOL_OPEN.startsWith(s) || FN_OPEN.startsWith(s) || (closeToo && TOOL_CLOSE.startsWith(s));
}

function emitText(out: ToolXmlPart[], text: string): void {
  if (text.length === 0) return;
  const last = out[out.length - 1];
  if (last && last.kind === 'text') last.text += text;
  else out.push({ kind: 'text', text });
}

function tooLarge(block: string): XmlToolCall {
  const m = /^<(?:tool_call>\s*<)?function=([^>\s]+)>/.exec(block) ?? /"name"\s*:\s*"([^"]{1,128})"/.exec(block);
  return { name: m?.[1] ?? '', arguments: '{}', error: `the tool call is larger than ${MAX_XML_CALL_CHARS} characters; write big files in parts` };
}

/** `{"name": …, "arguments": {…} | "…json…"}` (Hermes also uses "parameters"). */
export function parseJsonCall(body: string): XmlToolCall {
  const text = body.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const name = /"name"\s*:\s*"([^"]{1,128})"/.exec(text)?.[1] ?? '';
    return { name, arguments: text, error: `the tool call is not valid JSON (${err instanceof Error ? err.message : String(err)}); write {"name": …, "arguments": {…}}` };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { name: '', arguments: text, error: 'the tool call must be a JSON object {"name": …, "arguments": {…}}' };
  }
  const o = parsed as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name : '';
  const args = o.arguments ?? o.parameters;
  if (!name) return { name: '', arguments: text, error: 'the tool call has no "name"' };
  if (args === undefined || args === null) return { name, arguments: '{}' };
  return { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) };
}

/** `<function=NAME><parameter=KEY>VALUE</parameter>…` (the closing `</function>` already cut off or not). */
export function parseFunction(block: string): XmlToolCall {
  let s = block.startsWith(FN_OPEN) ? block : block.slice(block.indexOf(FN_OPEN));
  if (s.endsWith(FN_CLOSE)) s = s.slice(0, -FN_CLOSE.length);
  const gt = s.indexOf('>');
  const name = s.slice(FN_OPEN.length, gt).trim();
  const args: Record<string, string> = {};
  const pieces = s.slice(gt + 1).split(PARAM_OPEN).slice(1);
  for (const piece of pieces) {
    const end = piece.indexOf('>');
    if (end === -1) continue;
    const key = piece.slice(0, end).trim();
    let value = piece.slice(end + 1);
    const close = value.lastIndexOf(PARAM_CLOSE);
    if (close !== -1) value = value.slice(0, close);
    // The format puts values on their own lines: one newline either side is layout.
    if (value.startsWith('\n')) value = value.slice(1);
    if (value.endsWith('\n')) value = value.slice(0, -1);
    if (key) args[key] = value;
  }
  return { name, arguments: JSON.stringify(args) };
}

/** Split a whole string at once (tests). Adjacent text parts are merged. */
export function splitToolXml(chunks: Iterable<string>): ToolXmlPart[] {
  const t = new ToolXmlSplitter();
  const out: ToolXmlPart[] = [];
  const add = (parts: ToolXmlPart[]): void => {
    for (const p of parts) {
      const last = out[out.length - 1];
      if (p.kind === 'text' && last?.kind === 'text') last.text += p.text;
      else out.push({ ...p });
    }
  };
  for (const c of chunks) add(t.push(c));
  add(t.end());
  return out;
}
