import { Box, Text } from 'ink';
import { memo, useContext } from 'react';
import { cell, runDuration, tokens } from '../format.js';
import type { RunView as RunRow } from '../model.js';
import type { Line } from '../run-lines.js';
import type { WatchedRun } from '../state.js';
import { Styled } from '../theme.js';
import { ProbeContext } from './table.js';

/**
 * One run, live: the reply as it streams, reasoning dimmed (`┊`), each tool call a
 * line that Enter expands, the result with its usage. Only the lines in the window
 * are rendered; a line that did not change is not drawn again.
 */

export interface RunViewProps {
  id: string;
  run: RunRow | undefined;
  watched: WatchedRun | undefined;
  lines: readonly Line[];
  /** First line shown; undefined follows the end. */
  top: number | undefined;
  selectedTool: string | undefined;
  height: number;
  width: number;
  now: number;
}

/** Lines of the transcript that fit (the view's own two lines taken off). */
export function runViewportHeight(height: number): number {
  return Math.max(1, height - 2);
}

const LineRow = memo(function LineRow({ line, selected }: { line: Line; selected: boolean }) {
  const probe = useContext(ProbeContext);
  if (probe) probe.rows += 1;
  return (
    <Box height={1}>
      <Text wrap="truncate-end">
        {selected ? '› ' : '  '}
        {line.segs.map((s, i) => (
          <Styled key={i} style={selected && line.callId ? 'selected' : s.style}>
            {s.text}
          </Styled>
        ))}
      </Text>
    </Box>
  );
});

function info(id: string, run: RunRow | undefined, now: number): string {
  if (!run) return cell(id);
  const parts = [cell(run.id), `sandbox ${cell(run.sandbox)}`, `route ${cell(run.route)}`, cell(run.error && run.status !== 'ok' ? `${run.status} ${run.error.code}` : run.status)];
  const d = runDuration(run, now);
  if (d) parts.push(d);
  const t = tokens(run.inputTokens, run.outputTokens);
  if (t) parts.push(`${t} tokens`);
  if (run.steps !== undefined) parts.push(`${run.steps} steps`);
  return parts.join(' · ');
}

export function RunView({ id, run, watched, lines, top, selectedTool, height, width, now }: RunViewProps) {
  const vh = runViewportHeight(height);
  const max = Math.max(0, lines.length - vh);
  const first = top === undefined ? max : Math.min(top, max);
  const visible = lines.slice(first, first + vh);
  const loading = !watched || watched.loading;
  const position =
    lines.length <= vh ? (watched?.transcript.done ? 'end of run' : 'following') : top === undefined ? `following · ${lines.length} lines` : `lines ${first + 1}–${first + visible.length} of ${lines.length} · G follows`;
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Box height={1}>
        <Text wrap="truncate-end">
          <Styled style="bold">{info(id, run, run?.status === 'running' ? now : 0)}</Styled>
        </Text>
      </Box>
      <Box flexDirection="column" height={vh}>
        {loading && lines.length === 0 ? <Styled style="dim">{'  loading the frames so far…'}</Styled> : null}
        {!loading && lines.length === 0 ? <Styled style="dim">{'  no output yet'}</Styled> : null}
        {visible.map((l, i) => (
          <LineRow key={first + i} line={l} selected={l.callId !== undefined && l.callId === selectedTool} />
        ))}
      </Box>
      <Box height={1}>
        <Styled style="dim" wrap="truncate-end">
          {position}
        </Styled>
      </Box>
    </Box>
  );
}
