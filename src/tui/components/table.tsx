import { Box, Text } from 'ink';
import { createContext, memo, useContext, useRef } from 'react';
import { scrollOffset } from '../layout.js';
import type { Style } from '../run-lines.js';
import { styleProps, Styled, useTheme } from '../theme.js';

/**
 * A list drawn as a table, virtualised: only the rows in the window are rendered
 * (1,000 runs cost as much as 20), each row memoised on its data object, so an
 * update redraws the rows that changed and nothing else.
 */

export interface Column<T> {
  title: string;
  width: number;
  /** Takes the room left over (one column per table). */
  grow?: boolean;
  /** Lower goes first when the terminal is narrow; 0 is always shown. */
  drop?: number;
  text: (row: T, now: number) => string;
  style?: (row: T) => Style | undefined;
}

/** Counts what is rendered, for tests and the bench (a context, so nothing global). */
export interface RenderProbe {
  rows: number;
}
export const ProbeContext = createContext<RenderProbe | undefined>(undefined);

/** The columns that fit in `width` (dropping the lowest `drop` first), and their widths. */
export function fitColumns<T>(columns: readonly Column<T>[], width: number): Array<Column<T> & { w: number }> {
  let cols = columns.slice();
  const need = (cs: readonly Column<T>[]): number => cs.reduce((n, c) => n + c.width + 1, 2);
  while (need(cols) > width) {
    let victim = -1;
    cols.forEach((c, i) => {
      if ((c.drop ?? 0) > 0 && (victim === -1 || (c.drop ?? 0) < (cols[victim]?.drop ?? 0))) victim = i;
    });
    if (victim === -1) break;
    cols = cols.filter((_, i) => i !== victim);
  }
  const spare = Math.max(0, width - need(cols));
  return cols.map((c) => ({ ...c, w: c.grow ? c.width + spare : c.width }));
}

interface RowProps<T> {
  row: T;
  cols: Array<Column<T> & { w: number }>;
  selected: boolean;
  now: number;
}

/** A cell cut or padded to its width (its characters counted as one column each: names and ids are ASCII; the last column, free text, is never padded). */
export function fit(text: string, w: number, last: boolean): string {
  if (text.length > w) return w <= 1 ? text.slice(0, w) : `${text.slice(0, w - 1)}…`;
  return last ? text : text.padEnd(w);
}

function RowImpl<T>({ row, cols, selected, now }: RowProps<T>) {
  const probe = useContext(ProbeContext);
  if (probe) probe.rows += 1;
  const { color } = useTheme();
  // One text node per row (cells as nested text): a box per cell made ink lay out and write
  // five times as many nodes on every frame.
  return (
    <Text wrap="truncate-end">
      {selected ? '› ' : '  '}
      {cols.map((c, i) => (
        <Text key={i} {...styleProps(color, selected ? 'selected' : c.style?.(row))}>
          {fit(c.text(row, now), c.w, i === cols.length - 1)}
          {i < cols.length - 1 ? ' ' : ''}
        </Text>
      ))}
    </Text>
  );
}

const Row = memo(RowImpl) as typeof RowImpl;

export interface TableProps<T> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  width: number;
  /** Rows for the data (the column titles take one more when shown). */
  height: number;
  /** The row kept in view (the log's last one while it follows). */
  selected: number;
  /** Mark the selected row (only in the focused list). */
  highlight: boolean;
  keyOf: (row: T) => string;
  showHeader: boolean;
  /** The clock, for rows that show a running time (others get 0 so they stay memoised). */
  now: number;
  needsNow?: (row: T) => boolean;
  empty: string;
}

export function Table<T>({ rows, columns, width, height, selected, highlight, keyOf, showHeader, now, needsNow, empty }: TableProps<T>) {
  const cols = useFitted(columns, width);
  const offsetRef = useRef(0);
  const offset = scrollOffset(offsetRef.current, selected, height, rows.length);
  offsetRef.current = offset;
  if (height <= 0) return null;
  const visible = rows.slice(offset, offset + height);
  return (
    <Box flexDirection="column" height={height + (showHeader ? 1 : 0)}>
      {showHeader ? (
        <Styled style="dim" wrap="truncate-end">
          {`  ${cols.map((c, i) => fit(c.title, c.w, i === cols.length - 1)).join(' ')}`}
        </Styled>
      ) : null}
      {rows.length === 0 ? (
        <Styled style="dim">{`  ${empty}`}</Styled>
      ) : (
        visible.map((r, i) => <Row key={keyOf(r)} row={r} cols={cols} selected={highlight && offset + i === selected} now={needsNow?.(r) ? now : 0} />)
      )}
    </Box>
  );
}

/** fitColumns, recomputed only when the columns or the width change (so rows stay memoised). */
function useFitted<T>(columns: readonly Column<T>[], width: number): Array<Column<T> & { w: number }> {
  const ref = useRef<{ columns: readonly Column<T>[]; width: number; cols: Array<Column<T> & { w: number }> } | undefined>(undefined);
  if (!ref.current || ref.current.columns !== columns || ref.current.width !== width) ref.current = { columns, width, cols: fitColumns(columns, width) };
  return ref.current.cols;
}
