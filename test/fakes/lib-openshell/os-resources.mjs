// `provider *`, `inference *` and `workspace *` (run.rs). All are workspace-scoped server state.
import { c, envListMatches, padEnd, utcStamp } from './common.mjs';
import { OsError, emitStructured, grpcError, newWorkspace } from './os-core.mjs';
import { findProfile } from './os-profiles.mjs';

const stdout = (s) => process.stdout.write(s);

export const PROVIDER_TYPES = [
  'openai', 'anthropic', 'nvidia', 'deepinfra', 'aws-bedrock', 'google-vertex-ai', 'claude-code', 'codex',
  'copilot', 'opencode', 'google-cloud', 'generic', 'gitlab', 'github', 'outlook',
];
const TYPE_ALIASES = { claude: 'claude-code' };

/** Env vars `--from-existing` (and auto-created providers) look for, per type. */
const DISCOVERY = {
  openai: ['OPENAI_API_KEY'],
  anthropic: ['ANTHROPIC_API_KEY'],
  nvidia: ['NVIDIA_API_KEY'],
  deepinfra: ['DEEPINFRA_API_KEY'],
  'aws-bedrock': ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'],
  'google-vertex-ai': ['GOOGLE_APPLICATION_CREDENTIALS'],
  'claude-code': ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN'],
  codex: ['OPENAI_API_KEY'],
  copilot: ['COPILOT_GITHUB_TOKEN', 'GITHUB_TOKEN'],
  opencode: ['OPENCODE_API_KEY'],
  'google-cloud': ['GOOGLE_APPLICATION_CREDENTIALS'],
  generic: [],
  gitlab: ['GITLAB_TOKEN'],
  github: ['GITHUB_TOKEN', 'GH_TOKEN'],
  outlook: [],
};

const DEFAULT_BASE_URL = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
  nvidia: 'https://integrate.api.nvidia.com/v1',
  deepinfra: 'https://api.deepinfra.com/v1/openai',
};

export const normaliseType = (t) => TYPE_ALIASES[t] ?? t;
export const isProviderType = (t) => PROVIDER_TYPES.includes(normaliseType(t));

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parseCredentials(list, env) {
  const creds = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    if (!KEY_RE.test(key)) throw new OsError(`--credential expects KEY or KEY=VALUE, got '${item}'`);
    const value = eq === -1 ? env[key] : item.slice(eq + 1);
    if (!value) {
      throw new OsError(
        eq === -1
          ? `--credential ${key} requires local env var '${key}' to be set to a non-empty value`
          : `--credential ${key} requires a non-empty value`,
      );
    }
    creds[key] = value;
  }
  return creds;
}

function parseConfig(list) {
  const cfg = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new OsError(`--config expects KEY=VALUE, got '${item}'`);
    cfg[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return cfg;
}

export function discoverCredentials(type, env) {
  const creds = {};
  for (const k of DISCOVERY[type] ?? []) if (env[k]) creds[k] = env[k];
  return creds;
}

export function newProvider(ctx, name, type, creds, config) {
  return {
    id: crypto.randomUUID(),
    name,
    workspace: ctx.workspace,
    type,
    credential_keys: Object.keys(creds).sort(),
    config,
    labels: {},
    resource_version: 1,
    created_ms: Date.now(),
    credential_expires_at: {},
  };
}

/** Store a provider's secret values apart from the state, so tests can check what arrived. */
export function storeSecrets(srv, ws, provider, creds, replace) {
  srv.updateSecrets((s) => {
    const bag = ((s[ws] ??= {})[provider] ??= {});
    if (replace) for (const k of Object.keys(bag)) delete bag[k];
    Object.assign(bag, creds);
  });
}

/** 0.1.x: the credentials a provider gives must be declared by its profile; required ones must be given. */
function checkAgainstProfile(profile, creds, creating) {
  const declared = profile.credentials.flatMap((cr) => cr.env_vars);
  for (const k of Object.keys(creds)) {
    if (!declared.includes(k)) throw new OsError(`credential '${k}' is not declared by provider profile '${profile.id}' (declared: ${declared.join(', ') || 'none'})`);
  }
  if (!creating) return;
  for (const cr of profile.credentials) {
    if (cr.required && !cr.env_vars.some((e) => creds[e])) {
      throw new OsError(`provider profile '${profile.id}' requires credential '${cr.name}'; pass --credential ${cr.env_vars[0] ?? 'KEY'}`);
    }
  }
}

export async function providerCreate(ctx) {
  const v = ctx.values;
  let creds = parseCredentials(v.credential, ctx.env);
  const config = parseConfig(v.config);
  const srv = ctx.server();
  if (ctx.isLine01) {
    // Providers v2: the type is an imported profile id; no built-in types, no aliases.
    const profile = findProfile(srv.read(), ctx.workspace, v.type);
    if (!profile) throw new OsError(`unsupported provider type or profile: ${v.type}\nNo provider profile '${v.type}' is imported; import one with: openshell profile import -f <file>`);
    if (v['from-existing']) {
      creds = {};
      for (const k of (profile.discovery?.credentials ?? []).flatMap((n) => profile.credentials.find((cr) => cr.name === n)?.env_vars ?? [])) {
        if (ctx.env[k]) creds[k] = ctx.env[k];
      }
    }
    checkAgainstProfile(profile, creds, true);
    const ws = ctx.workspace;
    srv.update((state) => {
      const providers = state.workspaces[ws].providers;
      if (providers[v.name]) throw grpcError('AlreadyExists', 'provider already exists');
      providers[v.name] = newProvider(ctx, v.name, v.type, creds, config);
    });
    storeSecrets(srv, ws, v.name, creds, true);
    stdout(`${c.green('✓')} Created provider ${v.name}\n`);
    return 0;
  }
  const type = normaliseType(v.type);
  if (!PROVIDER_TYPES.includes(type)) throw new OsError(`unsupported provider type or profile: ${v.type}`);
  if (v['from-existing']) {
    creds = discoverCredentials(type, ctx.env);
    if (Object.keys(creds).length === 0) {
      throw new OsError(`no existing credentials found for provider type '${type}' in the local environment`);
    }
  }
  const ws = ctx.workspace;
  srv.update((state) => {
    const providers = state.workspaces[ws].providers;
    if (providers[v.name]) throw grpcError('AlreadyExists', 'provider already exists');
    providers[v.name] = newProvider(ctx, v.name, type, creds, config);
  });
  storeSecrets(srv, ws, v.name, creds, true);
  stdout(`${c.green('✓')} Created provider ${v.name}\n`);
  return 0;
}

export async function providerUpdate(ctx) {
  const v = ctx.values;
  const credsGiven = parseCredentials(v.credential, ctx.env);
  const config = parseConfig(v.config);
  const expires = parseConfig(v['credential-expires-at']);
  const srv = ctx.server();
  const ws = ctx.workspace;
  let creds = credsGiven;
  srv.update((state) => {
    const p = state.workspaces[ws].providers[v.name];
    if (!p) throw grpcError('NotFound', 'provider not found');
    if (ctx.isLine01) {
      const profile = findProfile(state, ws, p.type);
      if (profile) checkAgainstProfile(profile, creds, false);
    }
    if (v['from-existing']) creds = discoverCredentials(p.type, ctx.env);
    p.credential_keys = [...new Set([...p.credential_keys, ...Object.keys(creds)])].sort();
    for (const [k, val] of Object.entries(config)) {
      if (val === '') delete p.config[k];
      else p.config[k] = val;
    }
    Object.assign((p.credential_expires_at ??= {}), expires);
    p.resource_version += 1;
  });
  if (Object.keys(creds).length) storeSecrets(srv, ws, v.name, creds, false);
  stdout(`${c.green('✓')} Updated provider ${v.name}\n`);
  return 0;
}

export async function providerGet(ctx) {
  const srv = ctx.server();
  const p = srv.read().workspaces[ctx.workspace].providers[ctx.values.name];
  if (!p) throw grpcError('NotFound', 'provider not found');
  const keys = (l) => (l.length ? l.join(', ') : '<none>');
  stdout(`${c.bold('Provider:')}\n\n`);
  stdout(`  ${c.dim('Id:')} ${p.id}\n`);
  stdout(`  ${c.dim('Name:')} ${p.name}\n`);
  stdout(`  ${c.dim('Type:')} ${p.type}\n`);
  stdout(`  ${c.dim('Resource version:')} ${p.resource_version}\n`);
  stdout(`  ${c.dim('Credential keys:')} ${keys(p.credential_keys)}\n`);
  stdout(`  ${c.dim('Config keys:')} ${keys(Object.keys(p.config).sort())}\n`);
  return 0;
}

export function providerItem(ctx, p) {
  const item = { id: p.id, name: p.name };
  if (ctx.hasWorkspaces) item.workspace = p.workspace;
  Object.assign(item, {
    type: p.type,
    credential_keys: p.credential_keys,
    config_keys: Object.keys(p.config).sort(),
    labels: p.labels,
    resource_version: p.resource_version,
    created_at: utcStamp(p.created_ms),
  });
  return item;
}

export function printTable(headers, rows) {
  const widths = headers.map((h, k) => Math.max(h.length, ...rows.map((r) => String(r[k]).length)));
  const last = headers.length - 1;
  stdout(headers.map((h, k) => c.bold(padEnd(h, k === last ? 0 : widths[k]))).join('  ') + '\n');
  for (const r of rows) stdout(r.map((cell, k) => padEnd(String(cell), k === last ? 0 : widths[k])).join('  ').trimEnd() + '\n');
}

/**
 * 0.1.x token pagination (openshell-0.1.md §2): a page of at most --limit (or FAKE_OPENSHELL_PAGE_SIZE)
 * items and an opaque next_page_token ('' on the last page).
 */
export function page(ctx, all) {
  const v = ctx.values;
  if (!ctx.isLine01) {
    const offset = Number(v.offset ?? 0);
    return { items: all.slice(offset, offset + Number(v.limit ?? 100)), next: '' };
  }
  const size = Number(v.limit ?? (ctx.env.FAKE_OPENSHELL_PAGE_SIZE || 100));
  let start = 0;
  if (v['page-token']) {
    const m = /^pt1\.(\d+)$/.exec(v['page-token']);
    if (!m) throw grpcError('InvalidArgument', 'invalid page_token');
    start = Number(m[1]);
  }
  const items = all.slice(start, start + size);
  return { items, next: start + size < all.length ? `pt1.${start + size}` : '' };
}

export function printNextPageToken(next) {
  if (next) process.stderr.write(`Next page: --page-token ${next}\n`);
}

export async function providerList(ctx) {
  const v = ctx.values;
  const srv = ctx.server();
  const { items: list, next } = page(ctx, Object.values(srv.read().workspaces[ctx.workspace].providers).sort((a, b) => a.created_ms - b.created_ms));
  const fmt = v.output ?? 'table';
  if (v.names) {
    for (const p of list) stdout(`${p.name}\n`);
    return 0;
  }
  if (fmt !== 'table') {
    const items = list.map((p) => providerItem(ctx, p));
    emitStructured(fmt, ctx.isLine01 ? { providers: items, next_page_token: next } : items);
    return 0;
  }
  printNextPageToken(next);
  if (list.length === 0) {
    stdout('No providers found.\n');
    return 0;
  }
  printTable(
    ['NAME', 'TYPE', 'CREDENTIAL_KEYS', 'CONFIG_KEYS'],
    list.map((p) => [p.name, p.type, p.credential_keys.length, Object.keys(p.config).length]),
  );
  return 0;
}

export async function providerListProfiles(ctx) {
  ctx.server();
  const items = PROVIDER_TYPES.map((t) => ({ id: t, display_name: t, credential_keys: DISCOVERY[t] ?? [] }));
  const fmt = ctx.values.output ?? 'table';
  if (fmt !== 'table') emitStructured(fmt, items);
  else printTable(['ID', 'CREDENTIAL_KEYS'], items.map((i) => [i.id, i.credential_keys.join(', ') || '-']));
  return 0;
}

export async function providerDelete(ctx) {
  const srv = ctx.server();
  const ws = ctx.workspace;
  for (const name of ctx.values.names) {
    srv.update((state) => {
      const providers = state.workspaces[ws].providers;
      if (!providers[name]) throw grpcError('NotFound', 'provider not found');
      const users = Object.values(state.workspaces[ws].sandboxes).filter((sb) => sb.providers.includes(name));
      if (ctx.isLine01 && users.length) {
        throw grpcError('FailedPrecondition', `provider '${name}' is attached to sandbox(es): ${users.map((sb) => sb.name).join(', ')}`);
      }
      delete providers[name];
    });
    srv.updateSecrets((s) => {
      if (s[ws]) delete s[ws][name];
    });
    stdout(`${c.green('✓')} Deleted provider ${name}\n`);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// inference
const routeKey = (system) => (system ? 'system' : 'user');
const routeName = (system) => (system ? 'sandbox-system' : 'inference.local');

function validatedEndpoint(p) {
  const base =
    p.config.OPENAI_BASE_URL ?? p.config.ANTHROPIC_BASE_URL ?? p.config.NVIDIA_BASE_URL ?? p.config.BASE_URL ?? DEFAULT_BASE_URL[p.type];
  if (!base) return null;
  return `${base.replace(/\/+$/, '')}${p.type === 'anthropic' ? '/messages' : '/chat/completions'}`;
}

function verify(ctx, p, model) {
  if (envListMatches(ctx.env.FAKE_OPENSHELL_VERIFY_FAIL, p.name)) {
    const ep = validatedEndpoint(p) ?? p.type;
    throw new OsError(
      `failed to verify inference endpoint for provider '${p.name}' (model '${model}'): ${ep}: connection refused\nRe-run with --no-verify to skip verification`,
    );
  }
}

function printRoute(ctx, header, route, system) {
  stdout(`${c.bold(header)}\n`);
  if (ctx.hasWorkspaces) stdout(`  ${c.dim('Workspace:')} ${ctx.workspace}\n`);
  stdout(`  ${c.dim('Route:')} ${routeName(system)}\n`);
  stdout(`  ${c.dim('Provider:')} ${route.provider}\n`);
  stdout(`  ${c.dim('Model:')} ${route.model}\n`);
  stdout(`  ${c.dim('Version:')} ${route.version}\n`);
  stdout(`  ${c.dim('Timeout:')} ${route.timeout_secs ? `${route.timeout_secs}s` : '60s (default)'}\n`);
}

async function setOrUpdate(ctx, mode) {
  const v = ctx.values;
  const srv = ctx.server();
  const ws = ctx.workspace;
  const key = routeKey(v.system);
  const state = srv.read();
  const prev = state.workspaces[ws].inference[key];
  if (mode === 'update' && !prev) {
    throw new OsError(`inference is not configured for route '${routeName(v.system)}'; configure it with: openshell inference set`);
  }
  const providerName = v.provider ?? prev.provider;
  const model = v.model ?? prev.model;
  const p = state.workspaces[ws].providers[providerName];
  if (!p) throw new OsError(`provider '${providerName}' not found`);
  if (!v['no-verify']) verify(ctx, p, model);
  const route = srv.update((st) => {
    const inf = st.workspaces[ws].inference;
    const old = inf[key];
    inf[key] = {
      provider: providerName,
      model,
      timeout_secs: v.timeout !== undefined ? Number(v.timeout) : mode === 'update' ? (old?.timeout_secs ?? 0) : 0,
      version: (old?.version ?? 0) + 1,
      updated_ms: Date.now(),
    };
    return inf[key];
  });
  printRoute(ctx, mode === 'set' ? 'Inference configured:' : 'Inference updated:', route, v.system);
  const ep = !v['no-verify'] && validatedEndpoint(p);
  if (ep) stdout(`  ${c.dim('Validated Endpoints:')}\n    - ${ep}\n`);
  return 0;
}

export const inferenceSet = (ctx) => setOrUpdate(ctx, 'set');
export const inferenceUpdate = (ctx) => setOrUpdate(ctx, 'update');

export async function inferenceGet(ctx) {
  const srv = ctx.server();
  const inf = srv.read().workspaces[ctx.workspace].inference;
  const blocks = ctx.values.system ? [true] : [false, true];
  blocks.forEach((system, i) => {
    if (i > 0) stdout('\n');
    const route = inf[routeKey(system)];
    const header = system ? 'System inference:' : 'Inference:';
    if (route) printRoute(ctx, header, route, system);
    else stdout(`${c.bold(header)}\n  ${c.dim('Not configured')}\n`);
  });
  return 0;
}

export async function inferenceDelete(ctx) {
  const srv = ctx.server();
  const key = routeKey(ctx.values.system);
  srv.update((st) => {
    st.workspaces[ctx.workspace].inference[key] = null;
  });
  stdout(`${c.green('✓')} Deleted inference route ${routeName(ctx.values.system)}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// workspace
const WS_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function parseLabels(list, flagName = '--label') {
  const labels = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new OsError(`${flagName} expects KEY=VALUE, got '${item}'`);
    labels[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return labels;
}
export { parseLabels };

const labelText = (l) => Object.entries(l ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');

export async function workspaceCreate(ctx) {
  const v = ctx.values;
  const labels = parseLabels(v.label);
  const srv = ctx.server({ checkWorkspace: false });
  if (v.name.length > 19 || !WS_RE.test(v.name)) {
    throw grpcError('InvalidArgument', `workspace name '${v.name}' must be a DNS-1123 label of at most 19 characters`);
  }
  srv.ensureWritten();
  srv.update((st) => {
    if (st.workspaces[v.name]) throw grpcError('AlreadyExists', 'workspace already exists');
    st.workspaces[v.name] = newWorkspace(v.name, labels);
  });
  stdout(`${c.green('✓')} Created workspace ${v.name}\n`);
  return 0;
}

function wsItem(w) {
  return {
    id: w.id,
    name: w.name,
    status: 'Active',
    labels: w.labels,
    resource_version: w.resource_version,
    created_at: utcStamp(w.created_ms),
  };
}

export async function workspaceGet(ctx) {
  const srv = ctx.server({ checkWorkspace: false });
  srv.ensureWritten();
  const w = srv.read().workspaces[ctx.values.name];
  if (!w) throw grpcError('NotFound', `workspace '${ctx.values.name}' not found`);
  stdout(`${c.bold('Workspace:')}\n\n`);
  stdout(`  ${c.dim('Name:')} ${w.name}\n`);
  stdout(`  ${c.dim('Id:')} ${w.id}\n`);
  stdout(`  ${c.dim('Resource version:')} ${w.resource_version}\n`);
  stdout(`  ${c.dim('Created:')} ${utcStamp(w.created_ms)}\n`);
  stdout(`  ${c.dim('Labels:')} ${labelText(w.labels) || '<none>'}\n`);
  return 0;
}

export async function workspaceList(ctx) {
  const v = ctx.values;
  const srv = ctx.server({ checkWorkspace: false });
  srv.ensureWritten();
  const sel = parseLabels((v['label-selector'] ?? '').split(',').filter(Boolean), '--label-selector');
  const offset = Number(v.offset ?? 0);
  const limit = Number(v.limit ?? 100);
  const list = Object.values(srv.read().workspaces)
    .filter((w) => Object.entries(sel).every(([k, val]) => w.labels?.[k] === val))
    .sort((a, b) => a.created_ms - b.created_ms)
    .slice(offset, offset + limit);
  const fmt = v.output ?? 'table';
  if (fmt !== 'table') {
    emitStructured(fmt, list.map(wsItem));
    return 0;
  }
  if (list.length === 0) {
    stdout('No workspaces found.\n');
    return 0;
  }
  printTable(
    ['NAME', 'STATUS', 'CREATED', 'LABELS'],
    list.map((w) => [w.name, 'Active', utcStamp(w.created_ms), labelText(w.labels)]),
  );
  return 0;
}

export async function workspaceDelete(ctx) {
  const srv = ctx.server({ checkWorkspace: false });
  srv.ensureWritten();
  for (const name of ctx.values.names) {
    srv.update((st) => {
      const w = st.workspaces[name];
      if (!w) throw grpcError('NotFound', `workspace '${name}' not found`);
      if (name === 'default') throw grpcError('FailedPrecondition', 'the default workspace cannot be deleted');
      const n = Object.keys(w.sandboxes).length;
      if (n > 0) throw grpcError('FailedPrecondition', `workspace '${name}' still has ${n} sandbox(es); delete them first`);
      if (ctx.isLine01) {
        // 0.1.x: a workspace must be empty of every resource type before it can go.
        const left = [['provider', Object.keys(w.providers).length], ['provider profile', Object.keys(w.profiles ?? {}).length]].filter(([, k]) => k > 0);
        if (left.length) throw grpcError('FailedPrecondition', `workspace '${name}' is not empty: ${left.map(([what, k]) => `${k} ${what}(s)`).join(', ')}`);
      }
      delete st.workspaces[name];
    });
    srv.updateSecrets((s) => {
      delete s[name];
    });
    stdout(`${c.green('✓')} Deleted workspace ${name}\n`);
  }
  return 0;
}

export async function memberAdd(ctx) {
  const srv = ctx.server();
  const role = ctx.values.role ?? 'user';
  srv.update((st) => {
    const m = st.workspaces[ctx.workspace].members;
    const existing = m.find((x) => x.subject === ctx.values.subject);
    if (existing) existing.role = role;
    else m.push({ subject: ctx.values.subject, role });
  });
  stdout(`${c.green('✓')} Added ${ctx.values.subject} to workspace ${ctx.workspace} as ${role}\n`);
  return 0;
}

export async function memberRemove(ctx) {
  const srv = ctx.server();
  srv.update((st) => {
    const w = st.workspaces[ctx.workspace];
    if (!w.members.some((x) => x.subject === ctx.values.subject)) throw grpcError('NotFound', 'member not found');
    w.members = w.members.filter((x) => x.subject !== ctx.values.subject);
  });
  stdout(`${c.green('✓')} Removed ${ctx.values.subject} from workspace ${ctx.workspace}\n`);
  return 0;
}

export async function memberList(ctx) {
  const srv = ctx.server();
  const members = srv.read().workspaces[ctx.workspace].members;
  const fmt = ctx.values.output ?? 'table';
  if (fmt !== 'table') emitStructured(fmt, members);
  else if (members.length === 0) stdout('No members found.\n');
  else printTable(['SUBJECT', 'ROLE'], members.map((m) => [m.subject, m.role]));
  return 0;
}
