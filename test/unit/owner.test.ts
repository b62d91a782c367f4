import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findOrphans, OWNER_ENV, ownerHomeKey, setOwnerHome, ownerTag } from '../../src/adapters/exec/owner.js';
import { processStartTicks } from '../../src/adapters/host/proc.js';

/** Orphans are found by the owner tag in their environment: a dead owner, this home, a group leader. Never by name. */

let proc = '';
afterEach(() => rmSync(proc, { recursive: true, force: true }));

function fakeProc(entries: Array<{ pid: number; tag?: string; pgid?: number; state?: string; cmd?: string }>): string {
  proc = mkdtempSync(join(tmpdir(), 'logos-proc-'));
  for (const e of entries) {
    const d = join(proc, String(e.pid));
    mkdirSync(d);
    writeFileSync(join(d, 'environ'), ['PATH=/bin', ...(e.tag ? [`${OWNER_ENV}=${e.tag}`] : [])].join('\0') + '\0');
    // pid (comm) state ppid pgrp …: 20 fields after the state, the 20th being the start time.
    const after = [e.state ?? 'S', '1', String(e.pgid ?? e.pid), ...Array.from({ length: 16 }, () => '0'), '4242', '0', '0'];
    writeFileSync(join(d, 'stat'), `${e.pid} (odd name) ) ${after.join(' ')}\n`);
    writeFileSync(join(d, 'cmdline'), `${(e.cmd ?? 'openshell sandbox exec').split(' ').join('\0')}\0`);
  }
  return proc;
}

describe('ownerHomeKey', () => {
  it('is the 64-bit FNV-1a of the path, 16 hex digits (known vectors), and tells homes apart', () => {
    expect(ownerHomeKey('')).toBe('cbf29ce484222325');
    expect(ownerHomeKey('a')).toBe('af63dc4c8601ec8c');
    expect(ownerHomeKey('foobar')).toBe('85944171f73967e8');
    expect(ownerHomeKey('/home/a/.local/state/logos')).not.toBe(ownerHomeKey('/home/b/.local/state/logos'));
    expect(ownerHomeKey('/home/a/.local/state/logos')).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('findOrphans', () => {
  const state = '/home/someone/.local/state/logos';
  const key = ownerHomeKey(state);
  const deadOwner = `999999999:1:${key}`;

  it('finds group leaders whose owner is gone, of this home only', () => {
    const live = `${process.pid}:${processStartTicks(process.pid)}:${key}`;
    const dir = fakeProc([
      { pid: 101, tag: deadOwner }, // orphan
      { pid: 102, tag: live }, // its owner runs
      { pid: 103, tag: `999999999:1:${ownerHomeKey('/elsewhere')}` }, // another home
      { pid: 104, tag: deadOwner, pgid: 101 }, // a member of 101's group: stopped with it
      { pid: 105, tag: deadOwner, state: 'Z' }, // a zombie
      { pid: 106, cmd: 'openshell sandbox exec --name work' }, // no tag: never, whatever its name
      { pid: 107, tag: `${process.pid}:1:${key}` }, // the owner's pid is now another process (start time differs)
    ]);
    const found = findOrphans(state, dir);
    expect(found.map((o) => o.pid).sort()).toEqual([101, 107]);
    expect(found.find((o) => o.pid === 101)).toMatchObject({ pgid: 101, ownerPid: 999999999, cmdline: 'openshell sandbox exec', startTicks: 4242 });
  });

  it('this process tags its children with its pid, start time and home', () => {
    setOwnerHome(state);
    expect(ownerTag()).toBe(`${process.pid}:${processStartTicks(process.pid)}:${key}`);
    expect(processStartTicks(process.pid)).toBeGreaterThan(0);
    expect(processStartTicks(999999999)).toBeUndefined();
  });
});
