import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { table, visibleWidth } from '../../src/cli/io.js';

/** Columns line up as a terminal shows them: colour codes take no room, wide characters two. */
describe('table', () => {
  const c = new Chalk({ level: 1 });
  const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
  /** The column where each cell after the first starts, in terminal columns. */
  const starts = (line: string, cells: string[]) => {
    const text = plain(line);
    let at = 0;
    return cells.slice(1).map((cell) => {
      at = text.indexOf(plain(cell), at + 1);
      return visibleWidth(text.slice(0, at));
    });
  };

  it('aligns coloured cells by their visible width', () => {
    const rows = [
      [c.green('reachable'), '0.1.10', 'x'],
      [c.red('disconnected'), '-', 'y'],
      ['ok', c.bold('0.0.116'), 'z'],
    ];
    const lines = table(rows, ['STATUS', 'VERSION', 'NOTE']).split('\n');
    const cols = lines.map((l, i) => starts(l, i === 0 ? ['STATUS', 'VERSION', 'NOTE'] : (rows[i - 1] as string[])));
    for (const col of cols) expect(col).toEqual(cols[0]);
    expect(lines[1]).toContain('\u001b[32mreachable\u001b[39m');
  });

  it('counts East Asian wide characters and emoji as two columns, combining marks as none', () => {
    expect(visibleWidth('日本')).toBe(4);
    expect(visibleWidth('e\u0301')).toBe(1);
    expect(visibleWidth('🙂x')).toBe(3);
    const rows = [['日本語', 'a'], ['abc', 'b']];
    const lines = table(rows, ['NAME', 'X']).split('\n');
    expect(lines.map((l) => visibleWidth(l.slice(0, l.lastIndexOf(' ') + 1)))).toEqual([8, 8, 8]);
  });
});
