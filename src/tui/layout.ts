import { PANES, type PaneId } from './keymap.js';

/**
 * Sizes, pure. The screen is a column: header, the panes (or a drilled-in view),
 * a status line, the footer. Every pane keeps its title line; the focused pane
 * gets the room, the others a few rows each when the terminal is tall enough.
 */

/** Rows a pane that is not focused shows: none on a small terminal (its title line carries a summary). */
export function unfocusedRows(rows: number): number {
  if (rows >= 40) return 4;
  if (rows >= 32) return 2;
  return 0;
}

/** Content rows (below the title line) of each pane, given the rows for all panes. */
export function paneHeights(available: number, focus: PaneId, counts: Record<PaneId, number>, rows: number): Record<PaneId, number> {
  const cap = unfocusedRows(rows);
  const out = {} as Record<PaneId, number>;
  let used = PANES.length; // title lines
  for (const p of PANES) {
    if (p === focus) continue;
    // A pane with no rows shows one line ("none") only when it has room to spare.
    out[p] = Math.min(cap, Math.max(counts[p], cap > 0 ? 1 : 0));
    used += out[p];
  }
  out[focus] = Math.max(1, available - used);
  // Room the focused pane cannot fill goes to the log (the live part), when the log is not the focus.
  const want = Math.max(3, counts[focus] + 1);
  if (focus !== 'log' && out[focus] > want) {
    out.log += out[focus] - want;
    out[focus] = want;
  }
  return out;
}

/** The first row to show so that `selected` is in a window of `height` rows, moving as little as possible from `offset`. */
export function scrollOffset(offset: number, selected: number, height: number, total: number): number {
  if (height <= 0 || total <= height) return 0;
  let o = offset;
  if (selected < o) o = selected;
  if (selected >= o + height) o = selected - height + 1;
  return Math.max(0, Math.min(o, total - height));
}
