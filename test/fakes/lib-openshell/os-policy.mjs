// Policy YAML validation (openshell-policy, deny_unknown_fields) and `policy set|update|get|list|delete`.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { c, sleep, toYaml } from './common.mjs';
import { OsError, emitStructured, grpcError } from './os-core.mjs';

export const DEFAULT_POLICY = {
  version: 1,
  filesystem_policy: {
    include_workdir: true,
    read_only: ['/usr', '/lib', '/proc', '/dev/urandom', '/app', '/etc', '/var/log'],
    read_write: ['/sandbox', '/tmp', '/dev/null'],
  },
  landlock: { compatibility: 'best_effort' },
  process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
  network_policies: {},
};

const TOP = ['version', 'filesystem_policy', 'landlock', 'process', 'network_policies', 'network_middlewares'];
const FS_KEYS = ['include_workdir', 'read_only', 'read_write'];
const RULE_KEYS = ['name', 'endpoints', 'binaries'];
const ENDPOINT_KEYS = [
  'host', 'port', 'ports', 'path', 'protocol', 'tls', 'enforcement', 'access', 'rules', 'deny_rules',
  'allowed_ips', 'allow_encoded_slash', 'request_credential_rewrite', 'response_credential_rewrite',
  'allow_uninspected_credentials', 'credential_signing', 'credential_binding', 'mcp', 'json_rpc',
];
const PROTOCOLS = ['rest', 'websocket', 'graphql', 'mcp', 'json-rpc', 'tcp'];
const ACCESS = ['read-only', 'read-write', 'full'];

const bt = (s) => `\`${s}\``;
function unknownField(key, allowed) {
  return `unknown field ${bt(key)}, expected one of ${allowed.map(bt).join(', ')}`;
}
function checkKeys(obj, allowed, where) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${where}: invalid type, expected a map`);
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw new Error(`${where}: ${unknownField(k, allowed)}`);
}
function checkPaths(list, where, rw) {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new Error(`${where}: invalid type, expected a sequence`);
  for (const p of list) {
    if (typeof p !== 'string' || !p.startsWith('/')) throw new Error(`${where}: path must be absolute: '${p}'`);
    if (p.split('/').includes('..')) throw new Error(`${where}: path must not contain '..': '${p}'`);
    if (rw && p === '/') throw new Error(`${where}: '/' cannot be read-write`);
  }
}
function checkId(v, where) {
  if (v === undefined || v === 'sandbox') return;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return;
  if (v === 0 || v === '0') throw new Error(`${where}: must not be 0 (root is not allowed)`);
  throw new Error(`${where}: expected 'sandbox' or a numeric id >= 1, got '${v}'`);
}

/** Validate a parsed policy document like the Rust deserializer + validators do. */
export function validatePolicy(doc) {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('invalid type: expected a YAML map at the top level');
  for (const k of Object.keys(doc)) if (!TOP.includes(k)) throw new Error(unknownField(k, TOP));
  if (!('version' in doc)) throw new Error(`missing field ${bt('version')}`);
  if (doc.version !== 1) throw new Error(`unsupported policy version ${JSON.stringify(doc.version)}; expected 1`);
  if (doc.filesystem_policy !== undefined) {
    checkKeys(doc.filesystem_policy, FS_KEYS, 'filesystem_policy');
    checkPaths(doc.filesystem_policy.read_only, 'filesystem_policy.read_only', false);
    checkPaths(doc.filesystem_policy.read_write, 'filesystem_policy.read_write', true);
  }
  if (doc.landlock !== undefined) {
    checkKeys(doc.landlock, ['compatibility'], 'landlock');
    const v = doc.landlock.compatibility;
    if (v !== undefined && !['best_effort', 'hard_requirement'].includes(v)) {
      throw new Error(`landlock.compatibility: unknown variant ${bt(v)}, expected ${bt('best_effort')} or ${bt('hard_requirement')}`);
    }
  }
  if (doc.process !== undefined) {
    checkKeys(doc.process, ['run_as_user', 'run_as_group'], 'process');
    checkId(doc.process.run_as_user, 'process.run_as_user');
    checkId(doc.process.run_as_group, 'process.run_as_group');
  }
  if (doc.network_policies !== undefined && doc.network_policies !== null) {
    if (typeof doc.network_policies !== 'object' || Array.isArray(doc.network_policies)) {
      throw new Error('network_policies: invalid type, expected a map');
    }
    for (const [key, rule] of Object.entries(doc.network_policies)) {
      const where = `network_policies.${key}`;
      checkKeys(rule, RULE_KEYS, where);
      (rule.endpoints ?? []).forEach((ep, i) => {
        const w = `${where}.endpoints[${i}]`;
        checkKeys(ep, ENDPOINT_KEYS, w);
        if (!ep.host && !ep.allowed_ips) throw new Error(`${w}: missing field ${bt('host')}`);
        if (typeof ep.host === 'string' && ep.host.slice(1).includes('*')) {
          if (!/^(\*|\*\*)\.[^*]+$/.test(ep.host)) throw new Error(`${w}: wildcards are only allowed in the first label: '${ep.host}'`);
        }
        if (ep.port === undefined && ep.ports === undefined) throw new Error(`${w}: one of ${bt('port')} or ${bt('ports')} is required`);
        if (ep.protocol !== undefined && !PROTOCOLS.includes(ep.protocol)) {
          throw new Error(`${w}.protocol: unknown variant ${bt(ep.protocol)}, expected one of ${PROTOCOLS.map(bt).join(', ')}`);
        }
        if (ep.access !== undefined && !ACCESS.includes(ep.access)) {
          throw new Error(`${w}.access: unknown variant ${bt(ep.access)}, expected one of ${ACCESS.map(bt).join(', ')}`);
        }
        if (ep.access !== undefined && ep.rules !== undefined) throw new Error(`${w}: ${bt('access')} and ${bt('rules')} are mutually exclusive`);
        if (['rest', 'websocket', 'graphql'].includes(ep.protocol) && ep.access === undefined && ep.rules === undefined) {
          throw new Error(`${w}: protocol '${ep.protocol}' requires ${bt('access')} or ${bt('rules')}`);
        }
        if (ep.enforcement !== undefined && !['enforce', 'audit'].includes(ep.enforcement)) {
          throw new Error(`${w}.enforcement: unknown variant ${bt(ep.enforcement)}, expected ${bt('enforce')} or ${bt('audit')}`);
        }
        if (ep.tls !== undefined && ep.tls !== 'skip') throw new Error(`${w}.tls: unknown variant ${bt(ep.tls)}, expected ${bt('skip')}`);
      });
      (rule.binaries ?? []).forEach((b, i) => checkKeys(b, ['path'], `${where}.binaries[${i}]`));
    }
  }
  return doc;
}

/** Read, parse and validate a policy file; errors read like the CLI's. */
export async function loadPolicyFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new OsError(`failed to read policy file '${file}'`, {
      causes: [e.code === 'ENOENT' ? 'No such file or directory (os error 2)' : e.message],
    });
  }
  const YAML = await import('yaml');
  let doc;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new OsError(`failed to parse sandbox policy from '${file}'`, { causes: [String(e.message).split('\n')[0]] });
  }
  try {
    return validatePolicy(doc);
  } catch (e) {
    throw new OsError(`failed to parse sandbox policy from '${file}'`, { causes: [e.message] });
  }
}

function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export const policyHash = (p) => createHash('sha256').update(canonical(p)).digest('hex');

export function newRevision(version, policy, status = 'Loaded', error = null) {
  return { version, hash: policyHash(policy), status, error, created_ms: Date.now(), policy };
}

export function activeRevision(sb) {
  const loaded = (sb.policies ?? []).filter((r) => r.status === 'Loaded');
  return loaded[loaded.length - 1] ?? null;
}

/** The policy a sandbox enforces: the workspace's global policy wins when set. */
export function effectivePolicy(ws, sb) {
  if (ws.global_policy) return { source: 'global', rev: ws.global_policy };
  return { source: 'sandbox', rev: activeRevision(sb) };
}

const same = (a, b) => canonical(a ?? null) === canonical(b ?? null);

/** Static sections (filesystem, landlock, process) cannot change on a live sandbox. */
function checkStatic(oldP, newP) {
  const invalid = (msg) => grpcError('InvalidArgument', msg);
  const of = oldP.filesystem_policy ?? {};
  const nf = newP.filesystem_policy ?? {};
  for (const key of ['read_only', 'read_write']) {
    for (const p of of[key] ?? []) {
      if (!(nf[key] ?? []).includes(p)) throw invalid(`filesystem ${key} path '${p}' cannot be removed on a live sandbox`);
    }
  }
  if ((of.include_workdir ?? null) !== (nf.include_workdir ?? null)) {
    throw invalid('filesystem include_workdir cannot be changed on a live sandbox (applied at startup)');
  }
  if (!same(oldP.landlock, newP.landlock)) throw invalid('landlock policy cannot be changed on a live sandbox (applied at startup)');
  if (!same(oldP.process, newP.process)) throw invalid('process policy cannot be changed on a live sandbox (applied at startup)');
}

function loadMode(env) {
  const v = (env.FAKE_OPENSHELL_POLICY_LOAD || '').toLowerCase();
  if (v === 'fail') return { status: 'Failed', error: 'fake: policy failed to load in the sandbox (FAKE_OPENSHELL_POLICY_LOAD=fail)' };
  if (v === 'pending') return { status: 'Pending', error: null };
  return { status: 'Loaded', error: null };
}

/** Submit a new revision; shared by `policy set` and `policy update`. Returns the wait exit code. */
async function submit(ctx, srv, name, policy, { wait, timeout }) {
  const ws = ctx.workspace;
  const res = srv.update((state) => {
    const sb = state.workspaces[ws].sandboxes[name];
    if (!sb) throw grpcError('NotFound', 'sandbox not found');
    const current = activeRevision(sb);
    if (current && current.hash === policyHash(policy)) return { unchanged: true, rev: current };
    if (current) checkStatic(current.policy, policy);
    const version = Math.max(0, ...(sb.policies ?? []).map((r) => r.version)) + 1;
    const mode = loadMode(ctx.env);
    const rev = newRevision(version, policy, mode.status, mode.error);
    (sb.policies ??= []).push(rev);
    sb.resource_version += 1;
    const active = activeRevision(sb);
    sb.current_policy_version = active ? active.version : 0;
    return { unchanged: false, rev };
  });
  const short = res.rev.hash.slice(0, 12);
  if (res.unchanged) {
    process.stderr.write(`${c.dim('·')} Policy unchanged (version ${res.rev.version}, hash: ${short})\n`);
    return 0;
  }
  const n = res.rev.version;
  process.stderr.write(`${c.green('✓')} Policy version ${n} submitted (hash: ${short})\n`);
  if (!wait) return 0;
  const deadline = Date.now() + (timeout ?? 60) * 1000;
  for (;;) {
    const sb = srv.read().workspaces[ws]?.sandboxes[name];
    const rev = sb?.policies?.find((r) => r.version === n);
    if (rev?.status === 'Loaded') {
      process.stderr.write(`${c.green('✓')} Policy version ${n} loaded (active version: ${sb.current_policy_version})\n`);
      return 0;
    }
    if (rev?.status === 'Superseded') {
      process.stderr.write(`${c.yellow('⚠')} Policy version ${n} was superseded by a newer version\n`);
      return 0;
    }
    if (rev?.status === 'Failed') {
      process.stderr.write(`${c.red('✗')} Policy version ${n} failed to load: ${rev.error}\n`);
      return 1;
    }
    if (Date.now() >= deadline) {
      process.stderr.write(`${c.red('✗')} Timeout waiting for policy version ${n} to load\n`);
      return 124;
    }
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
}

export async function policySet(ctx) {
  const v = ctx.values;
  const policy = await loadPolicyFile(v.policy);
  const srv = ctx.server();
  if (v.global) {
    const rev = srv.update((state) => {
      const ws = state.workspaces[ctx.workspace];
      const prev = ws.global_policy;
      if (prev && prev.hash === policyHash(policy)) return { unchanged: true, rev: prev };
      ws.global_policy = newRevision((prev?.version ?? 0) + 1, policy);
      return { unchanged: false, rev: ws.global_policy };
    });
    const short = rev.rev.hash.slice(0, 12);
    if (rev.unchanged) process.stderr.write(`${c.dim('·')} Policy unchanged (version ${rev.rev.version}, hash: ${short})\n`);
    else process.stderr.write(`${c.green('✓')} Global policy version ${rev.rev.version} submitted (hash: ${short})\n`);
    return 0;
  }
  const name = ctx.sandboxNameOrLast(v.name, srv.gw.name);
  return submit(ctx, srv, name, policy, { wait: v.wait, timeout: v.timeout === undefined ? 60 : Number(v.timeout) });
}

function parseEndpointSpec(spec) {
  const parts = spec.split(':');
  if (parts.length < 2 || !parts[0] || !/^\d+$/.test(parts[1])) {
    throw new OsError(`--add-endpoint expects host:port[:access[:protocol[:enforcement[:opts]]]], got '${spec}'`);
  }
  const ep = { host: parts[0], port: Number(parts[1]) };
  if (parts[2]) ep.access = parts[2];
  if (parts[3]) ep.protocol = parts[3];
  if (parts[4]) ep.enforcement = parts[4];
  if (parts[5] === 'tls-skip') ep.tls = 'skip';
  return ep;
}

export async function policyUpdate(ctx) {
  const v = ctx.values;
  const srv = ctx.server();
  const name = ctx.sandboxNameOrLast(v.name, srv.gw.name);
  const sb = srv.read().workspaces[ctx.workspace].sandboxes[name];
  if (!sb) throw grpcError('NotFound', 'sandbox not found');
  const base = structuredClone(activeRevision(sb)?.policy ?? DEFAULT_POLICY);
  const np = (base.network_policies ??= {});
  for (const spec of v['remove-endpoint'] ?? []) {
    const [host, port] = spec.split(':');
    for (const [key, rule] of Object.entries(np)) {
      rule.endpoints = (rule.endpoints ?? []).filter((e) => !(e.host === host && String(e.port) === port));
      if (rule.endpoints.length === 0) delete np[key];
    }
  }
  for (const key of v['remove-rule'] ?? []) delete np[key];
  const addRule = (ep) => {
    const key = v['rule-name'] ?? `cli_${ep.host.replace(/[^A-Za-z0-9]+/g, '_')}_${ep.port}`;
    const rule = (np[key] ??= { name: key, endpoints: [], binaries: [] });
    rule.endpoints.push(ep);
    for (const b of v.binary ?? []) if (!rule.binaries.some((x) => x.path === b)) rule.binaries.push({ path: b });
  };
  for (const spec of v['add-endpoint'] ?? []) addRule(parseEndpointSpec(spec));
  for (const [flagName, field] of [
    ['add-allow', 'rules'],
    ['add-deny', 'deny_rules'],
  ]) {
    for (const spec of v[flagName] ?? []) {
      const [host, port, method, ...glob] = spec.split(':');
      if (!host || !/^\d+$/.test(port ?? '') || !method || glob.length === 0) {
        throw new OsError(`--${flagName} expects host:port:METHOD:glob, got '${spec}'`);
      }
      const rule = { allow: { method, path: glob.join(':') } };
      const entry = field === 'rules' ? rule : { deny: rule.allow };
      addRule({ host, port: Number(port), protocol: 'rest', [field]: [entry] });
    }
  }
  try {
    validatePolicy(base);
  } catch (e) {
    throw grpcError('InvalidArgument', e.message);
  }
  if (v['dry-run']) {
    process.stdout.write(toYaml(base));
    return 0;
  }
  return submit(ctx, srv, name, base, { wait: v.wait, timeout: v.timeout === undefined ? 60 : Number(v.timeout) });
}

export async function policyGet(ctx) {
  const v = ctx.values;
  const srv = ctx.server();
  const state = srv.read();
  const ws = state.workspaces[ctx.workspace];
  let scope = 'sandbox';
  let name = null;
  let rev;
  let source;
  let activeVersion;
  if (v.global) {
    scope = 'global';
    rev = ws.global_policy;
    source = 'global';
    if (!rev) throw grpcError('NotFound', 'no global policy is set');
    activeVersion = rev.version;
  } else {
    name = ctx.sandboxNameOrLast(v.name, srv.gw.name);
    const sb = ws.sandboxes[name];
    if (!sb) throw grpcError('NotFound', 'sandbox not found');
    const eff = effectivePolicy(ws, sb);
    source = eff.source;
    activeVersion = eff.rev?.version ?? 0;
    if (v.rev !== undefined) {
      rev = (sb.policies ?? []).find((r) => r.version === Number(v.rev));
      if (!rev) throw grpcError('NotFound', `policy revision ${v.rev} not found`);
    } else {
      rev = eff.rev;
      if (!rev) throw grpcError('NotFound', `no policy found for sandbox '${name}'`);
    }
    if (v.base) rev = { ...rev, policy: (sb.policies ?? [])[0]?.policy ?? rev.policy };
  }
  const effective = v.rev === undefined;
  const statusText = effective ? 'Effective' : rev.status;
  const fmt = v.output ?? 'table';
  if (fmt === 'json') {
    const obj = {
      scope,
      sandbox: name,
      version: rev.version,
      active_version: activeVersion,
      hash: rev.hash,
      status: statusText.toLowerCase(),
      config_revision: rev.version,
      policy_source: source,
    };
    if (v.full || v.base) obj.policy = rev.policy;
    emitStructured('json', obj);
    return 0;
  }
  const row = (k, val) => process.stdout.write(`${c.dim(k.padEnd(14))}${val}\n`);
  row('Version:', String(rev.version));
  row('Hash:', rev.hash);
  row('Status:', effective ? c.green(statusText) : statusText);
  row('Source:', source);
  row('Config rev:', String(rev.version));
  if (v.full || v.base) process.stdout.write(`---\n${toYaml(rev.policy)}`);
  return 0;
}

export async function policyList(ctx) {
  const v = ctx.values;
  const srv = ctx.server();
  const name = ctx.sandboxNameOrLast(v.name, srv.gw.name);
  const sb = srv.read().workspaces[ctx.workspace].sandboxes[name];
  if (!sb) throw grpcError('NotFound', 'sandbox not found');
  const revs = [...(sb.policies ?? [])].reverse().slice(0, v.limit === undefined ? 20 : Number(v.limit));
  if (revs.length === 0) {
    process.stderr.write(`No policy history found for sandbox '${name}'\n`);
    return 0;
  }
  const line = (a, b, s, d, e) => `${String(a).padEnd(8)} ${String(b).padEnd(14)} ${String(s).padEnd(12)} ${String(d).padEnd(24)} ${e}`;
  process.stdout.write(c.bold(line('VERSION', 'HASH', 'STATUS', 'CREATED', 'ERROR')) + '\n');
  for (const r of revs) {
    process.stdout.write(line(r.version, r.hash.slice(0, 12), r.status, r.created_ms, (r.error ?? '').slice(0, 40)).trimEnd() + '\n');
  }
  return 0;
}

export async function policyDelete(ctx) {
  const srv = ctx.server();
  const had = srv.update((state) => {
    const ws = state.workspaces[ctx.workspace];
    const prev = ws.global_policy;
    ws.global_policy = null;
    return Boolean(prev);
  });
  if (!had) throw grpcError('NotFound', 'no global policy is set');
  process.stderr.write(`${c.green('✓')} Global policy deleted\n`);
  return 0;
}
