// `sandbox create|get|list|delete|stop|start|exec|upload|download|ssh-config|provider *` (run.rs).
// A "sandbox" is a directory: $FAKE_OPENSHELL_STATE/servers/<gw>/workspaces/<ws>/sandboxes/<name>/root,
// which stands in for the sandbox workdir /sandbox. `exec` really runs the command on the host there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { c, envListMatches, isTruthyEnv, padEnd, sleep, toYaml, utcStamp } from './common.mjs';
import { OsError, emitStructured, grpcError } from './os-core.mjs';
import { findProfile } from './os-profiles.mjs';
import { EGRESS_HOOK, providerPlaceholders, startSupervisorProxy } from './os-egress.mjs';
import { DEFAULT_POLICY, effectivePolicy, loadPolicyFile, newRevision } from './os-policy.mjs';
import {
  discoverCredentials,
  isProviderType,
  page,
  printNextPageToken,
  newProvider,
  normaliseType,
  parseLabels,
  printTable,
  storeSecrets,
} from './os-resources.mjs';

const stdout = (s) => process.stdout.write(s);
const stderr = (s) => process.stderr.write(s);

export const STDIN_LIMIT = 4194304;
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const COMMUNITY = (n) => `ghcr.io/nvidia/openshell-community/sandboxes/${n}:latest`;
const DEFAULT_COMMAND = ['/bin/bash', '-l'];
/** A main process that ends at once: its exit is terminal for the sandbox (even with code 0). */
const SHORT_LIVED = new Set(['true', 'false', 'echo', 'exit']);
/** CMD tool name → provider type the real CLI infers. */
const TOOL_PROVIDERS = { claude: 'claude-code', codex: 'codex', gh: 'github', opencode: 'opencode', copilot: 'copilot', glab: 'gitlab' };

function parseEnvPairs(list) {
  const env = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new OsError(`--env expects KEY=VALUE, got '${item}'`);
    const key = item.slice(0, eq);
    if (key.startsWith('OPENSHELL_')) throw new OsError(`--env keys starting with OPENSHELL_ are reserved; got '${key}'`);
    if (!ENV_KEY_RE.test(key)) throw new OsError(`--env key '${key}' is not a valid name; keys must match [A-Za-z_][A-Za-z0-9_]*`);
    env[key] = item.slice(eq + 1);
  }
  return env;
}

const ADJ = ['brave', 'calm', 'eager', 'fuzzy', 'gentle', 'happy', 'jolly', 'kind', 'lucky', 'mellow', 'nimble', 'proud', 'quiet', 'swift', 'witty'];
const NOUN = ['otter', 'falcon', 'badger', 'heron', 'lynx', 'marten', 'newt', 'panda', 'quokka', 'raven', 'seal', 'tapir', 'wombat', 'yak', 'zebra'];
const pick = (l) => l[Math.floor(Math.random() * l.length)];
const petname = () => `${pick(ADJ)}-${pick(NOUN)}`;

/** A local-path-looking --from value (run.rs::value_looks_like_local_source). */
function looksLocal(value) {
  const explicit = path.isAbsolute(value) || value === '.' || value === '..' || /^(\.\/|\.\.\/|~\/)/.test(value);
  const bareDockerfile = !value.includes('/') && !value.includes(':') && /dockerfile/i.test(value);
  return explicit || bareDockerfile;
}

/**
 * run.rs::resolve_from (v0.0.111): the value is tried as a path in the CLI's working directory
 * FIRST (a Dockerfile, or a directory that must contain one), and only then as an image; a bare
 * name expands to the community registry. 0.1.x: local paths are an error, tars are rootfs
 * images (VM driver only), anything else is an image reference used verbatim.
 */
function resolveFrom(ctx, from, gw) {
  if (!from) return ctx.isLine01 ? 'nvcr.io/nvidia/base/ubuntu:24.04' : COMMUNITY('base');
  const expanded = from.startsWith('~/') ? path.join(os.homedir(), from.slice(2)) : from;
  let st = null;
  try {
    st = fs.statSync(expanded);
  } catch {
    st = null;
  }
  if (ctx.isLine01) {
    if (st && st.isFile() && /\.(tar|tar\.gz|tgz)$/.test(from)) {
      throw new OsError(`rootfs tar sources (--from ${from}) are only supported by the VM compute driver`);
    }
    if (looksLocal(from) || (st && st.isDirectory())) {
      if (!st && /\.(tar|tar\.gz|tgz)$/.test(from)) throw new OsError(`local --from path does not exist: ${from}`);
      throw new OsError(
        `'--from' no longer builds local Dockerfiles or directories: ${from}\nBuild the image first (docker build -t my-image:tag ${from}) and pass the image reference: --from my-image:tag`,
      );
    }
    return from;
  }
  if (st && st.isFile()) {
    if (/dockerfile/i.test(path.basename(expanded))) {
      if (gw.meta?.is_remote) throw new OsError(`local Dockerfile sources are only supported for local gateways; gateway '${gw.name}' is remote`);
      const base = path.basename(path.dirname(path.resolve(expanded)));
      return `openshell-local/${base.toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'sandbox'}:latest`;
    }
    if (looksLocal(from)) throw new OsError(`local --from file is not a Dockerfile: ${from}`);
  }
  if (st && st.isDirectory()) {
    if (!fs.existsSync(path.join(expanded, 'Dockerfile'))) throw new OsError(`No Dockerfile found in directory: ${from}`);
    if (gw.meta?.is_remote) throw new OsError(`local Dockerfile sources are only supported for local gateways; gateway '${gw.name}' is remote`);
    const base = path.basename(path.resolve(expanded));
    return `openshell-local/${base.toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'sandbox'}:latest`;
  }
  if (st) throw new OsError(`local --from path is not a regular file or directory: ${from}`);
  if (looksLocal(from)) {
    throw new OsError(
      `local --from path does not exist: ${from}\nUse an existing Dockerfile, a directory containing Dockerfile, or a container image reference.`,
    );
  }
  if (/[/:.]/.test(from)) return from;
  return COMMUNITY(from);
}

/** crates/openshell-server/src/grpc/validation.rs: sandbox names are routable DNS labels of at most 19. */
export function validateSandboxName(name) {
  if (name.length > 19) throw grpcError('InvalidArgument', `name exceeds maximum length (${name.length} > 19)`);
  if (!/^[a-z0-9-]+$/.test(name)) throw grpcError('InvalidArgument', 'name must contain only lowercase alphanumeric characters or hyphens');
  if (name.startsWith('-') || name.endsWith('-')) throw grpcError('InvalidArgument', 'name must not start or end with a hyphen');
  if (name.includes('--')) throw grpcError('InvalidArgument', 'name must not contain consecutive hyphens');
}

/** Provisioning → Ready happens at ready_at even when no create process is watching. */
export function phaseOf(sb) {
  let phase = sb.phase;
  if (phase === 'Provisioning' && sb.ready_at != null && Date.now() >= sb.ready_at) phase = 'Ready';
  // A main process that ends is terminal: 0.1.x says Completed for status 0, 0.0.111 says Error.
  if (phase === 'Ready' && sb.main_exits) phase = sb.line01 ? 'Completed' : 'Error';
  return phase;
}

/** 0.1.x: a sandbox whose deletion was accepted is gone once its cleanup finished. */
function gone(sb) {
  return sb.delete_at != null && Date.now() >= sb.delete_at;
}

const PHASE_COLOUR = { Ready: c.green, Provisioning: c.yellow, Starting: c.yellow, Stopping: c.yellow, Error: c.red, Deleting: c.red };
const colourPhase = (p) => (PHASE_COLOUR[p] ?? ((s) => s))(p);

export function sandboxItem(ctx, sb) {
  const item = { id: sb.id, name: sb.name };
  if (ctx.hasWorkspaces) item.workspace = sb.workspace;
  Object.assign(item, {
    labels: sb.labels,
    annotations: sb.annotations,
    resource_version: sb.resource_version,
    created_at: utcStamp(sb.created_ms),
    phase: phaseOf(sb),
    current_policy_version: sb.current_policy_version,
  });
  if (ctx.isLine01) {
    const phase = phaseOf(sb);
    Object.assign(item, {
      exit_code: sb.exit_code ?? null,
      conditions: [{ type: 'Ready', status: phase === 'Ready' ? 'True' : 'False', reason: sb.error?.reason ?? '', message: sb.error?.message ?? '', last_transition_time: new Date(sb.created_ms).toISOString() }],
      endpoint_statuses: [],
      configuration_admission: { state: phase === 'Ready' ? 'accepted' : 'pending', error: '', policy_version: sb.current_policy_version, policy_hash: '', config_revision: '', provider_env_revision: '' },
      provisioning: null,
      created_from_workload_template: null,
    });
  }
  return item;
}

function requireSandbox(state, ws, name) {
  const sb = state.workspaces[ws]?.sandboxes[name];
  if (!sb || gone(sb)) throw grpcError('NotFound', 'sandbox not found');
  return sb;
}

function requireReady(sb) {
  const phase = phaseOf(sb);
  if (phase !== 'Ready') {
    throw new OsError(`sandbox '${sb.name}' is not ready (phase: ${phase}); wait for it to reach Ready state`);
  }
}

/** Map a path inside the sandbox to the host directory that stands in for it. */
function mapSandboxPath(srv, ws, name, p) {
  const root = srv.sandboxRoot(ws, name);
  if (p === undefined || p === '' || p === '~' || p === '/sandbox') return root;
  if (p.startsWith('~/')) return path.join(root, p.slice(2));
  if (p.startsWith('/sandbox/')) return path.join(root, p.slice('/sandbox/'.length));
  if (path.isAbsolute(p)) return path.join(srv.sandboxDir(ws, name), 'fs', p);
  return path.join(root, p);
}

const elapsed = (t0) => c.dim(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`);

export async function sandboxCreate(ctx) {
  const v = ctx.values;
  const fmt = v.output ?? 'table';
  const env = parseEnvPairs(v.env);
  const labels = parseLabels(v.label);
  const policyFile = v.policy ?? (ctx.env.OPENSHELL_SANDBOX_POLICY || undefined);
  const policy = policyFile ? await loadPolicyFile(policyFile) : structuredClone(DEFAULT_POLICY);
  const uploads = (v.upload ?? []).map((spec) => {
    const idx = spec.lastIndexOf(':');
    const local = idx > 0 ? spec.slice(0, idx) : spec;
    const dest = idx > 0 ? spec.slice(idx + 1) : undefined;
    if (!fs.existsSync(local)) throw new OsError(`local path does not exist: ${local}`);
    return { local, dest };
  });
  const srv = ctx.server();
  const image = resolveFrom(ctx, v.from, srv.gw);
  const name = v.name ?? petname();
  validateSandboxName(name);
  const ws = ctx.workspace;
  const command = v.command?.length ? v.command : DEFAULT_COMMAND;
  if (ctx.isLine01 && fmt !== 'table' && v.command?.length && !v.detach) {
    throw new OsError(
      'structured output cannot be combined with an attached trailing command; use table output to stream the command or add --detach',
    );
  }
  // A gateway container started without what sandboxes need (openshell-cli.md §13) provisions
  // nothing: the supervisor cannot be mounted or cannot call back.
  const gwProblem = srv.containerProblem() ?? srv.imageProblem(image);
  const errorMode = envListMatches(ctx.env.FAKE_OPENSHELL_SANDBOX_ERROR, name) || Boolean(gwProblem);
  const errorReason = gwProblem ?? { reason: 'ImagePullBackOff', message: `failed to pull image "${image}"` };
  const hang = isTruthyEnv(ctx.env.FAKE_OPENSHELL_CREATE_HANG);
  const provisionMs = Math.max(0, Number(ctx.env.FAKE_OPENSHELL_PROVISION_MS || 0));
  const t0 = Date.now();
  const autoCreated = [];

  srv.update((state) => {
    const w = state.workspaces[ws];
    if (w.sandboxes[name] && !gone(w.sandboxes[name])) {
      throw new OsError(`sandbox '${name}' already exists\nhint: delete it first with: openshell sandbox delete ${name}, or choose another --name`);
    }
    const attached = [];
    const autoCreate = (pname, type) => {
      const creds = discoverCredentials(type, ctx.env);
      w.providers[pname] = newProvider(ctx, pname, type, creds, {});
      autoCreated.push({ name: pname, creds });
    };
    for (const p of v.provider ?? []) {
      if (!w.providers[p] && ctx.isLine01) {
        // 0.1.x: provider types are imported profiles; nothing is created on the fly.
        throw grpcError('NotFound', `provider '${p}' not found`);
      }
      if (ctx.isLine01) {
        const type = w.providers[p].type;
        if (!findProfile(state, ws, type)) {
          throw grpcError(
            'FailedPrecondition',
            `provider '${p}' uses profile '${type}', which is not imported in workspace '${ws}'; import it with: openshell profile import -f <file>`,
          );
        }
      }
      if (!w.providers[p]) {
        if (!isProviderType(p)) {
          throw new OsError(
            `provider '${p}' not found and '${p}' is not a recognized provider type. Create it first with: openshell provider create --name ${p} --type <type> --credential <KEY>`,
          );
        }
        autoCreate(p, normaliseType(p));
      }
      if (!attached.includes(p)) attached.push(p);
    }
    // 0.1.0: a trailing command no longer infers or attaches providers.
    const inferred = v.command?.length && !ctx.isLine01 ? TOOL_PROVIDERS[path.basename(v.command[0])] : undefined;
    if (inferred && !v['no-auto-providers']) {
      const existing = Object.values(w.providers).find((p) => p.type === inferred);
      if (existing && !attached.includes(existing.name)) attached.push(existing.name);
      else if (!existing && v['auto-providers']) {
        autoCreate(inferred, inferred);
        attached.push(inferred);
      }
    }
    w.sandboxes[name] = {
      id: crypto.randomUUID(),
      name,
      workspace: ws,
      labels,
      annotations: {},
      resource_version: 1,
      created_ms: t0,
      phase: errorMode ? 'Error' : 'Provisioning',
      ready_at: errorMode || hang ? null : t0 + provisionMs,
      error: errorMode ? errorReason : null,
      image,
      from: v.from ?? null,
      command,
      main_exits: SHORT_LIVED.has(path.basename(command[0])),
      line01: ctx.isLine01,
      env,
      providers: attached,
      policies: [newRevision(1, policy)],
      current_policy_version: 1,
      options: {
        detach: Boolean(v.detach),
        tty: v.tty ? true : v['no-tty'] ? false : null,
        auto_providers: v['auto-providers'] ? true : v['no-auto-providers'] ? false : null,
        approval_mode: v['approval-mode'] ?? 'manual',
        gpu: v.gpu ?? null,
        cpu: v.cpu ?? null,
        memory: v.memory ?? null,
        keep: !v['no-keep'],
      },
    };
  });
  for (const p of autoCreated) storeSecrets(srv, ws, p.name, p.creds, true);
  fs.mkdirSync(srv.sandboxRoot(ws, name), { recursive: true });

  if (fmt === 'table') stdout(`\n${c.bold('Created sandbox:')} ${name}\n\n  ${elapsed(t0)} Requesting compute...\n`);
  else stderr('Provisioning sandbox (structured output on stdout)...\n');

  if (errorMode) throw new OsError(`sandbox entered error phase while provisioning: ${errorReason.reason}: ${errorReason.message}`);
  if (hang) await new Promise(() => setInterval(() => {}, 1 << 30));

  const timeoutS = Number(ctx.env.OPENSHELL_PROVISION_TIMEOUT || 300);
  const step = (text) => fmt === 'table' && stdout(`  ${elapsed(t0)} ${text}\n`);
  if (provisionMs > timeoutS * 1000) {
    await sleep(timeoutS * 1000);
    throw new OsError(
      `sandbox provisioning timed out after ${timeoutS}s\nThe sandbox may still become ready; check with: openshell sandbox get ${name}`,
    );
  }
  await sleep(provisionMs / 2);
  step('Sandbox allocated');
  await sleep(provisionMs / 2);
  step('Image pulled');
  const sb = srv.update((state) => {
    const s = requireSandbox(state, ws, name);
    if (s.phase === 'Provisioning') {
      s.phase = 'Ready';
      s.resource_version += 1;
    }
    return s;
  });
  for (const u of uploads) copyInto(u.local, mapSandboxPath(srv, ws, name, u.dest), u.dest);
  ctx.writeLastSandbox(srv.gw.name, name);
  step('Sandbox ready');
  if (fmt !== 'table') emitStructured(fmt, sandboxItem(ctx, sb));
  if (v.command?.length && !v.detach) {
    // v0.0.111 returns at Ready without a TTY (the main-process contract). Before it (v0.0.95 to
    // v0.0.110) the CLI ran the command over SSH and waited for it; 0.1.x runs an explicit
    // trailing command in the foreground regardless of TTY detection. Only --detach opts out.
    const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !v['no-tty'];
    if (ctx.isLine01 || !ctx.atLeast('0.0.111') || interactive) return await runMainInForeground(ctx, srv, ws, name, sb);
  }
  return 0;
}

/** The trailing command as the attached main process: stream it, return its status, settle the phase. */
async function runMainInForeground(ctx, srv, ws, name, sb) {
  const root = srv.sandboxRoot(ws, name);
  const code = await new Promise((resolve) => {
    const child = spawn(sb.command[0], sb.command.slice(1), { cwd: root, env: { ...process.env, ...sb.env, OPENSHELL_SANDBOX: name }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', () => resolve(127));
    child.on('exit', (c, sig) => resolve(c ?? 128 + (os.constants.signals[sig] ?? 1)));
  });
  if (ctx.isLine01) {
    srv.update((state) => {
      const s = state.workspaces[ws]?.sandboxes[name];
      if (!s) return;
      s.phase = code === 0 ? 'Completed' : 'Error';
      s.exit_code = code;
      if (code !== 0) s.error = { reason: 'MainProcessFailed', message: `main process exited with status ${code}` };
      s.main_exits = false;
      s.resource_version += 1;
    });
  }
  return code;
}

function resolveName(ctx, srv) {
  return ctx.sandboxNameOrLast(ctx.values.name, srv.gw.name);
}

export async function sandboxGet(ctx) {
  const v = ctx.values;
  const srv = ctx.server();
  const name = resolveName(ctx, srv);
  const state = srv.read();
  const sb = requireSandbox(state, ctx.workspace, name);
  const eff = effectivePolicy(state.workspaces[ctx.workspace], sb);
  const policy = eff.rev?.policy ?? DEFAULT_POLICY;
  if (v['policy-only']) {
    stdout(toYaml(policy));
    return 0;
  }
  const fmt = v.output ?? 'table';
  if (fmt !== 'table') {
    emitStructured(fmt, { ...sandboxItem(ctx, sb), policy_source: eff.source, revision: eff.rev?.version ?? 0, policy });
    return 0;
  }
  const row = (k, val) => stdout(`  ${c.dim(k)} ${val}\n`);
  stdout(`${c.bold('Sandbox:')}\n\n`);
  row('Id:', sb.id);
  row('Name:', sb.name);
  row('Phase:', colourPhase(phaseOf(sb)));
  row('Resource version:', sb.resource_version);
  const labels = Object.entries(sb.labels);
  if (labels.length) row('Labels:', labels.map(([k, val]) => `${k}=${val}`).join(', '));
  row('Policy source:', eff.source);
  if (eff.rev) row('Revision:', eff.rev.version);
  stdout(`\n${c.bold('Policy:')}\n\n${toYaml(policy, 2)}`);
  return 0;
}

export async function sandboxList(ctx) {
  const v = ctx.values;
  const all = Boolean(v['all-workspaces']);
  const srv = ctx.server({ checkWorkspace: !all });
  srv.ensureWritten();
  const state = srv.read();
  const wss = all ? Object.values(state.workspaces) : [state.workspaces[ctx.workspace]];
  const selector = parseLabels((v.selector ?? '').split(',').filter(Boolean), '--selector');
  const { items: list, next } = page(
    ctx,
    wss
      .flatMap((w) => Object.values(w.sandboxes))
      .filter((sb) => !gone(sb))
      .filter((sb) => Object.entries(selector).every(([k, val]) => sb.labels[k] === val))
      .sort((a, b) => a.created_ms - b.created_ms),
  );
  if (v.names || v.ids) {
    for (const sb of list) stdout(`${v.names ? sb.name : sb.id}\n`);
    return 0;
  }
  const fmt = v.output ?? 'table';
  if (fmt !== 'table') {
    const items = list.map((sb) => sandboxItem(ctx, sb));
    emitStructured(fmt, ctx.isLine01 ? { sandboxes: items, next_page_token: next } : items);
    return 0;
  }
  printNextPageToken(next);
  if (list.length === 0) {
    stdout('No sandboxes found.\n');
    return 0;
  }
  const nameW = Math.max(4, ...list.map((sb) => sb.name.length));
  const wsW = Math.max(9, ...list.map((sb) => sb.workspace.length));
  const head = [...(all ? [padEnd('WORKSPACE', wsW)] : []), padEnd('NAME', nameW), padEnd('CREATED', 19), 'PHASE'];
  stdout(head.map((h) => c.bold(h)).join('  ') + '\n');
  for (const sb of list) {
    const cells = [
      ...(all ? [padEnd(sb.workspace, wsW)] : []),
      padEnd(sb.name, nameW),
      padEnd(utcStamp(sb.created_ms), 19),
      colourPhase(phaseOf(sb)),
    ];
    stdout(cells.join('  ') + '\n');
  }
  return 0;
}

export async function sandboxDelete(ctx) {
  const v = ctx.values;
  const srv = ctx.server();
  const ws = ctx.workspace;
  let names = v.names ?? [];
  if (v.all) {
    names = Object.values(srv.read().workspaces[ws].sandboxes).filter((sb) => !gone(sb)).map((sb) => sb.name);
    if (names.length === 0) {
      stdout('No sandboxes to delete.\n');
      return 0;
    }
  }
  if (!ctx.isLine01) {
    // v0.0.111: a missing sandbox is NotFound (exit 1) and the names after it are skipped.
    for (const name of names) {
      srv.update((state) => {
        requireSandbox(state, ws, name);
        delete state.workspaces[ws].sandboxes[name];
      });
      fs.rmSync(srv.sandboxDir(ws, name), { recursive: true, force: true });
      stdout(`${c.green('✓')} Deleted sandbox ${name}\n`);
    }
    return 0;
  }
  // 0.1.x: allow_missing, typed outcomes, and the command goes on after a failure.
  const pendingMs = Math.max(0, Number(ctx.env.FAKE_OPENSHELL_DELETE_PENDING_MS || 0));
  const failed = [];
  for (const name of names) {
    let outcome;
    try {
      outcome = srv.update((state) => {
        const w = state.workspaces[ws];
        const sb = w.sandboxes[name];
        if (!sb || gone(sb)) {
          if (sb) delete w.sandboxes[name];
          return 'missing';
        }
        if (envListMatches(ctx.env.FAKE_OPENSHELL_DELETE_FAIL, name)) throw grpcError('Internal', `failed to delete sandbox '${name}': database is locked`);
        if (pendingMs > 0) {
          sb.phase = 'Deleting';
          sb.delete_at ??= Date.now() + pendingMs;
          return 'pending';
        }
        delete w.sandboxes[name];
        return 'deleted';
      });
    } catch (e) {
      stderr(`${c.yellow('!')} Failed to delete sandbox ${name}: ${e.message}\n`);
      failed.push(`${name}: ${e.message}`);
      continue;
    }
    if (outcome !== 'pending') fs.rmSync(srv.sandboxDir(ws, name), { recursive: true, force: true });
    if (outcome === 'missing') stdout(`${c.green('✓')} Sandbox ${name} already deleted\n`);
    else if (outcome === 'pending') stdout(`${c.green('✓')} Sandbox ${name} deletion accepted; cleanup is pending\n`);
    else stdout(`${c.green('✓')} Deleted sandbox ${name}\n`);
  }
  if (failed.length) throw new OsError(`failed to delete ${failed.length} sandbox(es): ${failed.join('; ')}`);
  return 0;
}

function lifecycle(target) {
  return async (ctx) => {
    const srv = ctx.server();
    const name = resolveName(ctx, srv);
    srv.update((state) => {
      const sb = requireSandbox(state, ctx.workspace, name);
      const phase = phaseOf(sb);
      if (target === 'Ready' && phase === 'Error') {
        throw grpcError('FailedPrecondition', `sandbox '${name}' is in phase Error and cannot be started`);
      }
      sb.phase = target;
      if (target === 'Ready') sb.ready_at = Date.now();
      sb.resource_version += 1;
    });
    stdout(`${c.green('✓')} ${target === 'Ready' ? 'Started' : 'Stopped'} sandbox ${name}\n`);
    return 0;
  };
}
export const sandboxStop = lifecycle('Stopped');
export const sandboxStart = lifecycle('Ready');

async function readStdinLimited(limit) {
  const chunks = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += chunk.length;
    if (total > limit) {
      throw new OsError(
        `stdin payload exceeds ${limit} byte limit; write large inputs to a file and upload it with 'openshell sandbox upload'`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function sandboxExec(ctx) {
  const v = ctx.values;
  const extraEnv = parseEnvPairs(v.env);
  const srv = ctx.server();
  const ws = ctx.workspace;
  const name = resolveName(ctx, srv);
  const sb = requireSandbox(srv.read(), ws, name);
  requireReady(sb);
  const root = srv.sandboxRoot(ws, name);
  fs.mkdirSync(root, { recursive: true });
  const cwd = v.workdir ? mapSandboxPath(srv, ws, name, v.workdir) : root;
  if (!fs.existsSync(cwd)) throw new OsError(`workdir '${v.workdir}' does not exist in sandbox '${name}'`);

  // Like the real CLI: without a TTY on stdin, read it all (≤ 4 MiB) before the command starts.
  const interactive = Boolean(process.stdin.isTTY);
  const input = interactive ? null : await readStdinLimited(STDIN_LIMIT);

  const mapArg = (a) => (a === '/sandbox' || a.startsWith('/sandbox/') ? mapSandboxPath(srv, ws, name, a) : a);
  const argv = v.command.map(mapArg);
  const env = { ...process.env, ...sb.env, ...extraEnv, OPENSHELL_SANDBOX: name };
  const timeoutS = Number(v.timeout ?? 0);
  let proxy = null;
  if (ctx.isLine01) {
    // Providers v2: the process sees placeholders, never the secret; the supervisor's proxy swaps
    // them at the profile's endpoints only (os-egress.mjs).
    proxy = await startSupervisorProxy(srv, ws, name);
    const url = `http://127.0.0.1:${proxy.port}`;
    Object.assign(env, providerPlaceholders(srv.read(), ws, sb), {
      ALL_PROXY: url,
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      NO_PROXY: '127.0.0.1,localhost,::1',
      http_proxy: url,
      https_proxy: url,
      no_proxy: '127.0.0.1,localhost,::1',
      NODE_USE_ENV_PROXY: '1',
      FAKE_SANDBOX_EGRESS: `127.0.0.1:${proxy.port}`,
      FAKE_SANDBOX_EGRESS_MODE: ctx.env.FAKE_OPENSHELL_EGRESS === 'strict' ? 'strict' : 'transparent',
      NODE_OPTIONS: `${env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ` : ''}--require ${EGRESS_HOOK}`,
    });
  }

  const code = await new Promise((resolve) => {
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), {
        cwd,
        env,
        stdio: [interactive ? 'inherit' : 'pipe', 'inherit', 'inherit'],
        detached: true, // own process group, so timeouts and signals reach grandchildren too
      });
    } catch (e) {
      stderr(`exec failed: ${v.command[0]}: ${e.message}\n`);
      resolve(127);
      return;
    }
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const onSignal = (sig) => {
      killGroup();
      for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.removeAllListeners(s);
      process.kill(process.pid, sig);
    };
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, onSignal);
    let timedOut = false;
    const timer =
      timeoutS > 0
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, timeoutS * 1000)
        : null;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      stderr(`exec failed: ${v.command[0]}: ${e.code === 'ENOENT' ? 'No such file or directory' : e.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.removeListener(s, onSignal);
      if (timedOut) resolve(124);
      else if (code !== null) resolve(code);
      else resolve(128 + (os.constants.signals[signal] ?? 1));
    });
    if (child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
  proxy?.close();
  return code;
}

/** Copy a file or directory like `tar` extraction: dirs merge into DEST/<basename>. */
function copyInto(local, target, destArg) {
  const st = fs.statSync(local);
  if (st.isDirectory()) {
    const to = path.join(target, path.basename(path.resolve(local)));
    fs.mkdirSync(to, { recursive: true });
    fs.cpSync(local, to, { recursive: true, force: true, verbatimSymlinks: true });
    return;
  }
  let to = target;
  const intoDir = destArg === undefined || destArg.endsWith('/') || (fs.existsSync(target) && fs.statSync(target).isDirectory());
  if (intoDir) to = path.join(target, path.basename(local));
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(local, to, { force: true, verbatimSymlinks: true });
}

export async function sandboxUpload(ctx) {
  const v = ctx.values;
  let exists = true;
  try {
    fs.lstatSync(v.local);
  } catch {
    exists = false;
  }
  if (!exists) throw new OsError(`local path does not exist: ${v.local}`);
  const srv = ctx.server();
  const ws = ctx.workspace;
  requireReady(requireSandbox(srv.read(), ws, v.name));
  const plan = v['no-git-ignore'] || fs.lstatSync(v.local).isSymbolicLink() ? null : gitSyncFiles(v.local);
  stderr(`Uploading ${v.local} -> sandbox:${v.dest ?? '~'}\n`);
  const target = mapSandboxPath(srv, ws, v.name, v.dest);
  if (plan && plan.files.length > 0) {
    // run.rs::sandbox_sync_up_files: the git-aware path treats DEST as a directory, so a single
    // file lands at DEST/<basename> (openshell-cli.md §4, the --no-git-ignore trap).
    for (const f of plan.files) {
      const to = path.join(target, f);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.cpSync(path.join(plan.baseDir, f), to, { force: true, verbatimSymlinks: true });
    }
  } else {
    if (plan) stderr(`${c.yellow('⚠')} .gitignore filtering excluded all files in ${v.local}; uploading unfiltered\n`);
    copyInto(v.local, target, v.dest);
  }
  stderr(`${c.green('✓')} Upload complete\n`);
  return 0;
}

/** run.rs::git_sync_files: null outside a git work tree, else the files git does not ignore. */
function gitSyncFiles(local) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
  const abs = path.resolve(local);
  const isFile = fs.statSync(abs).isFile();
  const dir = isFile ? path.dirname(abs) : abs;
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, env, encoding: 'utf8' });
  if (top.status !== 0 || !top.stdout.trim()) return null;
  const root = fs.realpathSync(top.stdout.trim());
  const rel = path.relative(root, fs.realpathSync(abs));
  const ls = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z', ...(rel ? [rel] : [])], { cwd: root, env, encoding: 'utf8' });
  if (ls.status !== 0) return null;
  const files = ls.stdout
    .split('\0')
    .filter(Boolean)
    .map((f) => (isFile ? path.basename(f) : rel ? path.relative(rel, f) : f))
    .filter(Boolean);
  return { baseDir: dir, files };
}

export async function sandboxDownload(ctx) {
  const v = ctx.values;
  const srv = ctx.server();
  const ws = ctx.workspace;
  requireReady(requireSandbox(srv.read(), ws, v.name));
  const root = srv.sandboxRoot(ws, v.name);
  const src = mapSandboxPath(srv, ws, v.name, v.path);
  if (src !== root && !src.startsWith(root + path.sep)) {
    throw new OsError(`download source must be inside the sandbox workdir (/sandbox): ${v.path}`);
  }
  if (!fs.existsSync(src)) throw new OsError(`sandbox path does not exist: ${v.path}`);
  const dest = v.dest ?? '.';
  stderr(`Downloading sandbox:${v.path} -> ${dest}\n`);
  const destIsDir = fs.existsSync(dest) && fs.statSync(dest).isDirectory();
  if (fs.statSync(src).isDirectory()) {
    const to = destIsDir ? path.join(dest, path.basename(src)) : dest;
    fs.mkdirSync(to, { recursive: true });
    fs.cpSync(src, to, { recursive: true, force: true, verbatimSymlinks: true });
  } else {
    const to = destIsDir ? path.join(dest, path.basename(src)) : dest;
    fs.mkdirSync(path.dirname(path.resolve(to)), { recursive: true });
    fs.copyFileSync(src, to);
  }
  stderr(`${c.green('✓')} Download complete\n`);
  return 0;
}

export async function sandboxConnect(ctx) {
  const srv = ctx.server();
  const name = resolveName(ctx, srv);
  requireReady(requireSandbox(srv.read(), ctx.workspace, name));
  stderr('fake openshell: `sandbox connect` needs an interactive SSH session, which the test double does not provide\n');
  return 3;
}

export async function sandboxSshConfig(ctx) {
  const srv = ctx.server();
  const name = resolveName(ctx, srv);
  requireSandbox(srv.read(), ctx.workspace, name);
  const exe = process.argv[1];
  const ws = ctx.workspace;
  stdout(
    `Host openshell-${name}.${ws}\n` +
      '    User sandbox\n' +
      '    StrictHostKeyChecking no\n' +
      '    UserKnownHostsFile /dev/null\n' +
      `    ProxyCommand ${exe} ssh-proxy --gateway-name ${srv.gw.name} --name ${name} --workspace ${ws}\n`,
  );
  return 0;
}

export async function sandboxProviderList(ctx) {
  const srv = ctx.server();
  const name = resolveName(ctx, srv);
  const state = srv.read();
  const sb = requireSandbox(state, ctx.workspace, name);
  const providers = sb.providers.map((p) => state.workspaces[ctx.workspace].providers[p]).filter(Boolean);
  if (providers.length === 0) {
    stdout('No providers attached.\n');
    return 0;
  }
  printTable(
    ['NAME', 'TYPE', 'CREDENTIAL_KEYS', 'CONFIG_KEYS'],
    providers.map((p) => [p.name, p.type, p.credential_keys.length, Object.keys(p.config).length]),
  );
  return 0;
}

function attachDetach(attach) {
  return async (ctx) => {
    const { name, provider } = ctx.values;
    const srv = ctx.server();
    srv.update((state) => {
      const sb = requireSandbox(state, ctx.workspace, name);
      if (!state.workspaces[ctx.workspace].providers[provider]) throw grpcError('NotFound', 'provider not found');
      if (attach) {
        if (!sb.providers.includes(provider)) sb.providers.push(provider);
      } else {
        if (!sb.providers.includes(provider)) throw grpcError('NotFound', `provider '${provider}' is not attached to sandbox '${name}'`);
        sb.providers = sb.providers.filter((p) => p !== provider);
      }
      sb.resource_version += 1;
    });
    stdout(`${c.green('✓')} ${attach ? `Attached provider ${provider} to` : `Detached provider ${provider} from`} sandbox ${name}\n`);
    return 0;
  };
}
export const sandboxProviderAttach = attachDetach(true);
export const sandboxProviderDetach = attachDetach(false);
