/**
 * Parsers for openshell output. JSON (`-o json`) is used wherever the command has it;
 * these text parsers cover the commands that have none (`provider get`, `inference get`,
 * `policy list`) and the error reports. openshell colours its output even when piped,
 * so everything is ANSI-stripped first.
 */

// CSI sequences (colours, cursor) and OSC sequences.
const ANSI_RE = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, '');
}

/** `openshell 0.0.111` / `openshell 0.0.112-dev.7+g2f7fb6559` → `0.0.111` / `0.0.112-dev.7+g2f7fb6559`. */
export function parseVersion(text: string): string | undefined {
  const m = /(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)/.exec(stripAnsi(text));
  return m?.[1];
}

/** Compare the numeric core of two versions (pre-release/build parts ignored). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[-+]/)[0]?.split('.').map(Number) ?? [];
  const pb = b.split(/[-+]/)[0]?.split('.').map(Number) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * The human message of an openshell error on stderr. Handles miette's framing
 * (`Error:   × first line`, `│ …` continuation) and clap's `error: …`.
 */
export function parseErrorText(stderr: string): string {
  const lines = stripAnsi(stderr)
    .split('\n')
    .map((l) => l.replace(/\r$/, ''));
  const out: string[] = [];
  let started = false;
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (!started) {
      // × (\u00d7) and miette's box drawing (│├╰─▶) are written as escapes: the CLI bundle stays ASCII (scripts/build-cli.mjs).
      const m = /^\s*(?:Error:\s*)?(?:[\u00d7x]\s+)?(?:error:\s*)?(.*)$/i.exec(line);
      if (/^\s*(Error:|error:)/.test(line) && m) {
        started = true;
        const first = (m[1] ?? '').replace(/^[\u00d7x]\s+/, '').trim();
        if (first) out.push(first);
      }
      continue;
    }
    const cont = line.replace(/^\s*[\u2502|\u251c\u2570\u2500\u25b6>]+\s?/, '').trim();
    if (cont === '' && out.length > 0) continue;
    if (/^\s*(Usage:|For more information)/.test(line)) break;
    if (cont) out.push(cont);
  }
  if (out.length === 0) {
    const last = lines.map((l) => l.trim()).filter(Boolean);
    return last.slice(-3).join(' ');
  }
  return out.join(' ').replace(/\s+/g, ' ').trim();
}

/** `Key: value` lines (dimmed labels) → map, for get-style views. */
function keyValues(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const raw of stripAnsi(text).split('\n')) {
    const m = /^\s*([A-Za-z][A-Za-z _-]*?):\s*(.*)$/.exec(raw);
    if (m && m[1]) map.set(m[1].trim().toLowerCase(), (m[2] ?? '').trim());
  }
  return map;
}

function list(v: string | undefined): string[] {
  if (!v || v === '<none>' || v === '-') return [];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface ProviderView {
  id?: string;
  name: string;
  type: string;
  credentialKeys: string[];
  configKeys: string[];
}

/** `openshell provider get NAME` (no JSON): `Provider:` then `Id:`, `Name:`, `Type:`, `Credential keys:`, `Config keys:`. */
export function parseProviderGet(text: string): ProviderView | undefined {
  const kv = keyValues(text);
  const name = kv.get('name');
  const type = kv.get('type');
  if (!name || !type) return undefined;
  const out: ProviderView = { name, type, credentialKeys: list(kv.get('credential keys')), configKeys: list(kv.get('config keys')) };
  const id = kv.get('id');
  if (id) out.id = id;
  return out;
}

export interface InferenceRouteView {
  provider: string;
  model: string;
  timeout?: string;
  version?: string;
  workspace?: string;
}

export interface InferenceView {
  inference?: InferenceRouteView;
  system?: InferenceRouteView;
}

/**
 * `openshell inference get` (no JSON): an `Inference:` block and a `System inference:` block,
 * each either `Not configured` or `Provider:`/`Model:`/… lines.
 */
export function parseInferenceGet(text: string): InferenceView {
  const view: InferenceView = {};
  let block: 'inference' | 'system' | undefined;
  let cur: Partial<InferenceRouteView> = {};
  const flush = (): void => {
    if (block && cur.provider && cur.model) view[block] = cur as InferenceRouteView;
    cur = {};
  };
  for (const raw of stripAnsi(text).split('\n')) {
    const line = raw.trim();
    if (/^system inference:?/i.test(line)) {
      flush();
      block = 'system';
      continue;
    }
    if (/^(gateway )?inference:?\s*$/i.test(line) || /^inference (configured|updated):?$/i.test(line)) {
      flush();
      block = 'inference';
      continue;
    }
    const m = /^([A-Za-z][A-Za-z ]*?):\s*(.*)$/.exec(line);
    if (!m || !block) continue;
    const key = (m[1] ?? '').toLowerCase();
    const value = (m[2] ?? '').trim();
    if (key === 'provider') cur.provider = value;
    else if (key === 'model') cur.model = value;
    else if (key === 'timeout') cur.timeout = value;
    else if (key === 'version') cur.version = value;
    else if (key === 'workspace') cur.workspace = value;
  }
  flush();
  return view;
}

export interface PolicyRevision {
  version: number;
  hash: string;
  status: string;
  createdMs: number;
  error: string;
}

/** `openshell policy list` (no JSON): `VERSION HASH STATUS CREATED ERROR` fixed columns. */
export function parsePolicyList(text: string): PolicyRevision[] {
  const rows: PolicyRevision[] = [];
  for (const raw of stripAnsi(text).split('\n')) {
    const m = /^\s*(\d+)\s+([0-9a-f]{6,})\s+(\w+)\s+(\d+)\s*(.*)$/i.exec(raw);
    if (!m) continue;
    rows.push({ version: Number(m[1]), hash: m[2] as string, status: m[3] as string, createdMs: Number(m[4]), error: (m[5] ?? '').trim() });
  }
  return rows;
}

/**
 * One page of a `… list -o json`: 0.0.x prints an array, 0.1.x an envelope
 * `{"<key>": [...], "next_page_token": "…"}` (openshell-0.1.md §2).
 */
export function parseListPage<T>(json: unknown, key: string): { items: T[]; next?: string } {
  if (Array.isArray(json)) return { items: json as T[] };
  if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    const items = Array.isArray(o[key]) ? (o[key] as T[]) : (Object.values(o).find((v) => Array.isArray(v)) as T[] | undefined) ?? [];
    const next = typeof o.next_page_token === 'string' && o.next_page_token !== '' ? o.next_page_token : undefined;
    return next ? { items, next } : { items };
  }
  return { items: [] };
}
