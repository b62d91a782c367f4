import { readFileSync } from 'node:fs';

/** What Logos reads of a process in /proc/<pid>/stat (Linux; elsewhere nothing is found). */
export interface ProcStat {
  /** R, S, D, Z (zombie), X (dead), … */
  state: string;
  pgid: number;
  /** Field 22: when it started, in clock ticks after boot. */
  startTicks: number;
}

export function readProcStat(pid: number | string, proc = '/proc'): ProcStat | undefined {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(rest[19]);
    if (!Number.isFinite(startTicks)) return undefined;
    return { state: rest[0] ?? '', pgid: Number(rest[2]), startTicks };
  } catch {
    return undefined;
  }
}

/**
 * When the process started, in clock ticks after boot. Undefined for no such process,
 * and for a zombie (dead, waiting to be reaped).
 */
export function processStartTicks(pid: number, proc = '/proc'): number | undefined {
  const s = readProcStat(pid, proc);
  return s && s.state !== 'Z' && s.state !== 'X' ? s.startTicks : undefined;
}
