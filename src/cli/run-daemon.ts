import type { IncomingMessage } from 'node:http';
import { EXIT_CODES, LogosError, exitCodeFor } from '../core/errors.js';
import type { Frame } from '../core/protocol.js';
import { stripControls } from '../core/text.js';
import { findDaemon } from '../daemon/client.js';
import { resolvePaths } from '../store/paths.js';
import { colors } from './io.js';
import type { CommandEnv } from './main.js';
import { BatchedWriter, RunRenderer } from './renderer.js';
import type { TurnSettings } from './commands/run.js';

/**
 * `logos run --daemon`: the task goes to the running daemon (`POST /v1/runs`) and its
 * frames come back over `GET /v1/runs/ID/events`, so the dashboard and every event-stream
 * client see the run live. Shown exactly as a run made here (frames on a terminal, the
 * worker's frames as JSON lines with --json, the same exit codes); Ctrl-C cancels it in
 * the daemon. The daemon runs it with its own environment (keys from its vault and its
 * environment, not this shell's), and attachments are not sent this way.
 */

interface SseEvent {
  event: string;
  data: string;
}

/** Server-sent events from a response, one at a time. */
async function* sseEvents(res: IncomingMessage): AsyncGenerator<SseEvent> {
  res.setEncoding('utf8');
  let buf = '';
  for await (const chunk of res as AsyncIterable<string>) {
    buf += chunk;
    for (let end = buf.indexOf('\n\n'); end !== -1; end = buf.indexOf('\n\n')) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}

export async function runViaDaemon(env: CommandEnv, message: string, s: TurnSettings): Promise<void> {
  const io = env.io;
  const client = findDaemon(resolvePaths());
  if (!client) {
    throw new LogosError('DAEMON_NOT_RUNNING', 'No daemon is running, and --daemon sends the task to it.', {
      hint: 'Start it with `logos daemon start`, or run the task here (without --daemon).',
    });
  }
  if (s.attachments.length > 0) {
    throw new LogosError('INVALID_ARGUMENT', '--attach cannot be used with --daemon.', {
      hint: 'Put the files in first with `logos sandbox put`, or run the task without --daemon.',
    });
  }
  const body = {
    message,
    ...(s.sandbox ? { sandbox: s.sandbox } : {}),
    ...(s.route ? { route: s.route } : {}),
    ...(s.session !== undefined ? { session: s.session } : {}),
    ...(s.system !== undefined ? { system: s.system } : {}),
    ...(s.persona !== undefined ? { persona: s.persona } : {}),
    ...(s.tools ? { tools: s.tools.length === 0 ? false : s.tools } : {}),
    ...(s.maxSteps !== undefined ? { max_steps: s.maxSteps } : {}),
    ...(s.timeoutMs !== undefined ? { timeout: `${Math.ceil(s.timeoutMs / 1000)}s` } : {}),
    ...(s.params ? { params: s.params } : {}),
  };
  const started = await client.post<{ id: string }>('/v1/runs', body, { timeoutMs: 120_000 });
  const id = started.id;
  const ce = colors(io, 'err');
  const live = !env.json;
  if (live && io.errTTY) io.err.write(ce.dim(`▸ ${id} · through the daemon\n`));

  // Ctrl-C / SIGTERM: cancel it in the daemon, and keep reading until it says the run ended.
  env.cancellable += 1;
  const onAbort = (): void => {
    void client.post(`/v1/runs/${encodeURIComponent(id)}/cancel`, {}, { timeoutMs: 10_000 }).catch(() => undefined);
  };
  env.signal.addEventListener('abort', onAbort, { once: true });

  const out = new BatchedWriter(io.out);
  const renderer = new RunRenderer((t) => out.write(t), { tty: io.isTTY, thinking: s.thinking, verbose: s.verbose, columns: io.out.columns || 100, paint: colors(io, 'out') });
  let sawResult = false;
  let record: Record<string, unknown> | undefined;
  try {
    const res = await client.stream(`/v1/runs/${encodeURIComponent(id)}/events`);
    for await (const ev of sseEvents(res)) {
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        continue;
      }
      if (!data || typeof data !== 'object') continue;
      if (ev.event === 'run.frame' || ev.event === 'run.tool') {
        // The frame as the worker printed it: the daemon's position field is its own.
        const { seq: _seq, ...frame } = data as Frame & { seq?: number };
        if (frame.type === 'task_result') sawResult = true;
        if (env.json) out.write(`${JSON.stringify(frame)}\n`);
        else renderer.frame(frame as Frame);
      } else if (ev.event === 'run.completed' || ev.event === 'run.failed') {
        record = data as Record<string, unknown>;
        break;
      }
    }
    res.destroy();
  } finally {
    env.signal.removeEventListener('abort', onAbort);
    env.cancellable -= 1;
    out.flush();
  }
  if (!record) record = await client.get<Record<string, unknown>>(`/v1/runs/${encodeURIComponent(id)}`, { timeoutMs: 10_000 }).catch(() => undefined);
  const status = typeof record?.status === 'string' ? record.status : 'error';
  const err = record?.error && typeof record.error === 'object' ? (record.error as { code?: string; message?: string; hint?: string }) : undefined;
  if (live) {
    renderer.finish({ status, finalResponse: '' });
    out.flush();
    if (io.errTTY) {
      const ms = typeof record?.duration_ms === 'number' ? record.duration_ms : 0;
      io.err.write(ce.dim(`${status === 'ok' ? ce.green('✓ done') : ce.red(`✗ ${stripControls(err?.code ?? 'error')}`)} in ${(ms / 1000).toFixed(1)}s · run ${id} · through the daemon\n`));
    }
  }
  if (status === 'ok') {
    env.exitCode = EXIT_CODES.OK;
    return;
  }
  const code = err?.code ?? 'INTERNAL';
  const error = new LogosError(code as LogosError['code'], err?.message ?? 'The run failed in the daemon.', { ...(err?.hint ? { hint: err.hint } : {}) });
  if (env.json) {
    // As a run made here: without a result frame, the host's error closes the JSON stream.
    if (!sawResult) io.out.write(`${JSON.stringify({ ok: false, run_id: id, error: error.toJSON() })}\n`);
    env.exitCode = exitCodeFor(code);
    return;
  }
  throw error;
}
