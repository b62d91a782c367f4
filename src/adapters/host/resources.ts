import { statfs } from 'node:fs/promises';
import { freemem } from 'node:os';
import { dirname } from 'node:path';
import type { HostResources } from '../../core/images.js';

/** Free disk and memory of this host, as `logos image build|pull` check them before they start. */
export const hostResources: HostResources = {
  async freeDiskBytes(path: string): Promise<number | undefined> {
    // The path itself may not exist yet (or not be ours to look into): its nearest parent is on the same file system, or close.
    for (let p = path; ; p = dirname(p)) {
      try {
        const s = await statfs(p);
        return Number(s.bavail) * Number(s.bsize);
      } catch {
        if (dirname(p) === p) return undefined;
      }
    }
  },
  availableMemBytes(): number {
    // libuv reads MemAvailable on Linux: what can be used without swapping.
    return freemem();
  },
};
