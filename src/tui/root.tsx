import { useEffect, useMemo, useState } from 'react';
import { CrashBoundary } from './components/boundary.js';
import { Dashboard } from './components/dashboard.js';
import { ProbeContext, type RenderProbe } from './components/table.js';
import type { DataSource } from './model.js';
import { DashboardStore, type StoreOptions } from './store.js';
import { ThemeContext } from './theme.js';

/** The dashboard with what it needs around it: its store (started and stopped with it), the colour choice, the crash boundary. */

export interface DashboardRootProps {
  source: DataSource;
  readonly: boolean;
  /** false: no colour or other styling (NO_COLOR). */
  color: boolean;
  store?: DashboardStore;
  storeOptions?: StoreOptions;
  /** Counts rendered rows (tests, the bench). */
  probe?: RenderProbe;
}

export function DashboardRoot({ source, readonly, color, store: given, storeOptions, probe }: DashboardRootProps) {
  const [store] = useState(() => given ?? new DashboardStore(source, storeOptions));
  useEffect(() => {
    store.start();
    return () => store.stop();
  }, [store]);
  const theme = useMemo(() => ({ color }), [color]);
  return (
    <ThemeContext.Provider value={theme}>
      <ProbeContext.Provider value={probe}>
        <CrashBoundary>
          <Dashboard source={source} store={store} readonly={readonly} />
        </CrashBoundary>
      </ProbeContext.Provider>
    </ThemeContext.Provider>
  );
}
