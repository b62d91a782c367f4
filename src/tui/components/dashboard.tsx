import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { errorView, perform } from '../actions.js';
import { searchText } from '../columns.js';
import { filterLog, filterRows } from '../filter.js';
import { PANE_TITLES, PANES, type KeyContext, type ListId, type PaneId } from '../keymap.js';
import { paneHeights } from '../layout.js';
import type { DataSource, GatewayView, RouteView, RunView, SandboxView } from '../model.js';
import { transcriptLines, type LineCache } from '../run-lines.js';
import type { DashboardStore } from '../store.js';
import { EMPTY_TRANSCRIPT, toolIds } from '../transcript.js';
import { currentList, INITIAL_UI, reduce, top, type Ctx, type UiEvent, type UiState } from '../ui.js';
import { Footer, StatusLine, statusHeight } from './footer.js';
import { Header } from './header.js';
import { Help } from './help.js';
import { Pane, rowKey, SandboxRuns, summaries, type PaneData } from './panes.js';
import { RunView as RunViewPane, runViewportHeight } from './run-view.js';

/**
 * The dashboard: header, the five panes (or a drilled-in view), a status line and
 * the keys. It holds only what the person is doing (ui.ts); the data comes from the
 * store, and every change goes to the data source through actions.ts.
 */

export interface DashboardProps {
  source: DataSource;
  store: DashboardStore;
  readonly: boolean;
}

const NONE: readonly never[] = [];

/** `5,000 received · following`: how many came when older ones were dropped, and whether the tail is followed. */
function logExtra(seen: number, kept: number, follow: boolean): string {
  return [seen > kept ? `${seen.toLocaleString('en-US')} received` : '', follow ? 'following' : ''].filter(Boolean).join(' · ');
}

/** The terminal's size, following resizes. */
function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const get = useCallback(() => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 }), [stdout]);
  const [size, setSize] = useState(get);
  useEffect(() => {
    const onResize = (): void => setSize(get());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, get]);
  return size;
}

/** Characters read together, as the keys they are (Enter, Tab and Backspace included). */
export function splitKeys(input: string): UiEvent[] {
  return Array.from(input, (ch): UiEvent => {
    if (ch === '\r' || ch === '\n') return { kind: 'key', input: '', key: { return: true } };
    if (ch === '\t') return { kind: 'key', input: '', key: { tab: true } };
    if (ch === '\u007f' || ch === '\b') return { kind: 'key', input: '', key: { backspace: true } };
    return { kind: 'key', input: ch, key: {} };
  });
}

function indexIn(keys: readonly string[], key: string | undefined, follow = false): number {
  if (keys.length === 0) return 0;
  if (follow) return keys.length - 1;
  const i = key === undefined ? -1 : keys.indexOf(key);
  return i === -1 ? 0 : i;
}

function usePane<T>(all: readonly T[], filter: string, selectedKey: string | undefined, keyOf: (r: T) => string, filterFn: (rows: readonly T[], q: string) => readonly T[], follow = false): { data: PaneData<T>; keys: readonly string[] } {
  const shown = useMemo(() => filterFn(all, filter), [all, filter, filterFn]);
  const keys = useMemo(() => shown.map(keyOf), [shown, keyOf]);
  const selected = indexIn(keys, selectedKey, follow);
  const data = useMemo(() => ({ all, shown, selected, filter }), [all, shown, selected, filter]);
  return { data, keys };
}

const filterGateways = (rows: readonly GatewayView[], q: string) => filterRows(rows, q, searchText.gateways);
const filterRoutes = (rows: readonly RouteView[], q: string) => filterRows(rows, q, searchText.routes);
const filterSandboxes = (rows: readonly SandboxView[], q: string) => filterRows(rows, q, searchText.sandboxes);
const filterRuns = (rows: readonly RunView[], q: string) => filterRows(rows, q, searchText.runs);

export function Dashboard({ source, store, readonly }: DashboardProps) {
  const { exit } = useApp();
  const data = useSyncExternalStore(store.subscribe, store.getState, store.getState);
  const { columns, rows } = useTerminalSize();
  const [ui, setUi] = useState<UiState>(INITIAL_UI);
  const uiRef = useRef(ui);
  const [crash, setCrash] = useState<{ error: unknown } | undefined>(undefined);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const width = Math.max(20, columns);
  // One line less than the terminal: ink redraws the whole screen (flicker) when the output fills it.
  const height = Math.max(6, rows - 1);
  // Every box below is sized to fit exactly (rows sliced to the window, text truncated), so
  // nothing is clipped with overflow="hidden": clipping makes ink slice every line it
  // writes, a fifth of its drawing time.
  const snap = data.snapshot;
  const t = top(ui);
  const sandboxView = ui.stack.find((v) => v.kind === 'sandbox');
  const sandboxName = sandboxView?.kind === 'sandbox' ? sandboxView.name : undefined;

  const gw = usePane(snap?.gateways ?? NONE, ui.filters.gateways ?? '', ui.selected.gateways, rowKey.gateways, filterGateways);
  const rt = usePane(snap?.routes ?? NONE, ui.filters.routes ?? '', ui.selected.routes, rowKey.routes, filterRoutes);
  const sb = usePane(snap?.sandboxes ?? NONE, ui.filters.sandboxes ?? '', ui.selected.sandboxes, rowKey.sandboxes, filterSandboxes);
  const rn = usePane(data.runs, ui.filters.runs ?? '', ui.selected.runs, rowKey.runs, filterRuns);
  const sandboxRunsAll = useMemo(() => (sandboxName === undefined ? NONE : data.runs.filter((r) => r.sandbox === sandboxName)), [data.runs, sandboxName]);
  const sr = usePane(sandboxRunsAll, ui.filters['sandbox-runs'] ?? '', ui.selected['sandbox-runs'], rowKey.runs, filterRuns);
  const lg = usePane(data.logs, ui.filters.log ?? '', ui.selected.log, rowKey.log, filterLog, ui.logFollow);
  const lists = { gateways: gw, routes: rt, sandboxes: sb, runs: rn, 'sandbox-runs': sr, log: lg } satisfies Record<ListId, unknown>;

  const sums = useMemo(
    () => summaries({ gateways: gw.data.all, routes: rt.data.all, sandboxes: sb.data.all, runs: rn.data.all, logs: lg.data.all }),
    [gw.data.all, rt.data.all, sb.data.all, rn.data.all, lg.data.all],
  );

  // Sizes.
  const sh = statusHeight(ui.mode, ui.status);
  const area = Math.max(1, height - 2 - sh - 1);
  const counts: Record<PaneId, number> = { gateways: gw.data.shown.length, routes: rt.data.shown.length, sandboxes: sb.data.shown.length, runs: rn.data.shown.length, log: lg.data.shown.length };
  const heights = paneHeights(area, ui.focus, counts, rows);

  // The run view's lines (drawn only for the run on screen).
  const runId = t?.kind === 'run' ? t.id : undefined;
  const watched = runId !== undefined && data.watched?.id === runId ? data.watched : undefined;
  const transcript = watched?.transcript ?? EMPTY_TRANSCRIPT;
  const cache = useRef<LineCache>(new WeakMap());
  const expanded = useMemo(() => new Set(ui.run.expanded), [ui.run.expanded]);
  const lines = useMemo(() => (runId === undefined ? NONE : transcriptLines(transcript, width - 2, expanded, cache.current)), [runId, transcript, width, expanded]);
  const tools = useMemo(() => toolIds(transcript), [transcript]);
  const run = useMemo(() => (runId === undefined ? undefined : data.runs.find((r) => r.id === runId)), [data.runs, runId]);

  useEffect(() => {
    if (runId !== undefined) store.watch(runId);
    else store.unwatch();
  }, [runId, store]);

  const list = currentList(ui);
  const listHeight = list === 'sandbox-runs' ? area - 2 : list ? heights[list as PaneId] - 1 : area;
  const ctx: Ctx = {
    readonly,
    list: list ? { id: list, keys: lists[list].keys, selectedIndex: lists[list].data.selected } : undefined,
    pageSize: Math.max(1, listHeight),
    defaultRoute: rt.data.all.find((r) => r.isDefault)?.name,
    run:
      runId === undefined
        ? undefined
        : { id: runId, toolIds: tools, lineCount: lines.length, height: runViewportHeight(area), lineOf: (id) => lines.findIndex((l) => l.callId === id) },
  };
  const ctxRef = useRef(ctx);
  ctxRef.current = ctx;

  const dispatch = useCallback(
    (ev: UiEvent): void => {
      if (!mounted.current) return;
      try {
        const r = reduce(uiRef.current, ev, ctxRef.current);
        uiRef.current = r.ui;
        setUi(r.ui);
        for (const e of r.effects) {
          if (e.kind === 'quit') exit();
          else {
            const action = e.action;
            perform(source, action).then(
              (res) => dispatch({ kind: 'done', action, ...(res.runId ? { runId: res.runId } : {}) }),
              (err: unknown) => dispatch({ kind: 'failed', action, error: errorView(err) }),
            );
          }
        }
      } catch (error) {
        setCrash({ error });
      }
    },
    [exit, source],
  );

  useInput((input, key) => {
    // Several characters at once (typed fast, or pasted) are keys one by one: `/notes` is the filter key, then a filter.
    if (input.length > 1 && !key.ctrl && !key.meta) for (const ev of splitKeys(input)) dispatch(ev);
    else dispatch({ kind: 'key', input, key });
  });

  // A key handler that failed: thrown here, inside React, so the error boundary ends the app cleanly.
  if (crash) throw crash.error;
  if (rows < 10 || columns < 40) {
    return <Text wrap="truncate-end">{`Logos: the terminal is too small (${columns}×${rows}); 80×24 or more, please.`}</Text>;
  }

  const crumbs: string[] = [PANE_TITLES[ui.focus]];
  for (const v of ui.stack) {
    if (v.kind === 'sandbox') crumbs.push(v.name);
    else crumbs.push(`run ${v.id}`, 'frames');
  }
  const keyContext: KeyContext = runId !== undefined ? 'run' : (list ?? 'runs');
  const since = snap ? Math.max(0, (data.now - Date.parse(snap.takenAt)) / 1000) : 0;

  let body;
  if (ui.mode.kind === 'help') body = <Help readonly={readonly} height={area} width={width} />;
  else if (runId !== undefined)
    body = <RunViewPane id={runId} run={run} watched={watched} lines={lines} top={ui.run.top} selectedTool={ui.run.tool} height={area} width={width} now={data.now} />;
  else if (sandboxName !== undefined) body = <SandboxRuns name={sandboxName} data={sr.data} height={area} width={width} now={data.now} />;
  else
    body = (
      <Box flexDirection="column" height={area}>
        {PANES.map((p) => (
          <Pane
            key={p}
            id={p}
            data={lists[p].data as PaneData<never>}
            focused={p === ui.focus}
            height={heights[p]}
            width={width}
            now={data.now}
            summary={sums[p]}
            {...(p === 'log' ? { extra: logExtra(data.logSeen, data.logs.length, ui.logFollow) } : {})}
          />
        ))}
      </Box>
    );

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Header mode={source.mode} daemon={snap?.daemon} since={Math.floor(since)} readonly={readonly} crumbs={crumbs} width={width} />
      {body}
      <StatusLine mode={ui.mode} status={ui.status} notice={data.notice} width={width} />
      <Footer context={keyContext} readonly={readonly} width={width} />
    </Box>
  );
}
