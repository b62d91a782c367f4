/**
 * The dashboard's code (src/tui: ink and react) loads only when `logos dashboard` draws.
 * ink is an ES module that awaits at its top level, so the CLI bundle (CommonJS, for its
 * code cache: scripts/build-cli.mjs) cannot hold it: there this module is replaced by one
 * that imports the separate dashboard bundle (dist/bundle/tui/run.js).
 */
export function loadTui(): Promise<typeof import('../tui/run.js')> {
  return import('../tui/run.js');
}
