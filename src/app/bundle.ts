import { packageVersion } from '../adapters/assets.js';
import { runProcess } from '../adapters/exec/runner.js';
import { findExecutable } from '../adapters/exec/which.js';
import { providerKeyEnvs } from '../core/providers.js';
import { registerSecret, redactText, redactValue } from '../core/redact.js';
import { readRecentLog } from '../log/reader.js';
import type { App } from './context.js';
import { runDoctor, type DoctorOptions } from './doctor.js';
import { collectStatus, type DaemonInfo } from './status.js';

/**
 * `logos debug bundle`: what someone helping you needs, in one JSON file that is
 * safe to share: versions, settings, status, doctor, recent log records and runs.
 * Every key Logos knows (the vault, the environment's provider variables) is
 * registered before anything is written, so it is masked wherever it appears,
 * whatever its shape; credentials inside URLs and key-like strings are masked by
 * pattern. Nothing is probed over the network.
 */

async function toolVersion(bin: string | undefined, args: string[]): Promise<string | null> {
  if (!bin) return null;
  const r = await runProcess(bin, args, { timeoutMs: 5000 });
  return r.exitCode === 0 ? (r.stdout.trim().split('\n')[0] ?? null) : null;
}

export async function makeBundle(a: App, opts: { daemon: DaemonInfo; doctor?: DoctorOptions }): Promise<Record<string, unknown>> {
  // Every secret we can know of, registered first.
  try {
    for (const c of await a.vault.list(providerKeyEnvs())) void c; // loading the vault registers its keys
    for (const p of Object.values(providerKeyEnvs())) if (p) registerSecret(a.env[p]);
  } catch {
    // an unreadable vault is reported by the doctor below; the env keys were registered
  }
  for (const [k, v] of Object.entries(a.env)) if (v && /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i.test(k)) registerSecret(v);

  const path = a.env.PATH;
  const [bwrap, openshell, docker] = await Promise.all([
    toolVersion(findExecutable(a.config.binaries.bwrap, path), ['--version']),
    toolVersion(findExecutable(a.config.binaries.openshell, path), ['-V']),
    toolVersion(findExecutable(a.config.binaries.docker, path), ['--version']),
  ]);
  const [status, doctor, log, runs] = await Promise.all([
    collectStatus(a, { daemon: opts.daemon, providers: 'cache-only', probeGateways: false }).catch((e: Error) => ({ error: e.message })),
    runDoctor(a, { ...opts.doctor, fix: false, network: false }).catch((e: Error) => ({ error: e.message })),
    readRecentLog(a.paths.logs, 500, { filters: [] }).catch(() => []),
    a.runs.list(20).catch(() => []),
  ]);
  const bundle = {
    bundle_version: 1,
    created_at: new Date().toISOString(),
    versions: { logos: packageVersion(), node: process.versions.node, platform: `${process.platform} ${process.arch}`, bwrap, openshell, docker },
    paths: { config: a.paths.config, state: a.paths.state, data: a.paths.data, log: a.paths.logs },
    config: a.config,
    environment: Object.keys(a.env).filter((k) => /^(LOGOS_|OPENSHELL_|XDG_|NO_COLOR$)|_API_KEY$|_BASE_URL$/.test(k)).sort(),
    status,
    doctor,
    log: log.map((e) => (e.kind === 'record' ? e.record : { text: e.line })),
    runs,
  };
  // Masked twice over: values under secret-looking keys, and every string by pattern and by registered key.
  return JSON.parse(redactText(JSON.stringify(redactValue(bundle)))) as Record<string, unknown>;
}
