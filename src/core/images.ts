import { LogosError } from './errors.js';
import type { OsLine } from './openshell.js';

/**
 * The image new OpenShell sandboxes are made from. The worker needs Node, the agent's
 * tools need a shell, tar, git and coreutils, and `sandbox upload` needs tar:
 * - `sandboxImage` in config, when set (pinned by digest after `logos image push|pull`);
 * - 0.0.x: OpenShell's community base image (it has Node 22);
 * - 0.1.x: Logos' own image, `logos-sandbox:<logos version>`, built here with
 *   `logos image build` (the 0.1.x default image has no Node); a remote gateway cannot
 *   see a local build, so it needs a pushed one.
 */

export const COMMUNITY_BASE_IMAGE = 'ghcr.io/nvidia/openshell-community/sandboxes/base:latest';
export const SANDBOX_IMAGE_REPO = 'logos-sandbox';

export function localSandboxImage(logosVersion: string): string {
  return `${SANDBOX_IMAGE_REPO}:${logosVersion}`;
}

export interface SandboxImageInput {
  line: OsLine;
  /** config `sandboxImage` ('' when unset). */
  configured: string;
  logosVersion: string;
  gateway: string;
  gatewayIsLocal: boolean;
  /** Is the local build present in this host's docker? (Only asked for a local gateway.) */
  localImagePresent: (ref: string) => Promise<boolean>;
}

export async function chooseSandboxImage(i: SandboxImageInput): Promise<string> {
  if (i.configured) return i.configured;
  if (i.line === '0.0') return COMMUNITY_BASE_IMAGE;
  const local = localSandboxImage(i.logosVersion);
  if (!i.gatewayIsLocal) {
    throw new LogosError('IMAGE_MISSING', `Gateway '${i.gateway}' is not on this machine, so it cannot use a local build of Logos' sandbox image, and no sandboxImage is configured.`, {
      hint: `Build and push it to a registry the gateway can pull from: \`logos image build\` then \`logos image push <registry>/${SANDBOX_IMAGE_REPO}:${i.logosVersion}\` (this pins it by digest in config).`,
      details: { gateway: i.gateway, line: i.line },
    });
  }
  if (!(await i.localImagePresent(local))) {
    throw new LogosError('IMAGE_MISSING', `OpenShell 0.1.x sandboxes need Logos' sandbox image (${local}), which is not built yet: the default OpenShell image has no Node.`, {
      hint: 'Build it once with `logos image build` (or pin another image with Node, sh, tar, git and coreutils: `logos config set sandboxImage <ref>`).',
      details: { image: local, line: i.line },
    });
  }
  return local;
}

// ---- `logos image build|pull|push|status|list` ----

/** What the image commands need from docker (src/adapters/docker implements it). */
export interface ImageDocker {
  engineVersion(): Promise<string>;
  /** Where docker keeps images, when it is a local path. */
  rootDir(): Promise<string | undefined>;
  build(opts: { tag: string; dockerfile: string; context: string; onLine?: (line: string) => void }): Promise<void>;
  imageInfo(ref: string): Promise<ImageInfo | undefined>;
  pull(ref: string, onLine?: (line: string) => void): Promise<void>;
  tag(source: string, target: string): Promise<void>;
  /** Pushes and returns the digest the registry gave it (sha256:…). */
  push(ref: string, onLine?: (line: string) => void): Promise<string | undefined>;
  listImages(reference: string): Promise<Array<{ ref: string; id: string; size: string; created: string }>>;
}

export interface ImageInfo {
  id: string;
  repoDigests: string[];
  size: number;
  created: string;
}

/** Free space and memory of this host (src/adapters/host). */
export interface HostResources {
  /** Free bytes for an unprivileged writer on the file system holding `path`, or undefined when it cannot be measured. */
  freeDiskBytes(path: string): Promise<number | undefined>;
  /** Memory available without swapping (MemAvailable). */
  availableMemBytes(): number;
}

export interface ImageContext {
  docker: ImageDocker;
  resources: HostResources;
  /** Refuse below these (config imageMinFreeDiskBytes / imageMinFreeMemBytes). */
  needDiskBytes: number;
  needMemBytes: number;
  dockerfile: string;
  context: string;
  logosVersion: string;
  /** Lines of docker's progress (given only on a terminal). */
  progress?: (line: string) => void;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/**
 * Large image work has OOM-killed hosts (and docker then reported success): check free disk
 * where docker keeps images and available memory first, and refuse with the numbers.
 */
export async function checkImageResources(ctx: Pick<ImageContext, 'docker' | 'resources' | 'needDiskBytes' | 'needMemBytes'>, what: string): Promise<{ diskFree?: number; memAvailable: number; dockerRoot?: string }> {
  const root = await ctx.docker.rootDir().catch(() => undefined);
  const disk = root ? await ctx.resources.freeDiskBytes(root) : undefined;
  const mem = ctx.resources.availableMemBytes();
  const short: string[] = [];
  if (disk !== undefined && disk < ctx.needDiskBytes) short.push(`${formatBytes(disk)} free disk under ${root} (needs ${formatBytes(ctx.needDiskBytes)})`);
  if (mem < ctx.needMemBytes) short.push(`${formatBytes(mem)} of memory available (needs ${formatBytes(ctx.needMemBytes)})`);
  if (short.length > 0) {
    throw new LogosError('INSUFFICIENT_RESOURCES', `Not starting ${what}: only ${short.join(' and ')}.`, {
      hint: 'Free some (`docker system prune` removes unused images and build cache), or lower the limits with `logos config set imageMinFreeDiskBytes N` / `imageMinFreeMemBytes N` if you know better.',
      details: { disk_free_bytes: disk ?? null, disk_needed_bytes: ctx.needDiskBytes, mem_available_bytes: mem, mem_needed_bytes: ctx.needMemBytes, docker_root: root ?? null },
    });
  }
  return { ...(disk !== undefined ? { diskFree: disk } : {}), memAvailable: mem, ...(root ? { dockerRoot: root } : {}) };
}

/** `registry/repo:tag` → `registry/repo` (a digest or tag is dropped). */
export function repositoryOf(ref: string): string {
  const noDigest = ref.split('@')[0] as string;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

function validRef(ref: string): string {
  if (!/^[a-z0-9][a-z0-9._:/@-]*$/i.test(ref) || ref.length > 512) {
    throw new LogosError('INVALID_ARGUMENT', `Invalid image reference '${ref}'.`, { hint: 'e.g. registry.example.org/team/logos-sandbox:0.1.0' });
  }
  return ref;
}

export async function imageBuild(ctx: ImageContext, input: { tag?: string } = {}): Promise<{ ref: string; id: string; size: number }> {
  const ref = validRef(input.tag ?? localSandboxImage(ctx.logosVersion));
  await ctx.docker.engineVersion();
  await checkImageResources(ctx, `the build of ${ref}`);
  await ctx.docker.build({ tag: ref, dockerfile: ctx.dockerfile, context: ctx.context, ...(ctx.progress ? { onLine: ctx.progress } : {}) });
  // A builder killed for memory has made docker exit 0 without an image: believe only the image.
  const info = await ctx.docker.imageInfo(ref);
  if (!info) {
    throw new LogosError('DOCKER_FAILED', `docker said the build of ${ref} finished, but there is no such image.`, {
      hint: 'The builder was probably killed (out of memory?): see `dmesg` or `journalctl -k`, free memory, then run `logos image build` again.',
    });
  }
  return { ref, id: info.id, size: info.size };
}

/** Pull an image and return its reference pinned by digest (repo@sha256:…). */
export async function imagePull(ctx: ImageContext, input: { ref: string }): Promise<{ ref: string; pinned: string; id: string }> {
  const ref = validRef(input.ref);
  await ctx.docker.engineVersion();
  await checkImageResources(ctx, `the pull of ${ref}`);
  await ctx.docker.pull(ref, ctx.progress);
  const info = await ctx.docker.imageInfo(ref);
  const repo = repositoryOf(ref);
  const digest = info?.repoDigests.find((d) => d.startsWith(`${repo}@`)) ?? info?.repoDigests[0];
  if (!info || !digest) {
    throw new LogosError('DOCKER_FAILED', `docker pulled ${ref} but reports no digest for it, so it cannot be pinned.`, { hint: `See \`docker image inspect ${ref}\`.` });
  }
  return { ref, pinned: digest, id: info.id };
}

/** Tag the local build (or `source`) as `dest`, push it, and return it pinned by digest. */
export async function imagePush(ctx: ImageContext, input: { dest: string; source?: string }): Promise<{ ref: string; pinned: string }> {
  const dest = validRef(input.dest);
  if (!/^[^/]+[.:][^/]*\//.test(dest) && !dest.startsWith('localhost/')) {
    throw new LogosError('INVALID_ARGUMENT', `'${dest}' names no registry.`, { hint: `Give the registry too, e.g. \`logos image push registry.example.org/team/${SANDBOX_IMAGE_REPO}:${ctx.logosVersion}\`.` });
  }
  const source = validRef(input.source ?? localSandboxImage(ctx.logosVersion));
  await ctx.docker.engineVersion();
  if (!(await ctx.docker.imageInfo(source))) {
    throw new LogosError('IMAGE_MISSING', `There is no local image ${source} to push.`, { hint: 'Build it first with `logos image build`.' });
  }
  if (source !== dest) await ctx.docker.tag(source, dest);
  const digest = await ctx.docker.push(dest, ctx.progress);
  const info = await ctx.docker.imageInfo(dest);
  const repo = repositoryOf(dest);
  const pinned = digest ? `${repo}@${digest}` : info?.repoDigests.find((d) => d.startsWith(`${repo}@`));
  if (!pinned) throw new LogosError('DOCKER_FAILED', `docker pushed ${dest} but reported no digest, so it cannot be pinned.`, { hint: `See \`docker image inspect ${dest}\`.` });
  return { ref: dest, pinned };
}
