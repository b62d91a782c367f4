import { describe, expect, it } from 'vitest';
import { stripControls, terminalSafe } from '../../src/core/text.js';

describe('text for a terminal', () => {
  it.each([
    ['OSC 52 clipboard write', 'a\u001b]52;c;aGk=\u0007b', 'a]52;c;aGk=b'],
    ['window title', '\u001b]0;owned\u0007x', ']0;ownedx'],
    ['OSC 8 link', '\u001b]8;;http://e/\u001b\\t\u001b]8;;\u001b\\', ']8;;http://e/\\t]8;;\\'],
    ['cursor movement and clear', '\u001b[2J\u001b[1;1Hx', '[2J[1;1Hx'],
    ['carriage return hiding text', 'rm -rf /\rls', 'rm -rf /ls'],
    ['C1 CSI', 'a\u009b31mb', 'a31mb'],
    ['bidi override', 'abc\u202edef', 'abcdef'],
    ['tab and newline kept', 'a\tb\nc', 'a\tb\nc'],
    ['plain unicode kept', 'héllo ✓ 日本', 'héllo ✓ 日本'],
  ])('stripControls removes %s', (_what, input, out) => {
    expect(stripControls(input)).toBe(out);
  });

  it('terminalSafe keeps well-formed colour codes only', () => {
    expect(terminalSafe('\u001b[31mred\u001b[39m \u001b]0;t\u0007\u001b[2J')).toBe('\u001b[31mred\u001b[39m ]0;t[2J');
  });
});
