/**
 * Text that reaches a terminal. A model, a worker or an upstream server can put
 * control sequences in what Logos prints (OSC 52 clipboard writes, window titles,
 * OSC 8 links, cursor movement, a carriage return that hides a line). Everything
 * printed for a person goes through here; --json output does not (it is data).
 */

/** C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides that reorder text. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Remove control characters (keeps tab and newline). */
export function stripControls(text: string): string {
  return text.replace(CONTROLS, '');
}

/** Our own colour codes (SGR: ESC [ params m) are the only escape sequences a human printer keeps. */
const SGR_OR_CONTROL = /\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Last line of defence at the printer: strip every control character except
 * tab, newline and well-formed SGR colour codes. Untrusted text is passed
 * through stripControls (or escaped) before it is coloured, so what is kept
 * here are the colours Logos added itself (on a terminal, or with --color always).
 */
export function terminalSafe(text: string): string {
  return text.replace(SGR_OR_CONTROL, (m) => (m.length > 1 ? m : ''));
}
