import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureToken, fixTokenMode, liveDaemon, processStartTicks, readToken, removePidFile, writePidFile } from '../../src/daemon/files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logos-daemon-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('daemon token', () => {
  it('is created once, 0600 in a 0700 directory, and read back unchanged', () => {
    const f = join(dir, 'daemon', 'token');
    const t = ensureToken(f);
    expect(t.length).toBeGreaterThanOrEqual(40);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'daemon')).mode & 0o777).toBe(0o700);
    expect(ensureToken(f)).toBe(t);
  });

  it('a token others can read is refused until fixed', () => {
    const f = join(dir, 'token');
    ensureToken(f);
    chmodSync(f, 0o644);
    expect(() => readToken(f)).toThrow(expect.objectContaining({ code: 'PERMISSION_NOT_600' }));
    expect(fixTokenMode(f)).toBe(true);
    expect(readToken(f).length).toBeGreaterThan(16);
  });

  it('an empty token file is damaged state, not an empty token', () => {
    const f = join(dir, 'token');
    writeFileSync(f, '\n', { mode: 0o600 });
    expect(() => readToken(f)).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT' }));
  });
});

describe('daemon pid file', () => {
  it('names a live daemon only while that very process runs (a reused pid does not count)', async () => {
    const f = join(dir, 'daemon.pid');
    const child = spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const ticks = processStartTicks(pid) as number;
    expect(ticks).toBeGreaterThan(0);
    await writePidFile(f, { pid, start_ticks: ticks, started_at: new Date().toISOString(), host: '127.0.0.1', port: 1, version: 'x' });
    expect(liveDaemon(f)?.pid).toBe(pid);
    // Same pid, another start time: some other process that got the pid after a crash.
    await writePidFile(f, { pid, start_ticks: ticks + 1, started_at: '', host: '127.0.0.1', port: 1, version: 'x' });
    expect(liveDaemon(f)).toBeUndefined();
    await writePidFile(f, { pid, start_ticks: ticks, started_at: '', host: '127.0.0.1', port: 1, version: 'x' });
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    expect(liveDaemon(f)).toBeUndefined();
    removePidFile(f, pid + 1); // not ours: kept
    expect(statSync(f).isFile()).toBe(true);
    removePidFile(f, pid);
    expect(() => statSync(f)).toThrow();
  });
});
