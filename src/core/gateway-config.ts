import { compareVersions, type OsLine } from './openshell.js';
import { imageTagForVersion } from './versions.js';

/**
 * How Logos runs a local gateway container, per OpenShell line (openshell-cli.md §13,
 * openshell-0.1.md §3). Pure: the TOML text and the image references; the caller writes
 * the file and starts the container.
 */

export interface OpenShellImages {
  gateway: string;
  supervisor: string;
  /** 0.1.x: the sandbox runtime image the docker driver pairs with the supervisor. */
  sandbox: string;
}

/** Images are pinned to the CLI's version: ghcr.io/nvidia/openshell up to 0.1.9, quay.io/ai-openshell from 0.1.10. */
export function openshellImages(version: string): OpenShellImages {
  const tag = imageTagForVersion(version);
  const registry = compareVersions(version, '0.1.10') >= 0 ? 'quay.io/ai-openshell' : 'ghcr.io/nvidia/openshell';
  return { gateway: `${registry}/gateway:${tag}`, supervisor: `${registry}/supervisor:${tag}`, sandbox: `${registry}/sandbox:${tag}` };
}

export interface GatewayTomlInput {
  name: string;
  line: OsLine;
  version: string;
  /** The port the gateway listens on inside the container, published at the same number on 127.0.0.1. */
  port: number;
  /** 0.0.x: the supervisor binary Logos extracted, mounted at the same path. */
  supervisorBin?: string;
  images: OpenShellImages;
  /** The port is published on 127.0.0.1 only (plaintext and, on 0.1.x, no authentication are fine then). */
  loopbackOnly: boolean;
}

const q = (s: string): string => JSON.stringify(s);

/** The gateway.toml Logos mounts at OPENSHELL_GATEWAY_CONFIG (schema 1 on 0.0.x, schema 2 on 0.1.x). */
export function gatewayToml(i: GatewayTomlInput): string {
  const lines = [
    `# gateway.toml for the OpenShell gateway '${i.name}' (OpenShell ${i.version}), written by Logos.`,
    '# `logos gateway up` rewrites it; changes made here are lost.',
    '',
    '[openshell]',
    `version = ${i.line === '0.1' ? 2 : 1}`,
    '',
    '[openshell.gateway]',
    '# Sandboxes call back to host.openshell.internal:<this port>, so it is published at the same number.',
    `bind_address = ${q(`0.0.0.0:${i.port}`)}`,
    i.line === '0.1' ? 'compute_driver = "docker"' : 'compute_drivers = ["docker"]',
  ];
  if (i.loopbackOnly) lines.push('# Plaintext: the port is published on 127.0.0.1 only.', 'disable_tls = true');
  if (i.line === '0.1' && i.loopbackOnly) {
    lines.push(
      '',
      '[openshell.gateway.auth]',
      '# Required since 0.1.6 unless OIDC, mTLS or gateway JWTs are configured. Only because the port is',
      '# bound to 127.0.0.1: anyone who can reach it is treated as a local developer.',
      'allow_unauthenticated_users = true',
    );
  }
  lines.push('', '[openshell.drivers.docker]', `grpc_endpoint = ${q(`http://host.openshell.internal:${i.port}`)}`);
  if (i.line === '0.1') {
    lines.push(
      '# The supervisor is extracted into $XDG_DATA_HOME, a directory mounted at the same path on the host.',
      `supervisor_image = ${q(i.images.supervisor)}`,
      `sandbox_runtime_image = ${q(i.images.sandbox)}`,
      'image_pull_policy = "if_not_present"',
      'sandbox_label = "openshell"',
      'app_armor_profile = "Unconfined"',
    );
  } else {
    lines.push('# Extracted by Logos from the supervisor image and mounted at the same path in the gateway.', `supervisor_bin = ${q(i.supervisorBin ?? '')}`);
  }
  return `${lines.join('\n')}\n`;
}
