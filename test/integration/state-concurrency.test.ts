import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHome, type Home, type LogosResult } from '../helpers/logos.js';

/**
 * Concurrent writers of one state file: cron, the daemon and a person at the
 * terminal run at the same time, and any of them may be killed. Every command
 * that reported success must have its change on disk, and nothing may be left
 * behind (lock files, temp files).
 */

let home: Home;
beforeEach(() => {
  home = makeHome();
});
afterEach(() => home.cleanup());

const stateDir = (): string => join(home.dir, 'logos', 'state');

function routeAdd(name: string): ReturnType<Home['start']> {
  return home.start(['route', 'add', 'custom/stress-model', '--endpoint', 'http://127.0.0.1:9/v1', '--name', name, '--no-gateway']);
}

describe('state files under concurrent writers', () => {
  it('20 writers × 10 rounds with kill -9 mixed in: nothing lost, nothing left behind', async () => {
    const succeeded: string[] = [];
    const killed: string[] = [];
    for (let round = 0; round < 10; round++) {
      const procs = Array.from({ length: 20 }, (_, i) => ({ name: `r${round}-w${i}`, ...routeAdd(`r${round}-w${i}`) }));
      // Kill three writers of each round at some point of their life (start-up, waiting, writing).
      const victims = new Set([round % 20, (round * 7 + 3) % 20, (round * 13 + 11) % 20]);
      const kills = [...victims].map(
        (i, k) =>
          new Promise<void>((resolve) => {
            setTimeout(() => {
              procs[i]?.child.kill('SIGKILL');
              resolve();
            }, 40 + k * 60 + round * 10);
          }),
      );
      const results: LogosResult[] = await Promise.all(procs.map((p) => p.done));
      await Promise.all(kills);
      results.forEach((r, i) => {
        const name = procs[i]?.name as string;
        if (r.code === 0) succeeded.push(name);
        else if (r.signal === 'SIGKILL') killed.push(name);
        else throw new Error(`writer ${name} failed: ${r.code} ${r.stderr}`);
      });
    }
    // One more write after the last kills: it cleans what killed writers left.
    expect((await routeAdd('final').done).code).toBe(0);

    const file = JSON.parse(readFileSync(join(stateDir(), 'routes.json'), 'utf8')) as { routes: Record<string, unknown> };
    const stored = new Set(Object.keys(file.routes));
    const lost = succeeded.filter((n) => !stored.has(n));
    expect(lost).toEqual([]);
    expect(succeeded.length).toBeGreaterThanOrEqual(170);
    expect(stored.size).toBeGreaterThanOrEqual(succeeded.length + 1);
    // Every stored route is one that some writer tried to add (no garbage).
    for (const n of stored) expect(n === 'final' || succeeded.includes(n) || killed.includes(n)).toBe(true);
    const leftovers = readdirSync(stateDir()).filter((n) => n.endsWith('.lock') || n.endsWith('.tmp') || n.includes('.corrupt-'));
    expect(leftovers).toEqual([]);
  }, 240_000);
});
