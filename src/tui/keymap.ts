/**
 * The keys of each view, as the footer and the help screen show them. The key
 * handling itself is in ui.ts; a key marked `mutates` changes something and is
 * hidden (and does nothing) with --readonly.
 */

export type PaneId = 'gateways' | 'routes' | 'sandboxes' | 'runs' | 'log';
export const PANES: readonly PaneId[] = ['gateways', 'routes', 'sandboxes', 'runs', 'log'];
export const PANE_TITLES: Record<PaneId, string> = { gateways: 'Gateways', routes: 'Routes', sandboxes: 'Sandboxes', runs: 'Runs', log: 'Log' };

/** A list on screen: one of the panes, or the runs of one sandbox (drilled in). */
export type ListId = PaneId | 'sandbox-runs';
export type KeyContext = ListId | 'run';

export interface KeyHelp {
  key: string;
  label: string;
  mutates?: boolean;
}

export const CONTEXT_KEYS: Record<KeyContext, readonly KeyHelp[]> = {
  gateways: [
    { key: 'u', label: 'up', mutates: true },
    { key: 'd', label: 'down', mutates: true },
  ],
  routes: [
    { key: 's', label: 'sync', mutates: true },
    { key: 'd', label: 'remove', mutates: true },
    { key: 'p', label: 'refresh providers', mutates: true },
  ],
  sandboxes: [
    { key: '⏎', label: 'runs' },
    { key: 'r', label: 'run task', mutates: true },
    { key: 'n', label: 'new', mutates: true },
    { key: 'd', label: 'delete', mutates: true },
  ],
  runs: [
    { key: '⏎', label: 'open' },
    { key: 'x', label: 'cancel', mutates: true },
  ],
  'sandbox-runs': [
    { key: '⏎', label: 'open' },
    { key: 'r', label: 'run task', mutates: true },
    { key: 'x', label: 'cancel', mutates: true },
    { key: 'Esc', label: 'back' },
  ],
  log: [{ key: 'G', label: 'follow' }],
  run: [
    { key: 'Tab', label: 'next tool' },
    { key: '⏎', label: 'expand' },
    { key: 'x', label: 'cancel', mutates: true },
    { key: 'Esc', label: 'back' },
  ],
};

export const COMMON_KEYS: readonly KeyHelp[] = [
  { key: '/', label: 'filter' },
  { key: ':', label: 'command' },
  { key: '?', label: 'help' },
  { key: 'q', label: 'quit' },
];

export const NAV_HELP: readonly KeyHelp[] = [
  { key: '↑↓ j k', label: 'move' },
  { key: 'g G', label: 'top / end (G follows the log and a run)' },
  { key: 'PgUp PgDn', label: 'page (also Ctrl-U, Ctrl-D)' },
  { key: 'Tab S-Tab', label: 'next / previous pane (in a run: tool call)' },
  { key: '⏎', label: 'open (a sandbox: its runs; a run: its frames; a tool call: expand)' },
  { key: 'Esc', label: 'clear the filter, then back' },
  { key: '/', label: 'filter the list (log: level:warn source:S sandbox:S words)' },
  { key: ':', label: 'command: :gateways :routes :sandboxes :runs :logs :help :q' },
  { key: '?', label: 'this help' },
  { key: 'q Ctrl-C', label: 'quit' },
];

export function keysFor(ctx: KeyContext, readonly: boolean): KeyHelp[] {
  return CONTEXT_KEYS[ctx].filter((k) => !(readonly && k.mutates));
}
