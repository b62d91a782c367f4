/**
 * What the dashboard shows and what it can do, independent of where the data comes
 * from: the daemon's API (live events over WebSocket) or, with no daemon, the state
 * files and the log read directly and polled. The ink components render these
 * values; they never fetch, parse or decide anything themselves.
 */

export interface ErrorView {
  code: string;
  message: string;
  hint?: string;
}

export interface GatewayView {
  name: string;
  endpoint: string;
  kind: string;
  reachable: boolean | null;
  version?: string;
  /** 0.0.x or 0.1.x, when known. */
  line?: string;
  sandboxes?: number;
  detail?: string;
}

export interface RouteView {
  name: string;
  provider: string;
  model: string;
  status: string;
  gateway?: string;
  isDefault: boolean;
  /** The provider status reason code (OK, CONN_REFUSED, …) and its probe latency. */
  reason?: string;
  latencyMs?: number;
  hint?: string;
}

export interface SandboxView {
  name: string;
  driver: string;
  route: string;
  phase: string;
  /** Runs in flight in this sandbox. */
  running: number;
  tools?: string[];
}

export interface RunView {
  id: string;
  sandbox: string;
  route: string;
  status: string;
  startedAt: string;
  durationMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  steps?: number;
  promptPreview: string;
  error?: ErrorView;
}

export interface LogRecordView {
  ts: string;
  level: string;
  source: string;
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * A worker frame of a run being watched (the same shapes `logos run --json` prints).
 *
 * `seq` (optional) is the frame's position in its run, from 0. The dashboard opens a
 * run by fetching its frames so far (`runFrames`) while new ones keep arriving as
 * updates; when both carry `seq`, a frame already seen is dropped, so nothing shows
 * twice. Without it, frames pushed while the fetch was in flight are shown after the
 * fetched ones (and may repeat one). Sources should set it; the worker's own frames
 * do not have it.
 */
export type FrameView = Record<string, unknown> & { type: string; seq?: number };

export interface Snapshot {
  daemon: { running: boolean; version?: string; uptimeS?: number; detail?: string };
  gateways: GatewayView[];
  routes: RouteView[];
  sandboxes: SandboxView[];
  runs: RunView[];
  takenAt: string;
}

/** Changes the data source pushes between snapshots. */
export type Update =
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'run'; run: RunView }
  | { kind: 'frame'; runId: string; frame: FrameView }
  | { kind: 'log'; records: LogRecordView[] }
  | { kind: 'notice'; level: 'info' | 'warn' | 'error'; text: string };

export interface StartRunInput {
  sandbox: string;
  message: string;
  session?: string;
}

/**
 * Where the dashboard's data comes from and where its actions go. A method that fails
 * rejects with a LogosError (or any error carrying `code`, `message` and `hint`): the
 * dashboard shows all three, as the CLI would.
 */
export interface DataSource {
  /** 'daemon' (live events) or 'files' (polling state and the log once a second). */
  readonly mode: 'daemon' | 'files';
  /** Start delivering updates; returns a stop function. */
  subscribe(onUpdate: (u: Update) => void): () => void;
  /** The last 500 log records, then new ones as updates. */
  recentLogs(limit: number): Promise<LogRecordView[]>;
  /** Frames of a run so far (for opening a run that already started). */
  runFrames(runId: string): Promise<FrameView[]>;
  startRun(input: StartRunInput): Promise<{ id: string }>;
  cancelRun(id: string): Promise<void>;
  createSandbox(name: string, route: string): Promise<void>;
  deleteSandbox(name: string): Promise<void>;
  syncRoute(name: string): Promise<void>;
  removeRoute(name: string): Promise<void>;
  gatewayUp(name: string): Promise<void>;
  gatewayDown(name: string): Promise<void>;
  refreshProviders(): Promise<void>;
}
