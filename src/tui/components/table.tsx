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

function RowImpl<T>({ row, cols, selected, now }: RowProps<T>) {
  const probe = useContext(ProbeContext);
  if (probe) probe.rows += 1;
  const { color } = useTheme();
  return (
    <Box height={1}>
      <Text>{selected ? '› ' : '  '}</Text>
      {cols.map((c, i) => (
        <Box key={i} width={c.w} marginRight={1}>
          <Text wrap="truncate-end" {...styleProps(color, selected ? 'selected' : c.style?.(row))}>
            {c.text(row, now)}
          </Text>
        </Box>
      ))}
    </Box>
  );
}

const Row = memo(RowImpl) as typeof RowImpl;

export interface TableProps<T> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  width: number;
  /** Rows for the data (the column titles take one more when shown). */
  height: number;
  selected: number;
  keyOf: (row: T) => string;
  showHeader: boolean;
  /** The clock, for rows that show a running time (others get 0 so they stay memoised). */
  now: number;
  needsNow?: (row: T) => boolean;
  empty: string;
}

export function Table<T>({ rows, columns, width, height, selected, keyOf, showHeader, now, needsNow, empty }: TableProps<T>) {
  const cols = useFitted(columns, width);
  const offsetRef = useRef(0);
  const offset = scrollOffset(offsetRef.current, selected, height, rows.length);
  offsetRef.current = offset;
  if (height <= 0) return null;
  const visible = rows.slice(offset, offset + height);
  return (
    <Box flexDirection="column" height={height + (showHeader ? 1 : 0)} overflow="hidden">
      {showHeader ? (
        <Box height={1}>
          <Text>{'  '}</Text>
          {cols.map((c, i) => (
            <Box key={i} width={c.w} marginRight={1}>
              <Styled style="dim" wrap="truncate-end">
                {c.title}
              </Styled>
            </Box>
          ))}
        </Box>
      ) : null}
      {rows.length === 0 ? (
        <Styled style="dim">{`  ${empty}`}</Styled>
      ) : (
        visible.map((r, i) => <Row key={keyOf(r)} row={r} cols={cols} selected={offset + i === selected} now={needsNow?.(r) ? now : 0} />)
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
