import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, spawnProcess, type RunOptions, type RunResult } from '../../src/adapters/exec/runner.js';
import { processesMatching, waitFor } from '../helpers/logos.js';

const node = process.execPath;

// Collected commands start through execa, streaming ones with node:child_process: both keep one contract.
const starts: Array<[string, (file: string, args: string[], opts?: RunOptions) => Promise<RunResult>]> = [
  ['runProcess (execa)', runProcess],
  ['spawnProcess (node:child_process)', (file, args, opts) => spawnProcess(file, args, opts).result],
];

describe.each(starts)('runner: %s', (_name, runProcess) => {
  it('passes file descriptors 3 and up their data and closes them', async () => {
    const script = 'const fs=require("fs");process.stdout.write(fs.readFileSync(3,"utf8")+"|"+fs.readFileSync(4,"utf8"))';
    const r = await runProcess(node, ['-e', script], { inputFds: [Buffer.from('three'), Buffer.from('four')] });
    expect(r.stdout).toBe('three|four');
  });

  it('gives the child only the environment asked for with extendEnv: false', async () => {
    process.env.LOGOS_RUNNER_TEST_LEAK = 'host';
    try {
      const r = await runProcess(node, ['-e', 'console.log(JSON.stringify([process.env.LOGOS_RUNNER_TEST_LEAK ?? null, process.env.ONLY]))'], { env: { ONLY: 'yes' }, extendEnv: false });
      expect(JSON.parse(r.stdout)).toEqual([null, 'yes']);
      const merged = await runProcess(node, ['-e', 'console.log(process.env.LOGOS_RUNNER_TEST_LEAK)'], { env: { ONLY: 'yes' } });
      expect(merged.stdout).toBe('host\n');
    } finally {
      delete process.env.LOGOS_RUNNER_TEST_LEAK;
    }
  });

  it('survives a child that exits without reading its input', async () => {
    const r = await runProcess(node, ['-e', 'process.exit(4)'], { input: 'x'.repeat(4 * 1024 * 1024) });
    expect(r.exitCode).toBe(4);
    expect(r.spawnError).toBeUndefined();
  });

  it('collects stdout, stderr and the exit code; stdin is /dev/null unless given', async () => {
    const r = await runProcess(node, ['-e', 'process.stdin.on("data",()=>{}).on("end",()=>{console.log("eof");console.error("err line");process.exit(3)})']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('eof\n');
    expect(r.stderrTail).toContain('err line');
    expect(r.timedOut).toBe(false);
    expect(r.notFound).toBe(false);
  });

  it('writes input to stdin and closes it', async () => {
    const r = await runProcess(node, ['-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(s.toUpperCase()))'], { input: 'hello $(x) "q"' });
    expect(r.stdout).toBe('HELLO $(X) "Q"');
  });

  it('passes argv without a shell', async () => {
    const weird = `a b;$(echo no)|'"*`;
    const r = await runProcess(node, ['-e', 'console.log(JSON.stringify(process.argv.slice(1)))', weird]);
    expect(JSON.parse(r.stdout)).toEqual([weird]);
  });

  it('reports a missing program as notFound instead of throwing', async () => {
    const r = await runProcess('/nonexistent/logos-no-such-binary', ['x']);
    expect(r.notFound).toBe(true);
    expect(r.exitCode).toBeNull();
  });

  it('kills the whole process group on timeout (grandchildren included)', async () => {
    const marker = `logos-runner-test-${process.pid}-${Date.now()}`;
    const script = `const {spawn}=require("child_process");spawn(process.execPath,["-e","setInterval(()=>{},1000)","${marker}"],{stdio:"ignore"});setInterval(()=>{},1000)`;
    const r = await runProcess(node, ['-e', script, marker], { timeoutMs: 300, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode === null || r.signal !== null).toBe(true);
    await waitFor(() => processesMatching(marker).length === 0, 'the grandchild to be gone', 5000);
    expect(processesMatching(marker)).toEqual([]);
  });

  it('kills the group on abort and says cancelled', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await runProcess(node, ['-e', 'setInterval(()=>{},1000)'], { signal: ac.signal, killGraceMs: 200 });
    expect(r.cancelled).toBe(true);
    expect(r.timedOut).toBe(false);
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const r = await runProcess(node, ['-e', 'process.on("SIGTERM",()=>{});setInterval(()=>{},1000)'], { timeoutMs: 200, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
  });

  it('streams lines as they come, reads stderr concurrently, and drops oversized lines', async () => {
    const lines: string[] = [];
    const oversized: number[] = [];
    let stderrLines = 0;
    // 2 MiB of stderr would block a child whose stderr nobody reads.
    const script = [
      'process.stderr.write(("e".repeat(1000)+"\\n").repeat(2048));',
      'process.stdout.write("one\\n");',
      'process.stdout.write("x".repeat(3000)+"\\n");',
      'process.stdout.write("tw");process.stdout.write("o\\r\\nthree");',
    ].join('');
    const r = await spawnProcess(node, ['-e', script], {
      maxLineBytes: 1000,
      onStdoutLine: (l) => lines.push(l),
      onOversizedLine: (b) => oversized.push(b),
      onStderrLine: () => (stderrLines += 1),
    }).result;
    expect(r.exitCode).toBe(0);
    expect(lines).toEqual(['one', 'two', 'three']);
    expect(oversized).toEqual([3000]);
    expect(stderrLines).toBe(2048);
  });
});

describe('runner: a process started ahead of its input', () => {
  it('waits for sendInput, and its deadline counts from then', async () => {
    const p = spawnProcess(node, ['-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stdout.write(s.toUpperCase()+"\\n");setInterval(()=>{},1000)})'], {
      deferInput: true,
      timeoutMs: 300,
      killGraceMs: 100,
      onStdoutLine: () => {},
    });
    // Longer than the deadline before the input: not timed out, still running.
    await new Promise((r) => setTimeout(r, 600));
    let ended = false;
    void p.result.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    const sent = Date.now();
    p.sendInput('late task');
    const r = await p.result;
    expect(r.timedOut).toBe(true);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(250);
  });
});

describe('runner: data for file descriptors 3 and up (spawnProcess)', () => {
  // Like bwrap's --args: read to the end of the data, and only then go on.
  const readFd3 = (out: string): string[] => ['-c', `cat <&3 > '${out}.part' && mv '${out}.part' '${out}'`];

  it('is there, to its end, at once, while the parent is still busy (a pipe is closed only when the event loop runs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logos-fd-'));
    try {
      const out = join(dir, 'got');
      const p = spawnProcess('/bin/sh', readFd3(out), { inputFds: [Buffer.from('options')], onStdoutLine: () => {} });
      // Busy, never yielding to the event loop, until the child has what it needs (or 5 s).
      const until = Date.now() + 5000;
      let got = '';
      while (Date.now() < until && got !== 'options') got = existsSync(out) ? readFileSync(out, 'utf8') : '';
      expect(got).toBe('options');
      expect((await p.result).exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still reaches the child when the temp directory cannot be written (through a pipe), and leaves no file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logos-fd-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = join(dir, 'missing');
    try {
      const out = join(dir, 'got');
      const r = await spawnProcess('/bin/sh', readFd3(out), { inputFds: [Buffer.from('through a pipe')], onStdoutLine: () => {} }).result;
      expect(r.exitCode).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe('through a pipe');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith(`.logos-fd-${process.pid}-`))).toEqual([]);
  });
});
