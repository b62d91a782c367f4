import { Box, Text } from 'ink';
import { memo } from 'react';
import { GATEWAY_COLUMNS, LOG_COLUMNS, ROUTE_COLUMNS, RUN_COLUMNS, SANDBOX_COLUMNS } from '../columns.js';
import { cell, plural } from '../format.js';
import { PANE_TITLES, type PaneId } from '../keymap.js';
import type { GatewayView, RouteView, RunView, SandboxView } from '../model.js';
import type { LogEntry } from '../state.js';
import { Styled } from '../theme.js';
import { Table, type Column } from './table.js';

/** A pane: its title line (count, filter, a summary when folded) and its table. */

export interface PaneData<T> {
  all: readonly T[];
  shown: readonly T[];
  selected: number;
  filter: string;
}

export interface PaneProps<T> {
  id: PaneId;
  data: PaneData<T>;
  focused: boolean;
  /** Rows below the title line. */
  height: number;
  width: number;
  now: number;
  /** Shown on the title line when the pane has no rows of its own on screen. */
  summary: string;
  /** Extra words after the count (the log: how many were received). */
  extra?: string;
}

const keyOf = {
  gateways: (g: GatewayView) => g.name,
  routes: (r: RouteView) => r.name,
  sandboxes: (s: SandboxView) => s.name,
  runs: (r: RunView) => r.id,
  log: (r: LogEntry) => String(r.seq),
};

export const rowKey = keyOf;

const EMPTY: Record<PaneId, string> = {
  gateways: 'No gateways. `logos gateway up` starts a local one (OpenShell).',
  routes: 'No routes. `logos route add PROVIDER/MODEL --default` adds one.',
  sandboxes: 'No sandboxes. Press n to create one, or run a task (`logos run`).',
  runs: 'No runs yet.',
  log: 'No log records yet.',
};

const runNeedsNow = (r: RunView): boolean => r.status === 'running';

export function TitleLine({ title, focused, count, filter, summary, extra, width }: { title: string; focused: boolean; count: string; filter: string; summary: string; extra?: string | undefined; width: number }) {
  return (
    <Box height={1} width={width}>
      <Text wrap="truncate-end">
        <Styled style={focused ? 'focusTitle' : 'title'}>{`${focused ? '▸' : ' '} ${title}`}</Styled>
        <Styled style="dim">{` ${count}`}</Styled>
        {extra ? <Styled style="dim">{` · ${extra}`}</Styled> : null}
        {filter ? <Styled style="accent">{`  /${cell(filter, 60)}`}</Styled> : null}
        {summary ? <Styled style="dim">{`  ${summary}`}</Styled> : null}
      </Text>
    </Box>
  );
}

export function countText(shown: number, all: number): string {
  return shown === all ? all.toLocaleString('en-US') : `${shown.toLocaleString('en-US')}/${all.toLocaleString('en-US')}`;
}

function PaneImpl<T>({ id, data, focused, height, width, now, summary, extra }: PaneProps<T>) {
  const columns = { gateways: GATEWAY_COLUMNS, routes: ROUTE_COLUMNS, sandboxes: SANDBOX_COLUMNS, runs: RUN_COLUMNS, log: LOG_COLUMNS }[id] as unknown as readonly Column<T>[];
  const k = keyOf[id] as unknown as (row: T) => string;
  const showHeader = focused && height >= 3;
  return (
    <Box flexDirection="column" height={height + 1} width={width}>
      <TitleLine title={PANE_TITLES[id]} focused={focused} count={countText(data.shown.length, data.all.length)} filter={data.filter} summary={height === 0 ? summary : ''} extra={extra} width={width} />
      <Table
        rows={data.shown}
        columns={columns}
        width={width}
        height={height - (showHeader ? 1 : 0)}
        selected={data.selected}
        highlight={focused}
        keyOf={k}
        showHeader={showHeader}
        now={now}
        {...(id === 'runs' ? { needsNow: runNeedsNow as unknown as (r: T) => boolean } : {})}
        empty={data.filter && data.all.length > 0 ? 'Nothing matches the filter (Esc clears it).' : EMPTY[id]}
      />
    </Box>
  );
}

export const Pane = memo(PaneImpl) as typeof PaneImpl;

/** The runs of one sandbox (drilled in from Sandboxes). */
export const SandboxRuns = memo(function SandboxRuns({ name, data, height, width, now }: { name: string; data: PaneData<RunView>; height: number; width: number; now: number }) {
  return (
    <Box flexDirection="column" height={height} width={width}>
      <TitleLine title={`Runs in ${cell(name, 40)}`} focused count={countText(data.shown.length, data.all.length)} filter={data.filter} summary="" width={width} />
      <Table
        rows={data.shown}
        columns={RUN_COLUMNS}
        width={width}
        height={height - 2}
        selected={data.selected}
        highlight
        keyOf={keyOf.runs}
        showHeader
        now={now}
        needsNow={runNeedsNow}
        empty={data.filter && data.all.length > 0 ? 'Nothing matches the filter (Esc clears it).' : 'No runs in this sandbox yet. Press r to run a task.'}
      />
    </Box>
  );
});

/** A line for a folded pane: what matters at a glance. */
export function summaries(d: { gateways: readonly GatewayView[]; routes: readonly RouteView[]; sandboxes: readonly SandboxView[]; runs: readonly RunView[]; logs: readonly LogEntry[] }): Record<PaneId, string> {
  const reachable = d.gateways.filter((g) => g.reachable === true).length;
  const byStatus = new Map<string, number>();
  for (const r of d.routes) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  const inFlight = d.sandboxes.reduce((n, s) => n + s.running, 0);
  let running = 0;
  let failed = 0;
  for (const r of d.runs) {
    if (r.status === 'running') running += 1;
    else if (r.status !== 'ok') failed += 1;
  }
  const last = d.logs[d.logs.length - 1];
  return {
    gateways: d.gateways.length ? `${reachable} reachable` : '',
    routes: [...byStatus].map(([s, n]) => `${n} ${cell(s, 20)}`).join(' · '),
    sandboxes: d.sandboxes.length ? plural(inFlight, 'task') + ' in flight' : '',
    runs: d.runs.length ? `${running} running · ${failed} not ok` : '',
    log: last ? `${cell(last.level, 5)} ${cell(last.msg, 120)}` : '',
  };
}
