import type { DataSource } from '../tui/model.js';
import type { CommandEnv } from './main.js';

/**
 * Where `logos dashboard` gets its data: the daemon's API when one runs (live events),
 * else the state files and the log, polled once a second (FilesSource). `--daemon`
 * insists on the daemon (starting it when it is not running); `--no-daemon` reads the
 * files even when one runs. On a terminal, with no daemon and neither flag, it asks
 * whether to start one (Enter: no; the files work without it).
 */

export interface SourceChoice {
  /** true: the daemon (started if needed); false: the files; undefined: the daemon if it runs, else ask. */
  daemon?: boolean;
  /** May the user be asked (stdin and stdout are a terminal)? */
  ask?: (question: string) => Promise<boolean>;
}

export type DataSourceFactory = (env: CommandEnv, choice: SourceChoice) => Promise<DataSource & { close?: () => Promise<void> }>;

export const dashboardSource: DataSourceFactory = async (env, choice) => {
  const [{ resolvePaths }, { findDaemon }] = await Promise.all([import('../store/paths.js'), import('../daemon/client.js')]);
  const paths = resolvePaths();
  const lookup = () => findDaemon(paths);
  let useDaemon = choice.daemon !== false && lookup() !== undefined;
  if (!useDaemon && choice.daemon !== false) {
    const start = choice.daemon === true || (choice.ask ? await choice.ask('No daemon is running. Start one (live updates, runs that outlive the dashboard)? [y/N] ') : false);
    if (start) {
      const { startDaemonProcess } = await import('./daemon-process.js');
      await startDaemonProcess(paths);
      useDaemon = true;
    }
  }
  if (useDaemon) {
    const { DaemonSource } = await import('./dashboard/daemon-source.js');
    return new DaemonSource(lookup);
  }
  const [{ app }, { FilesSource }] = await Promise.all([import('./shared.js'), import('./dashboard/files-source.js')]);
  return new FilesSource(await app(env));
};
