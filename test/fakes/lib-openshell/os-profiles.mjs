// `profile list|describe|export|import|update|lint|delete` (0.1.x, openshell-0.1.md §5). Profiles
// are workspace-scoped (or platform-scoped with --global) and import-only: a new gateway has none.
import fs from 'node:fs';
import path from 'node:path';
import { c, toYaml, utcStamp } from './common.mjs';
import { OsError, emitStructured, grpcError } from './os-core.mjs';
import { printTable } from './os-resources.mjs';

const stdout = (s) => process.stdout.write(s);

const ID_RE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const TOP = ['id', 'display_name', 'description', 'category', 'inference_capable', 'credentials', 'discovery', 'endpoints', 'binaries', 'resource_version', 'annotations', 'source', 'scope'];
const CATEGORIES = ['inference', 'agent', 'source_control', 'messaging', 'data', 'knowledge', 'other'];
const CRED_KEYS = ['name', 'description', 'env_vars', 'required', 'auth_style', 'header_name', 'query_param', 'refresh', 'path_template', 'token_grant'];
const AUTH_STYLES = ['', 'basic', 'bearer', 'header', 'query', 'path'];
const ENDPOINT_KEYS = [
  'host', 'port', 'ports', 'path', 'protocol', 'tls', 'access', 'enforcement', 'rules', 'deny_rules', 'allowed_ips',
  'allow_encoded_slash', 'websocket_credential_rewrite', 'request_body_credential_rewrite', 'allow_uninspected_credentials',
  'credential_signing', 'signing_service', 'signing_region', 'mcp', 'persisted_queries', 'graphql_persisted_queries',
  'graphql_max_body_bytes', 'json_rpc_max_body_bytes',
];
const PROTOCOLS = ['rest', 'websocket', 'graphql', 'mcp', 'json-rpc', 'tcp'];
const ACCESS = ['read-only', 'read-write', 'full'];

/** Parse and check one profile document; throws Error(field: message) like `profile lint`. */
export function validateProfile(doc) {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('expected a profile object');
  for (const k of Object.keys(doc)) if (!TOP.includes(k)) throw new Error(`unknown field \`${k}\``);
  if (typeof doc.id !== 'string' || !ID_RE.test(doc.id)) throw new Error(`id: '${doc.id ?? ''}' must be lowercase kebab-case`);
  if (typeof doc.display_name !== 'string' || doc.display_name === '') throw new Error('missing field `display_name`');
  if (doc.category !== undefined && !CATEGORIES.includes(doc.category)) throw new Error(`category: unknown category '${doc.category}'`);
  const creds = doc.credentials ?? [];
  if (!Array.isArray(creds)) throw new Error('credentials: expected a sequence');
  creds.forEach((cr, i) => {
    for (const k of Object.keys(cr ?? {})) if (!CRED_KEYS.includes(k)) throw new Error(`credentials[${i}]: unknown field \`${k}\``);
    if (typeof cr.name !== 'string' || !cr.name) throw new Error(`credentials[${i}]: missing field \`name\``);
    for (const e of cr.env_vars ?? []) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e)) throw new Error(`credentials[${i}].env_vars: invalid name '${e}'`);
      if (/^v\d+_/.test(e)) throw new Error(`credentials[${i}].env_vars: '${e}' must not start with v<digits>_`);
    }
    if (!AUTH_STYLES.includes(cr.auth_style ?? '')) throw new Error(`credentials[${i}].auth_style: unknown style '${cr.auth_style}'`);
  });
  const eps = doc.endpoints ?? [];
  if (!Array.isArray(eps)) throw new Error('endpoints: expected a sequence');
  eps.forEach((ep, i) => {
    for (const k of Object.keys(ep ?? {})) if (!ENDPOINT_KEYS.includes(k)) throw new Error(`endpoints[${i}]: unknown field \`${k}\``);
    if (typeof ep.host !== 'string' || !ep.host) throw new Error(`endpoints[${i}]: missing field \`host\``);
    const ports = ep.ports ?? (ep.port !== undefined ? [ep.port] : []);
    if (ports.length === 0 || !ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) throw new Error(`endpoints[${i}]: port must be 1..=65535`);
    if (ep.protocol !== undefined && !PROTOCOLS.includes(ep.protocol)) throw new Error(`endpoints[${i}].protocol: unknown protocol '${ep.protocol}'`);
    if (ep.access !== undefined && !ACCESS.includes(ep.access)) throw new Error(`endpoints[${i}].access: unknown access '${ep.access}'`);
    if (ep.enforcement !== undefined && !['enforce', 'audit'].includes(ep.enforcement)) throw new Error(`endpoints[${i}].enforcement: unknown mode '${ep.enforcement}'`);
    if (ep.tls !== undefined && ep.tls !== 'skip') throw new Error(`endpoints[${i}].tls: '${ep.tls}' is not supported; omit it or use skip`);
    if (creds.length > 0 && (!ep.protocol || ep.protocol === 'tcp')) {
      throw new Error(`endpoints[${i}]: credentialed endpoints must use L7 inspection (set protocol: rest)`);
    }
    if (creds.length > 0 && ep.tls === 'skip' && !ep.allow_uninspected_credentials) {
      throw new Error(`endpoints[${i}]: tls: skip on a credentialed endpoint needs allow_uninspected_credentials: true`);
    }
  });
  const bins = doc.binaries ?? [];
  if (!Array.isArray(bins)) throw new Error('binaries: expected a sequence');
  bins.forEach((b, i) => {
    if (b && typeof b === 'object') {
      if ('harness' in b) throw new Error(`binaries[${i}]: \`harness\` is no longer supported`);
      if (typeof b.path !== 'string') throw new Error(`binaries[${i}]: missing field \`path\``);
    } else if (typeof b !== 'string' || !b) throw new Error(`binaries[${i}]: expected a path`);
  });
}

/** Normalised stored form: scalar binaries, defaults filled in. */
function normalise(doc) {
  return {
    id: doc.id,
    display_name: doc.display_name,
    description: doc.description ?? '',
    category: doc.category ?? 'other',
    inference_capable: Boolean(doc.inference_capable),
    credentials: (doc.credentials ?? []).map((cr) => ({ ...cr, env_vars: cr.env_vars ?? [], required: Boolean(cr.required) })),
    ...(doc.discovery ? { discovery: doc.discovery } : {}),
    endpoints: doc.endpoints ?? [],
    binaries: (doc.binaries ?? []).map((b) => (typeof b === 'string' ? b : b.path)),
  };
}

async function readDocs(file, dir) {
  const YAML = await import('yaml');
  const files = file ? [file] : fs.readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).map((f) => path.join(dir, f));
  if (!file && !fs.existsSync(dir)) throw new OsError(`profile directory does not exist: ${dir}`);
  return files.map((f) => {
    let text;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      throw new OsError(`failed to read profile file: ${f}`);
    }
    let doc;
    try {
      doc = f.endsWith('.json') ? JSON.parse(text) : YAML.parse(text, { uniqueKeys: true });
    } catch (e) {
      throw new OsError(`failed to parse profile ${f}: ${e.message.split('\n')[0]}`);
    }
    return { file: f, doc };
  });
}

/** A profile visible in the workspace: the workspace's own first, then the platform's. */
export function findProfile(state, ws, id) {
  return state.workspaces[ws]?.profiles?.[id] ?? state.global_profiles?.[id] ?? null;
}

function scopeOf(ctx, state, global) {
  if (global) return (state.global_profiles ??= {});
  return (state.workspaces[ctx.workspace].profiles ??= {});
}

export async function profileLint(ctx) {
  const docs = await readDocs(ctx.values.file, ctx.values.from);
  let bad = 0;
  for (const { file, doc } of docs) {
    try {
      validateProfile(doc);
      stdout(`${c.green('✓')} ${file}: profile '${doc.id}' is valid\n`);
    } catch (e) {
      bad++;
      stdout(`${c.red('✗')} ${file}: ${doc?.id ?? '?'}: ${e.message}\n`);
    }
  }
  if (bad) throw new OsError(`${bad} profile(s) failed validation`);
  return 0;
}

export async function profileImport(ctx) {
  const v = ctx.values;
  const docs = await readDocs(v.file, v.from);
  for (const { file, doc } of docs) {
    try {
      validateProfile(doc);
    } catch (e) {
      throw new OsError(`invalid profile ${file}: ${e.message}`);
    }
  }
  const srv = ctx.server();
  for (const { doc } of docs) {
    srv.update((state) => {
      const scope = scopeOf(ctx, state, v.global);
      if (scope[doc.id]) throw grpcError('AlreadyExists', `provider profile '${doc.id}' already exists`);
      scope[doc.id] = { ...normalise(doc), resource_version: 1, created_ms: Date.now(), source: 'user', scope: v.global ? 'platform' : 'workspace' };
    });
    stdout(`${c.green('✓')} Imported profile ${doc.id}\n`);
  }
  return 0;
}

export async function profileUpdate(ctx) {
  const v = ctx.values;
  const [{ file, doc }] = await readDocs(v.file);
  try {
    validateProfile(doc);
  } catch (e) {
    throw new OsError(`invalid profile ${file}: ${e.message}`);
  }
  if (doc.id !== v.id) throw grpcError('InvalidArgument', `profile id '${doc.id}' in ${file} does not match '${v.id}'`);
  const srv = ctx.server();
  srv.update((state) => {
    const scope = scopeOf(ctx, state, v.global);
    const cur = scope[v.id];
    if (!cur) throw grpcError('NotFound', `provider profile '${v.id}' not found`);
    if (doc.resource_version !== cur.resource_version) {
      throw grpcError('Aborted', `resource_version mismatch for profile '${v.id}': have ${cur.resource_version}, got ${doc.resource_version ?? 'none'}; export it again and retry`);
    }
    scope[v.id] = { ...cur, ...normalise(doc), resource_version: cur.resource_version + 1 };
  });
  stdout(`${c.green('✓')} Updated profile ${v.id}\n`);
  return 0;
}

function profileItem(p) {
  const { created_ms: _c, ...rest } = p;
  return { ...rest, created_at: utcStamp(p.created_ms) };
}

function lookup(ctx, srv, id, global) {
  const state = srv.read();
  const p = global ? state.global_profiles?.[id] : findProfile(state, ctx.workspace, id);
  if (!p) throw grpcError('NotFound', `provider profile '${id}' not found`);
  return p;
}

export async function profileExport(ctx) {
  const srv = ctx.server();
  const p = lookup(ctx, srv, ctx.values.id, ctx.values.global);
  const { created_ms: _c, source: _s, scope: _sc, ...doc } = p;
  if ((ctx.values.output ?? 'yaml') === 'json') emitStructured('json', doc);
  else stdout(toYaml(doc));
  return 0;
}

export async function profileDescribe(ctx) {
  const srv = ctx.server();
  const p = lookup(ctx, srv, ctx.values.id, ctx.values.global);
  const fmt = ctx.values.output ?? 'table';
  if (fmt !== 'table') {
    emitStructured(fmt, profileItem(p));
    return 0;
  }
  stdout(`${c.bold('Profile:')}\n\n`);
  stdout(`  ${c.dim('Id:')} ${p.id}\n  ${c.dim('Name:')} ${p.display_name}\n  ${c.dim('Category:')} ${p.category}\n`);
  stdout(`  ${c.dim('Credentials:')} ${p.credentials.flatMap((cr) => cr.env_vars).join(', ') || '<none>'}\n`);
  stdout(`  ${c.dim('Endpoints:')} ${p.endpoints.map((e) => `${e.host}:${e.port ?? (e.ports ?? []).join(',')}`).join(', ') || '<none>'}\n`);
  stdout(`  ${c.dim('Binaries:')} ${p.binaries.join(', ') || '<none>'}\n`);
  return 0;
}

export async function profileList(ctx) {
  const srv = ctx.server();
  const state = srv.read();
  const ws = state.workspaces[ctx.workspace].profiles ?? {};
  const glob = state.global_profiles ?? {};
  const merged = ctx.values.global ? { ...glob } : { ...glob, ...ws };
  const list = Object.values(merged).sort((a, b) => a.id.localeCompare(b.id));
  const fmt = ctx.values.output ?? 'table';
  if (fmt !== 'table') {
    emitStructured(fmt, { profiles: list.map(profileItem), next_page_token: '' });
    return 0;
  }
  if (list.length === 0) {
    stdout('No provider profiles found.\n');
    return 0;
  }
  printTable(['NAME', 'TYPE', 'CATEGORY', 'SOURCE', 'SCOPE'], list.map((p) => [p.id, 'provider', p.category, p.source, p.scope]));
  return 0;
}

export async function profileDelete(ctx) {
  const srv = ctx.server();
  for (const id of ctx.values.ids) {
    srv.update((state) => {
      const scope = scopeOf(ctx, state, ctx.values.global);
      if (!scope[id]) throw grpcError('NotFound', `provider profile '${id}' not found`);
      const w = state.workspaces[ctx.workspace];
      const users = Object.values(w.providers).filter((p) => p.type === id && Object.values(w.sandboxes).some((sb) => sb.providers.includes(p.name)));
      if (users.length) throw grpcError('FailedPrecondition', `provider profile '${id}' is in use by attached provider(s): ${users.map((p) => p.name).join(', ')}`);
      delete scope[id];
    });
    stdout(`${c.green('✓')} Deleted profile ${id}\n`);
  }
  return 0;
}
