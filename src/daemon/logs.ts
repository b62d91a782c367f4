import type { ServerResponse } from 'node:http';
import type { App } from '../app/context.js';
import type { EventBus } from '../core/events.js';
import { redactText, redactValue } from '../core/redact.js';
import { matches, parseFilter, parseLevel, parseLineCount, parseSince, type Selection } from '../log/filter.js';
import { followLines } from '../log/follow.js';
import { readRecent, readRecentLog } from '../log/reader.js';
import { parseLine, type LogEntry } from '../log/record.js';
import type { Route } from './http.js';

/**
 * The unified log over HTTP, with the filters of `logos debug tail`:
 * `GET /v1/logs?lines=N&level=warn&filter=k=v&filter=k!=v&since=30m` answers the
 * last records as JSON; with `follow=1` the same as server-sent events, then every
 * new record as it is written (across rotation).
 */

function selectionOf(q: URLSearchParams): { selection: Selection; limit: number } {
  const level = q.get('level');
  const since = q.get('since');
  const selection: Selection = {
    filters: q.getAll('filter').map(parseFilter),
    minLevel: level === null ? undefined : parseLevel(level, 'level'),
    since: since === null ? undefined : parseSince(since),
  };
  const lines = q.get('lines');
  const limit = lines !== null ? parseLineCount(lines) : selection.since !== undefined ? Infinity : 50;
  return { selection, limit: Math.min(limit, 10_000) };
}

function recordOf(e: LogEntry): unknown {
  return e.kind === 'record' ? redactValue(e.record) : { text: redactText(e.line) };
}

async function follow(res: ServerResponse, dir: string, selection: Selection, limit: number, signal: AbortSignal): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
  const { entries: recent, mark } = await readRecent(dir, { limit, selection, completeLines: true });
  const send = (entries: LogEntry[]): Promise<void> => {
    const text = entries.map((e) => `event: log.record\ndata: ${JSON.stringify(recordOf(e))}\n\n`).join('');
    if (!text || res.write(text)) return Promise.resolve();
    // A slow reader: wait for it (bounded by the socket), never buffer the log in memory.
    return new Promise((r) => {
      res.once('drain', r);
      signal.addEventListener('abort', () => r(), { once: true });
    });
  };
  await send(recent);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  try {
    for await (const lines of followLines(dir, { signal, start: mark })) {
      await send(lines.map(parseLine).filter((e) => matches(e, selection)));
      if (signal.aborted) break;
    }
  } finally {
    clearInterval(keepAlive);
    res.end();
  }
}

export function logRoutes(a: App, _bus: EventBus): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/logs',
      handler: async (c) => {
        const { selection, limit } = selectionOf(c.query);
        if (c.query.get('follow') === '1') {
          await follow(c.res, a.paths.logs, selection, limit, c.signal);
          return undefined;
        }
        const entries = await readRecentLog(a.paths.logs, limit, selection);
        return { body: { items: entries.map(recordOf) } };
      },
    },
  ];
}
