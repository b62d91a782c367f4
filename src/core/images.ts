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
