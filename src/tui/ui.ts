import { describeAction, type Action } from './actions.js';
import type { ListId, PaneId } from './keymap.js';
import { PANES } from './keymap.js';
import type { ErrorView } from './model.js';

/**
 * The dashboard's own state (what is focused, selected, filtered, typed) and how
 * keys and finished actions change it. Pure: the component passes in what is on
 * screen (the rows of the current list, the run view's lines) and carries out the
 * effects (quit, call the data source).
 */

export type View = { kind: 'sandbox'; name: string } | { kind: 'run'; id: string };

export interface Field {
  label: string;
  value: string;
  optional: boolean;
}

export interface Form {
  kind: 'run' | 'sandbox';
  /** The sandbox a task goes to (kind 'run'). */
  sandbox: string;
  fields: Field[];
  index: number;
}

export type Mode =
  | { kind: 'normal' }
  | { kind: 'filter'; list: ListId; text: string; before: string }
  | { kind: 'command'; text: string }
  | { kind: 'help' }
  | { kind: 'confirm'; action: Action; question: string }
  | { kind: 'form'; form: Form };

export type Status = { kind: 'info'; text: string } | { kind: 'busy'; text: string } | { kind: 'error'; error: ErrorView };

export interface RunViewState {
  /** The selected tool call. */
  tool: string | undefined;
  expanded: readonly string[];
  /** First line shown; undefined: follow the end. */
  top: number | undefined;
}

export interface UiState {
  focus: PaneId;
  stack: readonly View[];
  selected: Partial<Record<ListId, string>>;
  filters: Partial<Record<ListId, string>>;
  logFollow: boolean;
  mode: Mode;
  status: Status | undefined;
  run: RunViewState;
}

export const INITIAL_UI: UiState = {
  focus: 'runs',
  stack: [],
  selected: {},
  filters: {},
  logFollow: true,
  mode: { kind: 'normal' },
  status: undefined,
  run: { tool: undefined, expanded: [], top: undefined },
};

/** The keys ink reports that matter here. */
export interface KeyFlags {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  shift?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
  meta?: boolean;
}

export interface RunContext {
  id: string;
  toolIds: readonly string[];
  lineCount: number;
  height: number;
  /** The line a tool call is drawn on. */
  lineOf: (callId: string) => number;
}

export interface Ctx {
  readonly: boolean;
  /** The current list's rows (after the filter), by key. */
  list: { id: ListId; keys: readonly string[]; selectedIndex: number } | undefined;
  pageSize: number;
  defaultRoute: string | undefined;
  run: RunContext | undefined;
}

export type UiEvent =
  | { kind: 'key'; input: string; key: KeyFlags }
  | { kind: 'done'; action: Action; runId?: string }
  | { kind: 'failed'; action: Action; error: ErrorView };

export type Effect = { kind: 'quit' } | { kind: 'perform'; action: Action };

export interface Result {
  ui: UiState;
  effects: Effect[];
}

export function top(ui: UiState): View | undefined {
  return ui.stack[ui.stack.length - 1];
}

/** Which list the keys act on (none in a run view). */
export function currentList(ui: UiState): ListId | undefined {
  const t = top(ui);
  if (t?.kind === 'run') return undefined;
  if (t?.kind === 'sandbox') return 'sandbox-runs';
  return ui.focus;
}

const READONLY: Status = { kind: 'info', text: 'Read-only: actions are off (started with --readonly).' };

const COMMANDS: Record<string, PaneId | 'quit' | 'help'> = {
  gateways: 'gateways',
  gateway: 'gateways',
  gw: 'gateways',
  routes: 'routes',
  route: 'routes',
  sandboxes: 'sandboxes',
  sandbox: 'sandboxes',
  sb: 'sandboxes',
  runs: 'runs',
  run: 'runs',
  logs: 'log',
  log: 'log',
  help: 'help',
  q: 'quit',
  quit: 'quit',
  'q!': 'quit',
};

function keep(ui: UiState): Result {
  return { ui, effects: [] };
}

function ask(ui: UiState, action: Action, c: Ctx): Result {
  if (c.readonly) return keep({ ...ui, status: READONLY });
  const d = describeAction(action);
  if (d.confirm) return keep({ ...ui, mode: { kind: 'confirm', action, question: d.confirm }, status: undefined });
  return { ui: { ...ui, status: { kind: 'busy', text: d.doing } }, effects: [{ kind: 'perform', action }] };
}

function selectedKey(c: Ctx): string | undefined {
  const l = c.list;
  return l ? l.keys[l.selectedIndex] : undefined;
}

function need(ui: UiState, what: string): Result {
  return keep({ ...ui, status: { kind: 'info', text: `Select ${what} first.` } });
}

function moveSelection(ui: UiState, c: Ctx, to: (i: number, n: number) => number): Result {
  const l = c.list;
  if (!l || l.keys.length === 0) return keep(ui);
  const n = l.keys.length;
  const i = Math.max(0, Math.min(n - 1, to(l.selectedIndex, n)));
  const next: UiState = { ...ui, selected: { ...ui.selected, [l.id]: l.keys[i] } };
  if (l.id === 'log') next.logFollow = i === n - 1;
  return keep(next);
}

function scrollRun(ui: UiState, r: RunContext, to: (topLine: number, max: number) => number): Result {
  const max = Math.max(0, r.lineCount - r.height);
  const t = Math.max(0, Math.min(max, to(ui.run.top ?? max, max)));
  return keep({ ...ui, run: { ...ui.run, top: t >= max ? undefined : t } });
}

function selectTool(ui: UiState, r: RunContext, step: 1 | -1): Result {
  if (r.toolIds.length === 0) return keep({ ...ui, status: { kind: 'info', text: 'No tool calls in this run yet.' } });
  const i = ui.run.tool === undefined ? -1 : r.toolIds.indexOf(ui.run.tool);
  const n = r.toolIds.length;
  const j = i === -1 ? (step === 1 ? 0 : n - 1) : (i + step + n) % n;
  const id = r.toolIds[j] as string;
  // Bring the selected call into view (about a third from the top).
  const line = r.lineOf(id);
  const max = Math.max(0, r.lineCount - r.height);
  let t = ui.run.top ?? max;
  if (line < t || line >= t + r.height) t = Math.max(0, Math.min(max, line - Math.floor(r.height / 3)));
  return keep({ ...ui, run: { ...ui.run, tool: id, top: t >= max ? undefined : t } });
}

function runCommand(ui: UiState, text: string): Result {
  const name = text.trim().replace(/^:/, '').toLowerCase();
  const normal: UiState = { ...ui, mode: { kind: 'normal' } };
  if (name === '') return keep(normal);
  const target = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (target === 'quit') return { ui: normal, effects: [{ kind: 'quit' }] };
  if (target === 'help') return keep({ ...normal, mode: { kind: 'help' } });
  if (target) return keep({ ...normal, focus: target, stack: [], status: undefined });
  return keep({
    ...normal,
    status: { kind: 'error', error: { code: 'USAGE', message: `Unknown command :${name}.`, hint: 'Try :gateways, :routes, :sandboxes, :runs, :logs, :help or :q.' } },
  });
}

/** Text typed into a line: printable input appended, Backspace removes a character, Ctrl-U clears. */
function edit(text: string, input: string, key: KeyFlags): string {
  if (key.backspace || key.delete) return text.slice(0, -1);
  if (key.ctrl && input === 'u') return '';
  if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.pageUp || key.pageDown) return text;
  // Pasted text may hold newlines or control characters: a line holds neither.
  return text + input.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

function formAction(f: Form): Action | string {
  const v = f.fields.map((x) => x.value.trim());
  if (f.kind === 'run') {
    const message = v[0] ?? '';
    if (!message) return 'Type the task first.';
    const session = v[1];
    return { kind: 'startRun', sandbox: f.sandbox, message, ...(session ? { session } : {}) };
  }
  const name = v[0] ?? '';
  const route = v[1] ?? '';
  if (!name) return 'Type a name for the sandbox.';
  if (!route) return 'Name the route the sandbox uses (`logos route list`).';
  return { kind: 'createSandbox', name, route };
}

function onFormKey(ui: UiState, form: Form, input: string, key: KeyFlags, c: Ctx): Result {
  if (key.escape) return keep({ ...ui, mode: { kind: 'normal' }, status: undefined });
  const field = form.fields[form.index] as Field;
  if (key.return || (key.tab && !key.shift)) {
    if (!field.optional && field.value.trim() === '') return keep({ ...ui, status: { kind: 'info', text: `${field.label}: required.` } });
    if (form.index < form.fields.length - 1) return keep({ ...ui, mode: { kind: 'form', form: { ...form, index: form.index + 1 } }, status: undefined });
    if (!key.return) return keep(ui);
    const a = formAction(form);
    if (typeof a === 'string') return keep({ ...ui, status: { kind: 'info', text: a } });
    return ask({ ...ui, mode: { kind: 'normal' } }, a, c);
  }
  if (key.tab && key.shift) return keep({ ...ui, mode: { kind: 'form', form: { ...form, index: Math.max(0, form.index - 1) } } });
  const fields = form.fields.map((x, i) => (i === form.index ? { ...x, value: edit(x.value, input, key) } : x));
  return keep({ ...ui, mode: { kind: 'form', form: { ...form, fields } } });
}

function runForm(sandbox: string): Form {
  return {
    kind: 'run',
    sandbox,
    index: 0,
    fields: [
      { label: `Task for ${sandbox}`, value: '', optional: false },
      { label: 'Session (optional, Enter to skip)', value: '', optional: true },
    ],
  };
}

function sandboxForm(defaultRoute: string | undefined): Form {
  return {
    kind: 'sandbox',
    sandbox: '',
    index: 0,
    fields: [
      { label: 'New sandbox name', value: '', optional: false },
      { label: 'Route', value: defaultRoute ?? '', optional: false },
    ],
  };
}

/** Keys of the list or run view in normal mode: moving, opening, and the actions of that view. */
function onViewKey(ui: UiState, input: string, key: KeyFlags, c: Ctx): Result {
  const list = currentList(ui);
  const r = c.run;
  const page = Math.max(1, c.pageSize - 1);
  // Moving.
  const down = key.downArrow || input === 'j';
  const up = key.upArrow || input === 'k';
  const pgDown = key.pageDown || (key.ctrl && (input === 'd' || input === 'f'));
  const pgUp = key.pageUp || (key.ctrl && (input === 'u' || input === 'b'));
  const first = key.home || (input === 'g' && !key.ctrl);
  const last = key.end || input === 'G';
  if (r) {
    if (down) return scrollRun(ui, r, (t) => t + 1);
    if (up) return scrollRun(ui, r, (t) => t - 1);
    if (pgDown) return scrollRun(ui, r, (t) => t + r.height - 1);
    if (pgUp) return scrollRun(ui, r, (t) => t - r.height + 1);
    if (first) return scrollRun(ui, r, () => 0);
    if (last) return keep({ ...ui, run: { ...ui.run, top: undefined } });
    if (key.tab) return selectTool(ui, r, key.shift ? -1 : 1);
    if (key.return || input === ' ') {
      const id = ui.run.tool ?? r.toolIds[r.toolIds.length - 1];
      if (id === undefined) return keep({ ...ui, status: { kind: 'info', text: 'No tool calls in this run yet.' } });
      const open = ui.run.expanded.includes(id);
      const expanded = open ? ui.run.expanded.filter((x) => x !== id) : [...ui.run.expanded, id];
      return keep({ ...ui, run: { ...ui.run, tool: id, expanded } });
    }
    if (input === 'x') return ask(ui, { kind: 'cancelRun', id: r.id }, c);
    return keep(ui);
  }
  if (down) return moveSelection(ui, c, (i) => i + 1);
  if (up) return moveSelection(ui, c, (i) => i - 1);
  if (pgDown) return moveSelection(ui, c, (i) => i + page);
  if (pgUp) return moveSelection(ui, c, (i) => i - page);
  if (first) return moveSelection(ui, c, () => 0);
  if (last) return moveSelection(ui, c, (_i, n) => n - 1);
  if (key.tab && ui.stack.length === 0) {
    const i = PANES.indexOf(ui.focus);
    const n = PANES.length;
    return keep({ ...ui, focus: PANES[(i + (key.shift ? n - 1 : 1)) % n] as PaneId });
  }
  const sel = selectedKey(c);
  const t = top(ui);
  switch (list) {
    case 'gateways':
      if (input === 'u') return sel ? ask(ui, { kind: 'gatewayUp', name: sel }, c) : need(ui, 'a gateway');
      if (input === 'd') return sel ? ask(ui, { kind: 'gatewayDown', name: sel }, c) : need(ui, 'a gateway');
      break;
    case 'routes':
      if (input === 's') return sel ? ask(ui, { kind: 'syncRoute', name: sel }, c) : need(ui, 'a route');
      if (input === 'd') return sel ? ask(ui, { kind: 'removeRoute', name: sel }, c) : need(ui, 'a route');
      if (input === 'p') return ask(ui, { kind: 'refreshProviders' }, c);
      break;
    case 'sandboxes':
      if (key.return) return sel ? keep({ ...ui, stack: [...ui.stack, { kind: 'sandbox', name: sel }] }) : keep(ui);
      if (input === 'r') {
        if (c.readonly) return keep({ ...ui, status: READONLY });
        return sel ? keep({ ...ui, mode: { kind: 'form', form: runForm(sel) }, status: undefined }) : need(ui, 'a sandbox');
      }
      if (input === 'n') return c.readonly ? keep({ ...ui, status: READONLY }) : keep({ ...ui, mode: { kind: 'form', form: sandboxForm(c.defaultRoute) }, status: undefined });
      if (input === 'd') return sel ? ask(ui, { kind: 'deleteSandbox', name: sel }, c) : need(ui, 'a sandbox');
      break;
    case 'sandbox-runs':
    case 'runs':
      if (input === 'r' && t?.kind === 'sandbox') return c.readonly ? keep({ ...ui, status: READONLY }) : keep({ ...ui, mode: { kind: 'form', form: runForm(t.name) }, status: undefined });
      if (key.return) return sel ? keep({ ...ui, stack: [...ui.stack, { kind: 'run', id: sel }], run: INITIAL_UI.run }) : keep(ui);
      if (input === 'x') return sel ? ask(ui, { kind: 'cancelRun', id: sel }, c) : need(ui, 'a run');
      break;
    default:
      break;
  }
  return keep(ui);
}

export function reduce(ui: UiState, ev: UiEvent, c: Ctx): Result {
  if (ev.kind === 'done') {
    const text = describeAction(ev.action).done;
    let next: UiState = { ...ui, status: { kind: 'info', text: `✓ ${text}` } };
    // A task started from here opens in the run view.
    if (ev.runId) next = { ...next, stack: [...ui.stack.filter((v) => v.kind !== 'run'), { kind: 'run', id: ev.runId }], run: INITIAL_UI.run };
    return keep(next);
  }
  if (ev.kind === 'failed') return keep({ ...ui, status: { kind: 'error', error: ev.error } });

  const { input, key } = ev;
  const m = ui.mode;
  switch (m.kind) {
    case 'help':
      if (key.escape || input === '?' || input === 'q' || key.return) return keep({ ...ui, mode: { kind: 'normal' } });
      return keep(ui);
    case 'confirm':
      if (input === 'y' || input === 'Y') {
        return { ui: { ...ui, mode: { kind: 'normal' }, status: { kind: 'busy', text: describeAction(m.action).doing } }, effects: [{ kind: 'perform', action: m.action }] };
      }
      return keep({ ...ui, mode: { kind: 'normal' }, status: { kind: 'info', text: 'Nothing done.' } });
    case 'command':
      if (key.escape) return keep({ ...ui, mode: { kind: 'normal' } });
      if (key.return) return runCommand(ui, m.text);
      if ((key.backspace || key.delete) && m.text === '') return keep({ ...ui, mode: { kind: 'normal' } });
      return keep({ ...ui, mode: { kind: 'command', text: edit(m.text, input, key) } });
    case 'filter': {
      if (key.escape) return keep({ ...ui, mode: { kind: 'normal' }, filters: { ...ui.filters, [m.list]: m.before } });
      if (key.return) return keep({ ...ui, mode: { kind: 'normal' } });
      const text = edit(m.text, input, key);
      return keep({ ...ui, mode: { ...m, text }, filters: { ...ui.filters, [m.list]: text } });
    }
    case 'form':
      return onFormKey(ui, m.form, input, key, c);
    case 'normal':
      break;
  }

  if (input === 'q' && !key.ctrl) return { ui, effects: [{ kind: 'quit' }] };
  if (input === '?') return keep({ ...ui, mode: { kind: 'help' } });
  if (input === ':') return keep({ ...ui, mode: { kind: 'command', text: '' }, status: undefined });
  if (input === '/') {
    const list = currentList(ui);
    if (!list) return keep({ ...ui, status: { kind: 'info', text: 'The run view has no filter; Esc goes back to the list.' } });
    const before = ui.filters[list] ?? '';
    return keep({ ...ui, mode: { kind: 'filter', list, text: before, before }, status: undefined });
  }
  if (key.escape) {
    if (ui.status?.kind === 'error') return keep({ ...ui, status: undefined });
    const list = currentList(ui);
    if (list && ui.filters[list]) return keep({ ...ui, filters: { ...ui.filters, [list]: '' } });
    if (ui.stack.length > 0) return keep({ ...ui, stack: ui.stack.slice(0, -1), status: undefined, run: INITIAL_UI.run });
    return keep({ ...ui, status: undefined });
  }
  const res = onViewKey(ui, input, key, c);
  // A passing note goes with the next key; an error stays until Esc or the next action.
  if (res.ui.status === ui.status && ui.status?.kind === 'info') res.ui = { ...res.ui, status: undefined };
  return res;
}
