import { readdirSync, readFileSync } from 'node:fs';
import { processStartTicks, readProcStat } from '../host/proc.js';

/**
 * Which Logos process started a child, written into the child's environment
 * (`LOGOS_SPAWNED_BY=<pid>:<start time>:<home key>`), so that a child left behind by a
 * host that died (kill -9: no exit hook ran) can be recognised precisely later: its
 * owner's pid no longer runs with that start time, and it belongs to this LOGOS_HOME.
 * Nothing is ever matched by name. Linux /proc; elsewhere nothing is found.
 */

export const OWNER_ENV = 'LOGOS_SPAWNED_BY';

/**
 * 16 hex digits naming the state directory (64-bit FNV-1a of its path): it tells homes apart,
 * it is no secret, and node:crypto stays out of every command's start.
 */
export function ownerHomeKey(stateDir: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(stateDir)) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

let homeKey = '';

/** The state directory this process works on (set once by the composition root). */
export function setOwnerHome(stateDir: string): void {
  homeKey = ownerHomeKey(stateDir);
}

let selfTag: string | undefined;

/** This process's tag for its children's environment. */
export function ownerTag(): string {
  selfTag ??= `${process.pid}:${processStartTicks(process.pid) ?? 0}`;
  return `${selfTag}:${homeKey}`;
}

export interface Orphan {
  pid: number;
  /** Its process group (Logos starts each child in its own). */
  pgid: number;
  ownerPid: number;
  cmdline: string;
  /** Its own start time, to know it again (and never signal a process that took its pid). */
  startTicks: number;
}

/**
 * Processes Logos started for this home whose owner is gone (not running, or its pid now
 * belongs to another process). Only group leaders: a child is started in its own process
 * group, and the whole group is what gets stopped.
 */
export function findOrphans(stateDir: string, proc = '/proc'): Orphan[] {
  const key = ownerHomeKey(stateDir);
  const out: Orphan[] = [];
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`${proc}/${p}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    const entry = environ.split('\0').find((e) => e.startsWith(`${OWNER_ENV}=`));
    if (!entry) continue;
    const [ownerPidText, ownerStart, ownerHome] = entry.slice(OWNER_ENV.length + 1).split(':');
    if (ownerHome !== key) continue;
    const ownerPid = Number(ownerPidText);
    if (!Number.isInteger(ownerPid) || ownerPid <= 0) continue;
    if (String(processStartTicks(ownerPid)) === ownerStart) continue; // the owner still runs
    const st = readProcStat(p, proc);
    if (!st || st.state === 'Z' || st.state === 'X') continue; // gone, or dead and waiting for its parent
    if (st.pgid !== pid) continue; // not the group leader: its leader is (or was) the one to stop
    let cmdline = '';
    try {
      cmdline = readFileSync(`${proc}/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      // gone meanwhile
    }
    out.push({ pid, pgid: st.pgid, ownerPid, cmdline, startTicks: st.startTicks });
  }
  return out;
}
