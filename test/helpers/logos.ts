import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { logFilesSync } from '../../src/log/files.js';

/** Runs the real `logos` binary (bin/logos.js → dist/) in a fresh LOGOS_HOME. */

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** LOGOS_TEST_BIN runs the tests against another build (e.g. an older commit's, to see a new test fail there). */
export const BIN = process.env.LOGOS_TEST_BIN || join(ROOT, 'bin', 'logos.js');

export interface LogosResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Home {
  dir: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<LogosResult>;
  start(args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string }): { child: ChildProcess; done: Promise<LogosResult> };
  log(): Array<Record<string, unknown>>;
  logText(): string;
  cleanup(): void;
}

/** A fresh temp home. The environment is minimal and never contains the developer's keys. */
export function makeHome(extraEnv: NodeJS.ProcessEnv = {}): Home {
  const dir = mkdtempSync(join(tmpdir(), 'logos-test-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(dir, 'home'),
    LOGOS_HOME: join(dir, 'logos'),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    ...extraEnv,
  };
  const start = (args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...env, ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // The command may stop reading early (e.g. input over a limit): that is not the test's error.
    child.stdin?.on('error', () => {});
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    const done = new Promise<LogosResult>((res) => {
      child.on('close', (code, signal) => res({ code, signal, stdout, stderr }));
    });
    return { child, done };
  };
  const logDir = join(dir, 'logos', 'state', 'logs');
  // The unified log's files (logos.1.jsonl, logos.2.jsonl, …), oldest first.
  const logText = (): string =>
    logFilesSync(logDir)
      .map((f) => readFileSync(f.path, 'utf8'))
      .join('');
  return {
    dir,
    env,
    start,
    run: (args, opts) => start(args, opts).done,
    logText,
    log: () =>
      logText()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Parse JSON lines, failing loudly on a line that is not JSON. */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Processes whose command line contains a marker (to prove nothing was left running). */
export function processesMatching(marker: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(marker)) out.push(`${pid} ${cmd.trim()}`);
    } catch {
      // process went away
    }
  }
  return out;
}

/**
 * The processes of one test home, whatever their command line says (the sandbox hides host
 * paths from it): host processes whose environment or command line names the home, and
 * sandboxed ones whose mounts come from it (bwrap binds the sandbox directory; /proc/PID/mountinfo
 * names the source). Tests in other files, running at the same time, never match.
 */
export function homeProcesses(homeDir: string): string[] {
  const tag = basename(homeDir);
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (!cmd) continue; // a kernel thread or a zombie
      const mine =
        cmd.includes(homeDir) ||
        readFileSync(`/proc/${pid}/environ`, 'utf8').includes(homeDir) ||
        readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').some((l) => l.split(' ')[3]?.split('/').includes(tag));
      if (mine) out.push(`${pid} ${cmd}`);
    } catch {
      // process went away, or is not ours to read
    }
  }
  return out;
}

/** The workers (node running the worker bundle, not bwrap) in this home's sandboxes. */
export function sandboxWorkers(homeDir: string): string[] {
  return homeProcesses(homeDir).filter((p) => p.includes('/opt/logos/worker.mjs') && !/^\d+ \S*bwrap /.test(p));
}

export async function waitFor<T>(fn: () => T | undefined | false, what: string, limitMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
