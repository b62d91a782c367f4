import { readdirSync, readFileSync } from 'node:fs';

/** Live processes whose command line contains `marker` (zombies have an empty one), from /proc. */
export function processesWith(marker: string): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.includes(marker)) out.push({ pid: Number(name), cmdline });
  }
  return out;
}

/** A marker unique to this test run, usable as the fraction of a `sleep` argument (digits only). */
export function uniqueMarker(): string {
  return `${process.pid}${Date.now() % 1_000_000}${Math.floor(Math.random() * 1000)}`;
}
