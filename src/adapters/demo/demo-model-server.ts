import { createServer, type Server } from 'node:http';

/**
 * The DEMO model server behind `logos demo`: a tiny OpenAI-compatible server on
 * 127.0.0.1 that streams a canned, clearly labelled reply (with reasoning, as
 * LM Studio sends it) so the whole path — sandbox, proxy, worker, frames — can be
 * seen working on a machine with no model. It is not a model.
 */

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

function chunk(model: string, delta: Record<string, unknown>, finish: string | null = null, usage?: Record<string, number>): string {
  const body: Record<string, unknown> = {
    id: 'demo-1',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  if (usage) body.usage = usage;
  return `data: ${JSON.stringify(body)}\n\n`;
}

export function demoReply(message: string): { reasoning: string; content: string } {
  const m = message.trim().replace(/\s+/g, ' ');
  const shown = m.length > 200 ? `${m.slice(0, 200)}…` : m;
  return {
    reasoning: `The user wrote ${m.split(' ').length} word(s). I am the Logos demo model, so I describe the path this message took.`,
    content:
      `[Logos demo model — not a real model]\n` +
      `You said: "${shown}"\n` +
      `This reply was streamed by a demo server on the host, through the inference proxy, ` +
      `to a worker running inside a bubblewrap sandbox with no network, and back as JSON-line frames.\n` +
      `Point Logos at a real model with: logos route add lmstudio/<model> --default (or ollama/<model>).`,
  };
}

export async function startDemoModelServer(): Promise<DemoServer> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'logos-demo', object: 'model', owned_by: 'logos' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Unexpected endpoint or method.', type: 'invalid_request_error' } }));
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      let body: { model?: string; messages?: Array<{ role: string; content: string }> } = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof body;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'invalid JSON', type: 'invalid_request_error' } }));
        return;
      }
      const model = body.model ?? 'logos-demo';
      const last = [...(body.messages ?? [])].reverse().find((x) => x.role === 'user')?.content ?? '';
      const reply = demoReply(last);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const pieces: string[] = [chunk(model, { role: 'assistant', content: '' })];
      for (const w of reply.reasoning.match(/\S+\s*/g) ?? []) pieces.push(chunk(model, { reasoning_content: w }));
      for (const w of reply.content.match(/\S+\s*|\n/g) ?? []) pieces.push(chunk(model, { content: w }));
      const promptTokens = Math.ceil(last.length / 4);
      const completionTokens = Math.ceil((reply.reasoning.length + reply.content.length) / 4);
      pieces.push(chunk(model, {}, 'stop', { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }));
      pieces.push('data: [DONE]\n\n');
      let i = 0;
      // A small delay between chunks so the stream is visibly live on a terminal.
      const timer = setInterval(() => {
        const p = pieces[i++];
        if (p === undefined) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(p);
      }, 15);
      res.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
