/** The shell tool for real: /bin/sh in a temp dir, its own process group, killed whole. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TOOL_OUTPUT_BYTES } from '../../src/core/protocol.js';
import { MAX_STREAMED_OUTPUT_BYTES } from '../../src/worker/tool-output.js';
import { runningShells, runShell, shellTool, stopAllShells } from '../../src/worker/tool-shell.js';
import { processesWith, uniqueMarker } from '../helpers/procs.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'logos-shell-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shell tool', () => {
  it('runs in the cwd; stdout and stderr interleaved in order; the exit code in the result', async () => {
    const r = await shellTool({ command: 'pwd; echo out; echo err >&2; echo out2; exit 3' }, { cwd: dir });
    expect(r).toEqual({ ok: false, text: `${dir}\nout\nerr\nout2\n[exit code 3]`, exitCode: 3 });
    expect(await shellTool({ command: 'true' }, { cwd: dir })).toEqual({ ok: true, text: '(no output)\n[exit code 0]', exitCode: 0 });
    expect((await shellTool({ command: 'echo hi > made.txt' }, { cwd: dir })).ok).toBe(true);
    expect(readFileSync(join(dir, 'made.txt'), 'utf8')).toBe('hi\n');
  });

  it('a syntax error is reported in the output', async () => {
    const r = await shellTool({ command: 'if then fi (' }, { cwd: dir });
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/[Ss]yntax error/);
    expect(r.exitCode).toBe(2);
  });

  it('streams output pieces as they come; together they are the whole output', async () => {
    const pieces: string[] = [];
    const r = await shellTool({ command: 'printf "a\\n"; sleep 0.1; printf "b\\n"' }, { cwd: dir, onOutput: (t) => pieces.push(t) });
    expect(pieces.join('')).toBe('a\nb\n');
    expect(r.text).toBe('a\nb\n[exit code 0]');
  });

  it('10 MB of output: the result keeps the head and the tail with a note; streaming stops at its cap with a note', async () => {
    let streamed = '';
    const r = await shellTool({ command: 'yes 0123456789abcdef | head -c 10485760' }, { cwd: dir, onOutput: (t) => (streamed += t) });
    expect(r.ok).toBe(true);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_BYTES);
    expect(r.text).toMatch(/^0123456789abcdef\n0123456789abcdef\n/);
    expect(r.text).toMatch(/\[… \d+ bytes of output cut here: 10485760 bytes in all, the first \d+ and the last \d+ are shown …\]/);
    // 10485760 = 616809 × 17 + 7: the output ends inside a line.
    expect(r.text.endsWith('0123456789abcdef\n0123456\n[exit code 0]')).toBe(true);
    expect(Buffer.byteLength(streamed)).toBeLessThan(MAX_STREAMED_OUTPUT_BYTES + 1024);
    expect(streamed).toContain(`output beyond ${MAX_STREAMED_OUTPUT_BYTES} bytes is not streamed`);
  });

  it('a timeout kills the whole process group (background children too)', async () => {
    const marker = uniqueMarker();
    const r = await runShell({ command: `sleep 1000.${marker} & sleep 1001.${marker}; wait`, cwd: dir, timeoutMs: 300, graceMs: 500 });
    expect(r).toMatchObject({ timedOut: true, cancelled: false, exitCode: null });
    expect(processesWith(marker)).toEqual([]);
    const t = await shellTool({ command: `sleep 1000.${marker}`, timeout_s: 1 }, { cwd: dir });
    expect(t.text).toBe('(no output)\n[timed out after 1 s: the command and its processes were killed; pass timeout_s for a longer limit]');
    expect(processesWith(marker)).toEqual([]);
  });

  it('an abort (the task deadline) kills the group; the result says it was cancelled', async () => {
    const marker = uniqueMarker();
    const ac = new AbortController();
    const r = shellTool({ command: `echo started; sleep 1000.${marker}` }, { cwd: dir, signal: ac.signal, onOutput: () => ac.abort() });
    const result = await r;
    expect(result.text).toBe('started\n[stopped: the task was cancelled; the command and its processes were killed]');
    expect(result.ok).toBe(false);
    expect(processesWith(marker)).toEqual([]);
  });

  it('nothing a command started in the background outlives it', async () => {
    const marker = uniqueMarker();
    const r = await runShell({ command: `(sleep 1000.${marker} &); echo done`, cwd: dir, timeoutMs: 60_000, graceMs: 500 });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, output: 'done\n' });
    expect(processesWith(marker)).toEqual([]);
  });

  it('a process that ignores SIGTERM is killed with SIGKILL after the grace', async () => {
    const marker = uniqueMarker();
    const r = await runShell({ command: `trap '' TERM; echo ready; sleep 1000.${marker}; echo never`, cwd: dir, timeoutMs: 200, graceMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.output).toBe('ready\n');
    expect(processesWith(marker)).toEqual([]);
  });

  it('stopAllShells stops every running command (the worker is being signalled)', async () => {
    const marker = uniqueMarker();
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    const running = runShell({ command: `echo go; sleep 1000.${marker}`, cwd: dir, timeoutMs: 60_000, onOutput: () => started() });
    await ready;
    expect(runningShells()).toBe(1);
    await stopAllShells(300);
    expect(await running).toMatchObject({ cancelled: true });
    expect(runningShells()).toBe(0);
    expect(processesWith(marker)).toEqual([]);
  });

  it('a cwd that does not exist: the shell cannot start, said plainly', async () => {
    const r = await shellTool({ command: 'true' }, { cwd: join(dir, 'nope') });
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/^could not start \/bin\/sh: /);
  });
});
