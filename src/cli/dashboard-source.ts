import { LogosError } from '../core/errors.js';
import type { DataSource } from '../tui/model.js';

/**
 * Where `logos dashboard` gets its data: the daemon's API when it runs, else the
 * state files and the log, polled. Not built yet; this placeholder says so.
 */

export type DataSourceFactory = () => Promise<DataSource>;

export const dashboardSource: DataSourceFactory = async () => {
  throw new LogosError('INTERNAL', 'The dashboard has no data source yet (the daemon client and the files fallback are not built).', {
    hint: 'Use `logos runs list`, `logos sandbox list` and `logos debug tail --follow` meanwhile.',
  });
};
