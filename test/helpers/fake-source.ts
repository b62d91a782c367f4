import type { DataSource, FrameView, GatewayView, LogRecordView, RouteView, RunView, SandboxView, Snapshot, StartRunInput, Update } from '../../src/tui/model.js';

/**
 * A data source in memory for the dashboard's tests: it records every call, can be
 * told to fail one with a reason code and hint, and lets the test push updates as
 * the daemon would.
 */

export interface Call {
  method: string;
  args: unknown[];
}

export class FakeSource implements DataSource {
  readonly calls: Call[] = [];
  readonly failures = new Map<string, { code: string; message: string; hint?: string }>();
  readonly frames = new Map<string, FrameView[]>();
  logs: LogRecordView[] = [];
  private readonly listeners = new Set<(u: Update) => void>();
  private runs = 0;

  constructor(
    readonly mode: 'daemon' | 'files' = 'daemon',
    readonly initial: Snapshot | undefined = fixtureSnapshot(),
  ) {}

  /** Updates go to the dashboard as the daemon's event stream would deliver them. */
  push(u: Update): void {
    for (const l of this.listeners) l(u);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  subscribe(onUpdate: (u: Update) => void): () => void {
    this.calls.push({ method: 'subscribe', args: [] });
    this.listeners.add(onUpdate);
    // The first snapshot comes at once, like the daemon's hello.
    if (this.initial) onUpdate({ kind: 'snapshot', snapshot: this.initial });
    return () => this.listeners.delete(onUpdate);
  }

  private async call<T>(method: string, args: unknown[], value: T): Promise<T> {
    this.calls.push({ method, args });
    const f = this.failures.get(method);
    if (f) throw Object.assign(new Error(f.message), f);
    return value;
  }

  /** The calls that change something (what --readonly must never make). */
  mutations(): Call[] {
    return this.calls.filter((c) => !['subscribe', 'recentLogs', 'runFrames'].includes(c.method));
  }

  recentLogs(limit: number): Promise<LogRecordView[]> {
    return this.call('recentLogs', [limit], this.logs.slice(-limit));
  }
  runFrames(runId: string): Promise<FrameView[]> {
    return this.call('runFrames', [runId], this.frames.get(runId) ?? []);
  }
  startRun(input: StartRunInput): Promise<{ id: string }> {
    this.runs += 1;
    return this.call('startRun', [input], { id: `t_new${this.runs}` });
  }
  cancelRun(id: string): Promise<void> {
    return this.call('cancelRun', [id], undefined);
  }
  createSandbox(name: string, route: string): Promise<void> {
    return this.call('createSandbox', [name, route], undefined);
  }
  deleteSandbox(name: string): Promise<void> {
    return this.call('deleteSandbox', [name], undefined);
  }
  syncRoute(name: string): Promise<void> {
    return this.call('syncRoute', [name], undefined);
  }
  removeRoute(name: string): Promise<void> {
    return this.call('removeRoute', [name], undefined);
  }
  gatewayUp(name: string): Promise<void> {
    return this.call('gatewayUp', [name], undefined);
  }
  gatewayDown(name: string): Promise<void> {
    return this.call('gatewayDown', [name], undefined);
  }
  refreshProviders(): Promise<void> {
    return this.call('refreshProviders', [], undefined);
  }
}

export const GATEWAYS: GatewayView[] = [
  { name: 'logos', endpoint: 'http://127.0.0.1:17670', kind: 'local', reachable: true, version: '0.0.111', line: '0.0.x', sandboxes: 2 },
  { name: 'lab', endpoint: 'https://lab.example:8443', kind: 'remote', reachable: false, detail: 'connection refused' },
];

export const ROUTES: RouteView[] = [
  { name: 'qwen3', provider: 'lmstudio', model: 'qwen/qwen3.5-9b', status: 'ready', isDefault: true, reason: 'OK', latencyMs: 12 },
  { name: 'gpt-4o-mini', provider: 'openai', model: 'gpt-4o-mini', status: 'ready', isDefault: false, gateway: 'logos', reason: 'OK', latencyMs: 230 },
  { name: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5', status: 'error', isDefault: false, reason: 'HTTP_401', hint: 'logos creds set anthropic' },
];

export const SANDBOXES: SandboxView[] = [
  { name: 'work', driver: 'local', route: 'qwen3', phase: 'ready', running: 1, tools: ['read_file', 'list_files', 'search'] },
  { name: 'notes', driver: 'local', route: 'qwen3', phase: 'ready', running: 0, tools: [] },
  { name: 'gpt-4o-mini', driver: 'openshell', route: 'gpt-4o-mini', phase: 'ready', running: 0 },
];

export const RUNS: RunView[] = [
  { id: 't_0mx5cz1ab2c3d4e', sandbox: 'work', route: 'qwen3', status: 'running', startedAt: '2026-12-01T10:00:05.000Z', promptPreview: 'create hello.py that prints the date, run it' },
  { id: 't_0mx5cy9zz8y7x6w', sandbox: 'notes', route: 'qwen3', status: 'ok', startedAt: '2026-12-01T09:58:00.000Z', durationMs: 3200, inputTokens: 412, outputTokens: 96, steps: 3, promptPreview: 'Summarise the README in three lines' },
  {
    id: 't_0mx5cx1aa1b2c3d',
    sandbox: 'gpt-4o-mini',
    route: 'gpt-4o-mini',
    status: 'error',
    startedAt: '2026-12-01T09:50:00.000Z',
    durationMs: 800,
    promptPreview: 'Explain process groups',
    error: { code: 'AUTH', message: 'The provider refused the key.', hint: 'logos creds set openai' },
  },
];

export function fixtureSnapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    daemon: { running: true, version: '0.1.0', uptimeS: 192 },
    gateways: GATEWAYS,
    routes: ROUTES,
    sandboxes: SANDBOXES,
    runs: RUNS,
    takenAt: new Date().toISOString(),
    ...over,
  };
}

export function logRecord(i: number, over: Partial<LogRecordView> = {}): LogRecordView {
  return {
    ts: new Date(Date.UTC(2026, 11, 1, 10, 0, 0) + i * 10).toISOString(),
    level: i % 50 === 0 ? 'warn' : 'info',
    source: i % 3 === 0 ? 'daemon' : 'dispatch',
    msg: `record ${i}`,
    fields: { sandbox: i % 2 === 0 ? 'work' : 'notes' },
    ...over,
  };
}

export function manyRuns(n: number): RunView[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `t_bulk${String(i).padStart(5, '0')}`,
    sandbox: i % 2 === 0 ? 'work' : 'notes',
    route: 'qwen3',
    status: i % 10 === 0 ? 'error' : 'ok',
    startedAt: new Date(Date.UTC(2026, 11, 1, 9, 0, 0) + i * 1000).toISOString(),
    durationMs: 1000 + i,
    inputTokens: 100 + i,
    outputTokens: 10 + i,
    steps: 1 + (i % 4),
    promptPreview: `bulk task number ${i}`,
  }));
}

/** The frames of an agent run as the worker prints them. */
export function agentFrames(taskId: string): FrameView[] {
  return [
    { type: 'ready', v: 1, task_id: taskId, worker: { version: '0.1.0', runtime: 'node', pid: 7 }, ts: '2026-12-01T10:00:05.000Z' },
    { type: 'thinking', task_id: taskId, content: 'The user wants a script. I will write it first.' },
    { type: 'token', task_id: taskId, content: 'I will write the script.' },
    { type: 'tool_start', task_id: taskId, call_id: 'c1', tool: 'write_file', preview: '{"path":"hello.py","content":"import datetime\\nprint(datetime.date.today())"}', step: 1 },
    { type: 'tool_end', task_id: taskId, call_id: 'c1', tool: 'write_file', ok: true, duration_ms: 2, preview: 'wrote 46 bytes to hello.py' },
    { type: 'tool_start', task_id: taskId, call_id: 'c2', tool: 'shell', preview: '{"command":"python3 hello.py"}', step: 2 },
    { type: 'tool_output', task_id: taskId, call_id: 'c2', content: '2026-12-01\n' },
    { type: 'tool_end', task_id: taskId, call_id: 'c2', tool: 'shell', ok: true, exit_code: 0, duration_ms: 41, preview: 'exit 0\n2026-12-01' },
  ];
}

export function resultFrame(taskId: string): FrameView {
  return {
    type: 'task_result',
    task_id: taskId,
    status: 'ok',
    final_response: 'It printed: 2026-12-01',
    usage: { input_tokens: 412, output_tokens: 96 },
    duration_ms: 3200,
    steps: 3,
  };
}
