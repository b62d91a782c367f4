/**
 * Replaces every occurrence of a secret in a byte stream, chunk by chunk, so an
 * upstream that echoes the key (an error body, an SSE event) never hands it on.
 *
 * It works on bytes, so multi-byte UTF-8 split across chunks passes untouched,
 * and it adds no latency to ordinary traffic: a chunk is released whole unless
 * its tail is a proper prefix of the secret, and only that tail is held until
 * the next chunk (or the end) shows whether the secret continues.
 */

export const SCRUB_MASK = '[REDACTED]';

export interface ByteScrubber {
  /** Takes the next chunk; returns the bytes that are safe to release now (possibly empty). */
  push(chunk: Buffer): Buffer;
  /** The stream ended: returns the held tail, which is not the secret (only a proper prefix of it). */
  end(): Buffer;
}

const EMPTY = Buffer.alloc(0);

/** Start of the longest suffix of data[from..] that is a proper prefix of secret, or data.length if none. */
function heldFrom(data: Buffer, from: number, secret: Buffer): number {
  const first = secret[0];
  for (let i = Math.max(from, data.length - secret.length + 1); i < data.length; i++) {
    if (data[i] !== first) continue;
    if (data.subarray(i).equals(secret.subarray(0, data.length - i))) return i;
  }
  return data.length;
}

export function createByteScrubber(secret: string | Buffer, mask: string | Buffer = SCRUB_MASK): ByteScrubber {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  const masked = typeof mask === 'string' ? Buffer.from(mask, 'utf8') : mask;
  if (key.length === 0) {
    // Nothing to hide: pass through.
    return { push: (chunk) => chunk, end: () => EMPTY };
  }
  let pending: Buffer = EMPTY;
  return {
    push(chunk) {
      const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      const out: Buffer[] = [];
      let from = 0;
      for (let at = data.indexOf(key, from); at !== -1; at = data.indexOf(key, from)) {
        out.push(data.subarray(from, at), masked);
        from = at + key.length;
      }
      // The earliest place the secret could still start and run into the next chunk;
      // any later start lies inside the held tail as well.
      const hold = heldFrom(data, from, key);
      out.push(data.subarray(from, hold));
      // Copy: the held bytes must not pin (or alias) the caller's chunk.
      pending = Buffer.from(data.subarray(hold));
      return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
    },
    end() {
      const rest = pending;
      pending = EMPTY;
      return rest;
    },
  };
}
