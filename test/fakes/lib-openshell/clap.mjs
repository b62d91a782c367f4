// A small clap-4 look-alike: global flags anywhere, subcommands with aliases, value/bool/count
// flags, `--flag=value`, short clusters, trailing `-- CMD...`, required args, groups, conflicts,
// possible values, and clap's error texts (`error: …` on stderr, exit 2).
import { Exit } from './common.mjs';

export function versionAtLeast(version, min) {
  if (!min) return true;
  const a = parseVersion(version);
  const b = parseVersion(min);
  for (let i = 0; i < 3; i++) {
    if (a[i] !== b[i]) return a[i] > b[i];
  }
  return true;
}

function parseVersion(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(String(v));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

const available = (item, version) =>
  versionAtLeast(version, item.minVersion) && !(item.maxVersion && versionAtLeast(version, item.maxVersion));

export function flagLabel(f) {
  const name = f.long ? `--${f.long}` : `-${f.short}`;
  return f.value ? `${name} <${f.value}>` : name;
}

function positionalLabel(p) {
  const base = `<${p.value}>`;
  const inner = p.multi ? `${base}...` : base;
  return p.required ? inner : `[${p.value}]${p.multi ? '...' : ''}`;
}

function trailingLabel(t) {
  return t.required ? `-- <${t.value}>...` : `[-- <${t.value}>...]`;
}

export function usageLine(prog, pathParts, node, version) {
  const parts = [prog, ...pathParts];
  for (const f of node.flags ?? []) {
    if (f.required && available(f, version)) parts.push(flagLabel(f));
  }
  parts.push('[OPTIONS]');
  if (node.subcommands?.length) parts.push('<COMMAND>');
  for (const p of node.positionals ?? []) parts.push(positionalLabel(p));
  if (node.trailing) parts.push(trailingLabel(node.trailing));
  return `Usage: ${parts.join(' ')}`;
}

export function helpText(prog, pathParts, node, globalFlags, version) {
  const lines = [];
  if (node.about) lines.push(node.about, '');
  lines.push(usageLine(prog, pathParts, node, version), '');
  const subs = (node.subcommands ?? []).filter((s) => available(s, version) && !s.hidden);
  if (subs.length) {
    lines.push('Commands:');
    const w = Math.max(...subs.map((s) => s.name.length));
    for (const s of subs) lines.push(`  ${s.name.padEnd(w)}  ${s.about ?? ''}`.trimEnd());
    lines.push('');
  }
  const flags = [...(node.flags ?? []), ...globalFlags].filter((f) => available(f, version) && !f.hidden);
  lines.push('Options:');
  const fmt = (f) => `${f.short ? `-${f.short}, ` : '    '}${flagLabel(f)}`;
  const w = Math.max(...flags.map((f) => fmt(f).length), 10);
  for (const f of flags) {
    const extra = f.choices ? ` [possible values: ${f.choices.join(', ')}]` : '';
    lines.push(`  ${fmt(f).padEnd(w)}  ${f.help ?? ''}${extra}`.trimEnd());
  }
  lines.push(`  ${'-h, --help'.padEnd(w)}  Print help`);
  if (pathParts.length === 0) lines.push(`  ${'-V, --version'.padEnd(w)}  Print version`);
  return lines.join('\n') + '\n';
}

function usageError(message, prog, pathParts, node, version, withUsage = true) {
  let text = `error: ${message}\n\n`;
  if (withUsage) text += `${usageLine(prog, pathParts, node, version)}\n\n`;
  text += "For more information, try '--help'.\n";
  return new Exit(2, text);
}

/**
 * Parse argv against a spec tree. Returns { path, node, values, positionals, trailing, globals }
 * or throws Exit (usage errors, help, version).
 */
export function parse(argv, { prog, root, globalFlags, version }) {
  let node = root;
  const pathParts = [];
  const values = {}; // id -> value | array | count | true
  const globals = {};
  const positionals = [];
  let trailing = null;
  let subChosen = false;

  const fail = (msg, withUsage = true) => {
    throw usageError(msg, prog, pathParts, node, version, withUsage);
  };
  const visibleFlags = () => [
    ...(node.flags ?? []).filter((f) => available(f, version)),
    ...globalFlags.filter((f) => available(f, version)),
  ];

  const store = (f, val) => {
    const bag = globalFlags.includes(f) ? globals : values;
    if (f.count) {
      bag[f.id] = (bag[f.id] ?? 0) + 1;
      return;
    }
    if (f.value && f.choices && !f.choices.includes(val)) {
      fail(
        `invalid value '${val}' for '${flagLabel(f)}'\n  [possible values: ${f.choices.join(', ')}]`,
        false,
      );
    }
    if (f.value && f.num && !(f.optional && val === '') && !/^\d+$/.test(val)) {
      fail(`invalid value '${val}' for '${flagLabel(f)}': invalid digit found in string`, false);
    }
    if (f.multi) {
      (bag[f.id] ??= []).push(f.value ? val : true);
      return;
    }
    if (f.id in bag) fail(`the argument '${flagLabel(f)}' cannot be used multiple times`);
    bag[f.id] = f.value ? val : true;
  };

  const showHelp = () => {
    throw new Exit(0, '', helpText(prog, pathParts, node, globalFlags, version));
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const tok = argv[i];
    if (tok === '--') {
      if (node.trailing) {
        trailing = argv.slice(i + 1);
        break;
      }
      const rest = argv.slice(i + 1);
      if (rest.length) fail(`unexpected argument '${rest[0]}' found`);
      break;
    }
    if (node.raw) {
      positionals.push(...argv.slice(i));
      break;
    }
    if (tok.startsWith('--') && tok.length > 2) {
      const eq = tok.indexOf('=');
      const name = eq === -1 ? tok.slice(2) : tok.slice(2, eq);
      if (name === 'help') showHelp();
      if (name === 'version' && !(node.flags ?? []).some((f) => f.long === 'version')) {
        throw new Exit(0, '', `${prog} ${version}\n`);
      }
      const f = visibleFlags().find((x) => x.long === name);
      if (!f) fail(`unexpected argument '--${name}' found`);
      if (f.value && f.optional && eq === -1) {
        // num_args(0..=1): take the next token only when it looks like a value.
        const next = argv[i + 1];
        if (next !== undefined && /^\d+$/.test(next)) {
          i++;
          store(f, next);
        } else store(f, '');
        continue;
      }
      if (f.value) {
        let val;
        if (eq !== -1) val = tok.slice(eq + 1);
        else {
          val = argv[i + 1];
          if (val === undefined || (val.startsWith('-') && val !== '-' && !f.allowHyphen)) {
            fail(`a value is required for '${flagLabel(f)}' but none was supplied`, false);
          }
          i++;
        }
        store(f, val);
      } else {
        if (eq !== -1) fail(`unexpected value '${tok.slice(eq + 1)}' for '--${name}' found; no more were expected`);
        store(f, true);
      }
      continue;
    }
    if (tok.startsWith('-') && tok.length > 1) {
      const chars = tok.slice(1);
      for (let k = 0; k < chars.length; k++) {
        const ch = chars[k];
        if (ch === 'h') showHelp();
        if (ch === 'V') throw new Exit(0, '', `${prog} ${version}\n`);
        const f = visibleFlags().find((x) => x.short === ch);
        if (!f) fail(`unexpected argument '-${ch}' found`);
        if (f.value) {
          let val = chars.slice(k + 1);
          if (val.startsWith('=')) val = val.slice(1);
          if (val === '') {
            val = argv[i + 1];
            if (val === undefined || (val.startsWith('-') && val !== '-' && !f.allowHyphen)) {
              fail(`a value is required for '${flagLabel(f)}' but none was supplied`, false);
            }
            i++;
          }
          store(f, val);
          break;
        }
        store(f, true);
      }
      continue;
    }
    // Positional.
    const subs = (node.subcommands ?? []).filter((s) => available(s, version));
    if (node.subcommands?.length && !subChosen) {
      const sub = subs.find((s) => s.name === tok || (s.aliases ?? []).includes(tok));
      if (!sub) fail(`unrecognized subcommand '${tok}'`);
      node = sub;
      pathParts.push(sub.name);
      if (!sub.subcommands?.length) subChosen = true;
      continue;
    }
    const specs = node.positionals ?? [];
    const last = specs[specs.length - 1];
    if (positionals.length >= specs.length && !(last && last.multi)) {
      fail(`unexpected argument '${tok}' found`);
    }
    positionals.push(tok);
  }

  if (node.subcommands?.length) showHelp(); // bare group: help, exit 0
  if (node.raw) return { path: pathParts, node, values: { args: positionals }, globals };

  // Positionals → named values.
  const specs = node.positionals ?? [];
  specs.forEach((p, idx) => {
    if (p.multi) {
      const rest = positionals.slice(idx);
      if (rest.length) values[p.id] = rest;
    } else if (positionals[idx] !== undefined) values[p.id] = positionals[idx];
  });
  if (trailing !== null && node.trailing) values[node.trailing.id] = trailing;

  const labelOf = (id) => {
    const f = (node.flags ?? []).find((x) => x.id === id);
    if (f) return flagLabel(f);
    const p = specs.find((x) => x.id === id);
    if (p) return `<${p.value}>${p.multi ? '...' : ''}`;
    if (node.trailing?.id === id) return `[${node.trailing.value}]...`;
    return id;
  };
  const present = (id) => id in values && !(Array.isArray(values[id]) && values[id].length === 0);

  // A conflict is [a, b] or { ids: [a, b], minVersion?, maxVersion? } (it changed between releases).
  for (const entry of node.conflicts ?? []) {
    const [a, b] = Array.isArray(entry) ? entry : entry.ids;
    if (!Array.isArray(entry) && !available(entry, version)) continue;
    if (present(a) && present(b)) fail(`the argument '${labelOf(a)}' cannot be used with '${labelOf(b)}'`);
  }
  for (const g of (node.groups ?? []).filter((x) => available(x, version))) {
    const got = g.ids.filter(present);
    if (!g.multiple && got.length > 1) {
      fail(`the argument '${labelOf(got[0])}' cannot be used with '${labelOf(got[1])}'`);
    }
    if (g.required && got.length === 0) {
      fail(`the following required arguments were not provided:\n  <${g.ids.map(labelOf).join('|')}>`);
    }
  }
  const missing = [];
  for (const f of node.flags ?? []) if (f.required && available(f, version) && !present(f.id)) missing.push(flagLabel(f));
  for (const p of specs) if (p.required && !present(p.id)) missing.push(`<${p.value}>${p.multi ? '...' : ''}`);
  if (node.trailing?.required && !present(node.trailing.id)) missing.push(`<${node.trailing.value}>...`);
  if (missing.length) {
    fail(`the following required arguments were not provided:\n${missing.map((m) => `  ${m}`).join('\n')}`);
  }

  return { path: pathParts, node, values, globals };
}
