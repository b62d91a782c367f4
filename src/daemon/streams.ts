import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventBus, LogosEvent, Subscription } from '../core/events.js';
import { redactValue } from '../core/redact.js';

/**
 * Live events to clients: WebSocket /v1/events and server-sent events. Each
 * WebSocket message is a JSON array of what is ready at that moment (events, in
 * order, and notices such as `hello` or `events.dropped`): at thousands of events a
 * second, one message per event would cost both ends more than the events. Each
 * client has its own bounded queue (see core/events.ts) and is written to only
 * while its socket keeps up: a client that stops reading loses its oldest events
 * (and is told how many), it never makes the daemon buffer without bound or slows
 * anyone else down.
 */

/** Bytes waiting in a client's socket before we stop handing it more. */
const HIGH_WATER = 256 * 1024;
const PING_MS = 30_000;

function parseSince(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function parseTypes(v: string | null): string[] {
  return v ? v.split(',').filter(Boolean) : [];
}

/** What a client is told when events were dropped for it. */
export function droppedNotice(count: number, reason: 'slow' | 'gap'): { type: 'events.dropped'; count: number; reason: string } {
  return { type: 'events.dropped', count, reason: reason === 'slow' ? 'the client fell behind; the oldest events were dropped' : 'asked to replay from further back than the daemon keeps' };
}

/** An event as JSON, masked; made once per event however many clients get it. */
const jsonOf = new WeakMap<LogosEvent, string>();
function eventJson(ev: LogosEvent): string {
  let s = jsonOf.get(ev);
  if (s === undefined) {
    s = JSON.stringify(redactValue(ev));
    jsonOf.set(ev, s);
  }
  return s;
}

export interface WsEvents {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
  readonly clients: number;
  close(): void;
}

export function wsEvents(bus: EventBus, opts: { queueLimit?: number; pingMs?: number } = {}): WsEvents {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  const live = new Set<WebSocket>();

  const attach = (ws: WebSocket, url: URL): void => {
    live.add(ws);
    let alive = true;
    let timer: NodeJS.Timeout | undefined;
    const pump = (): void => {
      if (ws.readyState !== ws.OPEN) return;
      const dropped = sub.takeDropped();
      if (dropped > 0) ws.send(JSON.stringify([droppedNotice(dropped, 'slow')]));
      while (sub.pending > 0 && ws.bufferedAmount < HIGH_WATER) {
        ws.send(`[${sub.drain(256).map(eventJson).join(',')}]`);
      }
      // Still events to send but the socket is full: look again shortly (ws has no drain event).
      if (sub.pending > 0 && !timer) {
        timer = setTimeout(() => {
          timer = undefined;
          pump();
        }, 50);
      }
    };
    const sub = bus.subscribe({
      types: parseTypes(url.searchParams.get('types')),
      ...(parseSince(url.searchParams.get('since')) !== undefined ? { since: parseSince(url.searchParams.get('since')) as number } : {}),
      queueLimit: opts.queueLimit ?? 1000,
      onReady: () => setImmediate(pump),
    });
    ws.send(JSON.stringify([{ type: 'hello', v: 1, last_seq: bus.lastSeq }, ...(sub.missedBeforeReplay > 0 ? [droppedNotice(sub.missedBeforeReplay, 'gap')] : [])]));
    pump();
    const ping = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, opts.pingMs ?? PING_MS);
    ws.on('pong', () => (alive = true));
    ws.on('message', () => {
      // The stream is one-way; a client's messages are ignored.
    });
    ws.on('close', () => {
      clearInterval(ping);
      if (timer) clearTimeout(timer);
      sub.close();
      live.delete(ws);
    });
    ws.on('error', () => ws.terminate());
  };

  return {
    handleUpgrade(req, socket, head, url) {
      if (url.pathname !== '/v1/events') {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws, url));
    },
    get clients() {
      return live.size;
    },
    close() {
      for (const ws of live) ws.terminate();
      wss.close();
    },
  };
}

/**
 * Server-sent events from a subscription (or from a fixed list, then live).
 * `id:` is the event's seq, so a client resumes with Last-Event-ID.
 */
export function serveSse(
  res: ServerResponse,
  subscribe: (onReady: () => void) => Subscription,
  opts: { keepAliveMs?: number; format?: (ev: LogosEvent) => { event: string; data: unknown } | undefined; endWhen?: (ev: LogosEvent) => boolean } = {},
): void {
  let pumpNow = (): void => {};
  const sub = subscribe(() => setImmediate(() => pumpNow()));
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write(': logos\n\n');
  let ended = false;
  let waitingDrain = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(keepAlive);
    sub.close();
    res.end();
  };
  const pump = (): void => {
    if (ended || waitingDrain) return;
    const dropped = sub.takeDropped();
    if (dropped > 0) res.write(`event: events.dropped\ndata: ${JSON.stringify(droppedNotice(dropped, 'slow'))}\n\n`);
    while (sub.pending > 0) {
      for (const ev of sub.drain(64)) {
        const f = opts.format ? opts.format(ev) : { event: ev.type, data: ev };
        if (f) {
          const ok = res.write(`id: ${ev.seq}\nevent: ${f.event}\ndata: ${JSON.stringify(redactValue(f.data))}\n\n`);
          if (!ok) waitingDrain = true;
        }
        if (opts.endWhen?.(ev)) {
          finish();
          return;
        }
      }
      if (waitingDrain) {
        res.once('drain', () => {
          waitingDrain = false;
          pump();
        });
        return;
      }
    }
  };
  const keepAlive = setInterval(() => {
    if (!waitingDrain) res.write(': keep-alive\n\n');
  }, opts.keepAliveMs ?? 15_000);
  keepAlive.unref();
  res.on('close', finish);
  if (sub.missedBeforeReplay > 0) res.write(`event: events.dropped\ndata: ${JSON.stringify(droppedNotice(sub.missedBeforeReplay, 'gap'))}\n\n`);
  pumpNow = pump;
  pump();
}
