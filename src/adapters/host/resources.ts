import { statfs } from 'node:fs/promises';
import { freemem } from 'node:os';
import type { HostResources } from '../../core/images.js';

/** Free disk and memory of this host, as `logos image build|pull` check them before they start. */
export const hostResources: HostResources = {
  async freeDiskBytes(path: string): Promise<number | undefined> {
    try {
      const s = await statfs(path);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      // not a local path (a remote docker), or not readable by us: nothing to measure
      return undefined;
    }
  },
  availableMemBytes(): number {
    // libuv reads MemAvailable on Linux: what can be used without swapping.
    return freemem();
  },
};
