// A subset of Go text/template, enough for docker `--format`: fields (.A.B), $vars, "strings",
// numbers, (groups), pipes, if/else/range/with/end, {{- trim -}}, and the functions docker users
// reach for (json, index, len, join, lower, upper, title, split, printf, print, println, eq, ne,
// lt, le, gt, ge, not, and, or, table-less). Methods are JS functions on the data (e.g. .Label "k").

export class TemplateError extends Error {}

// ---------------------------------------------------------------------------------------------
// Lexing: split into text and actions.
function splitActions(src) {
  const parts = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open === -1) {
      parts.push({ text: src.slice(i) });
      break;
    }
    parts.push({ text: src.slice(i, open) });
    const close = src.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError('template: :1: unclosed action');
    let inner = src.slice(open + 2, close);
    let trimLeft = false;
    let trimRight = false;
    if (inner.startsWith('- ') || inner === '-') {
      trimLeft = true;
      inner = inner.slice(1);
    }
    if (inner.endsWith(' -')) {
      trimRight = true;
      inner = inner.slice(0, -1);
    }
    parts.push({ action: inner.trim(), pos: open + 2, trimLeft, trimRight });
    i = close + 2;
  }
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    if (p.action === undefined) continue;
    if (p.trimLeft && parts[k - 1]?.text !== undefined) parts[k - 1].text = parts[k - 1].text.replace(/\s+$/, '');
    if (p.trimRight && parts[k + 1]?.text !== undefined) parts[k + 1].text = parts[k + 1].text.replace(/^\s+/, '');
  }
  return parts.filter((p) => p.action !== undefined || p.text !== '');
}

function tokenize(s, base) {
  const toks = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const pos = base + i;
    if (ch === '(' || ch === ')' || ch === '|' || ch === ',') {
      toks.push({ t: ch, pos });
      i++;
    } else if (s.startsWith(':=', i)) {
      toks.push({ t: ':=', pos });
      i += 2;
    } else if (ch === '=') {
      toks.push({ t: ':=', pos });
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      let str = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\') {
          const n = s[j + 1];
          str += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          j += 2;
        } else str += s[j++];
      }
      if (j >= s.length) throw new TemplateError('template: :1: unterminated quoted string');
      toks.push({ t: 'str', v: str, pos });
      i = j + 1;
    } else if (ch === '`') {
      const j = s.indexOf('`', i + 1);
      if (j === -1) throw new TemplateError('template: :1: unterminated raw quoted string');
      toks.push({ t: 'str', v: s.slice(i + 1, j), pos });
      i = j + 1;
    } else if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(s[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?/.exec(s.slice(i));
      toks.push({ t: 'num', v: Number(m[0]), pos });
      i += m[0].length;
    } else if (ch === '.' || ch === '$') {
      const m = /^(\$[A-Za-z0-9_]*|\.)?((?:\.?[A-Za-z_][A-Za-z0-9_]*)*)/.exec(s.slice(i));
      let head = m[1] ?? '';
      let rest = m[2] ?? '';
      if (head === '.' && rest) {
        rest = '.' + rest;
        head = '';
      }
      const len = m[0].length;
      if (len === 0) throw new TemplateError(`template: :1: unexpected <${ch}> in operand`);
      const fields = rest.split('.').filter(Boolean);
      if (head.startsWith('$')) toks.push({ t: 'var', name: head, fields, pos });
      else {
        if (m[0] === '.' && /[A-Za-z_]/.test(s[i + 1] ?? '')) throw new TemplateError('template: :1: unexpected <.> in operand');
        toks.push({ t: 'field', fields, pos });
      }
      i += len;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
      toks.push({ t: 'ident', v: m[0], pos });
      i += m[0].length;
    } else {
      throw new TemplateError(`template: :1: unexpected "${ch}" in command`);
    }
  }
  return toks;
}

// ---------------------------------------------------------------------------------------------
// Parsing.
function parsePipeline(toks) {
  let k = 0;
  const decl = [];
  if (toks[0]?.t === 'var') {
    let j = 0;
    const names = [];
    while (toks[j]?.t === 'var') {
      names.push(toks[j].name);
      j++;
      if (toks[j]?.t === ',') j++;
      else break;
    }
    if (toks[j]?.t === ':=') {
      decl.push(...names);
      k = j + 1;
    }
  }
  const cmds = [];
  let cur = [];
  const parseOperand = () => {
    const tok = toks[k++];
    if (!tok) throw new TemplateError('template: :1: missing value for command');
    let node;
    if (tok.t === '(') {
      const start = k;
      let depth = 1;
      while (k < toks.length && depth > 0) {
        if (toks[k].t === '(') depth++;
        if (toks[k].t === ')') depth--;
        k++;
      }
      if (depth !== 0) throw new TemplateError('template: :1: unclosed left paren');
      node = { kind: 'group', pipe: parsePipeline(toks.slice(start, k - 1)), pos: tok.pos };
      if (toks[k]?.t === 'field' && toks[k].pos === toks[k - 1].pos + 1) {
        node = { kind: 'chain', base: node, fields: toks[k].fields, pos: toks[k].pos };
        k++;
      }
      return node;
    }
    if (tok.t === ')') throw new TemplateError('template: :1: unexpected right paren');
    if (tok.t === 'str' || tok.t === 'num') return { kind: 'lit', v: tok.v };
    if (tok.t === 'field') return { kind: 'field', fields: tok.fields, pos: tok.pos };
    if (tok.t === 'var') return { kind: 'var', name: tok.name, fields: tok.fields, pos: tok.pos };
    if (tok.t === 'ident') {
      if (tok.v === 'true' || tok.v === 'false') return { kind: 'lit', v: tok.v === 'true' };
      if (tok.v === 'nil') return { kind: 'lit', v: null };
      return { kind: 'func', name: tok.v, pos: tok.pos };
    }
    throw new TemplateError(`template: :1: unexpected "${tok.t}" in operand`);
  };
  while (k < toks.length) {
    if (toks[k].t === '|') {
      if (!cur.length) throw new TemplateError('template: :1: missing command');
      cmds.push(cur);
      cur = [];
      k++;
      continue;
    }
    cur.push(parseOperand());
  }
  if (!cur.length) throw new TemplateError('template: :1: missing value for command');
  cmds.push(cur);
  return { decl, cmds };
}

function parse(src) {
  const parts = splitActions(src);
  const root = { kind: 'list', items: [] };
  const stack = [root];
  const top = () => stack[stack.length - 1];
  for (const p of parts) {
    if (p.action === undefined) {
      top().items.push({ kind: 'text', v: p.text });
      continue;
    }
    const a = p.action;
    if (a.startsWith('/*')) continue;
    const kw = /^(if|range|with|else|end)\b/.exec(a)?.[1];
    const rest = kw ? a.slice(kw.length).trim() : a;
    if (kw === 'if' || kw === 'range' || kw === 'with') {
      const node = { kind: kw, pipe: parsePipeline(tokenize(rest, p.pos)), body: { kind: 'list', items: [] }, alt: null };
      top().items.push(node);
      stack.push(node.body);
      node.body.owner = node;
      continue;
    }
    if (kw === 'else') {
      const list = stack.pop();
      const owner = list?.owner;
      if (!owner) throw new TemplateError('template: :1: unexpected {{else}}');
      owner.alt = { kind: 'list', items: [], owner };
      if (rest.startsWith('if')) {
        const nested = {
          kind: 'if',
          pipe: parsePipeline(tokenize(rest.slice(2).trim(), p.pos)),
          body: { kind: 'list', items: [] },
          alt: null,
          chained: true,
        };
        nested.body.owner = nested;
        owner.alt.items.push(nested);
        stack.push(nested.body);
      } else stack.push(owner.alt);
      continue;
    }
    if (kw === 'end') {
      // `else if` chains never push extra frames, so one pop closes the whole chain.
      const list = stack.pop();
      if (!list?.owner) throw new TemplateError('template: :1: unexpected {{end}}');
      continue;
    }
    top().items.push({ kind: 'action', pipe: parsePipeline(tokenize(a, p.pos)) });
  }
  if (stack.length !== 1) throw new TemplateError('template: :1: unexpected EOF');
  return root;
}

// ---------------------------------------------------------------------------------------------
// Evaluation.
export function goString(v) {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'function') return '<func>';
  return `map[${Object.keys(v)
    .sort()
    .map((k) => `${k}:${goString(v[k])}`)
    .join(' ')}]`;
}

const truthy = (v) =>
  !(v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0));

function goJson(v) {
  return JSON.stringify(v === undefined ? null : v, (_k, val) => (typeof val === 'function' ? undefined : val));
}

function printf(fmt, ...args) {
  let i = 0;
  return String(fmt).replace(/%([-+ 0#]*\d*(?:\.\d+)?)([svdqtfx%])/g, (_m, _flags, verb) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (verb === 'q') return JSON.stringify(goString(a));
    if (verb === 'd') return String(Math.trunc(Number(a)));
    if (verb === 'x') return Number(a).toString(16);
    return goString(a);
  });
}

const FUNCS = {
  json: (v) => goJson(v),
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (cur === null || cur === undefined) throw new TemplateError('index of untyped nil');
      cur = cur[k];
    }
    return cur === undefined ? undefined : cur;
  },
  len: (v) => (v === null || v === undefined ? 0 : typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).length : v.length),
  join: (list, sep) => (list ?? []).map(goString).join(sep),
  split: (s, sep) => String(s).split(sep),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  title: (s) => String(s).replace(/\b\w/g, (m) => m.toUpperCase()),
  pad: (s, l, r) => `${' '.repeat(l)}${s}${' '.repeat(r)}`,
  truncate: (s, n) => String(s).slice(0, n),
  printf,
  print: (...a) => a.map(goString).join(''),
  println: (...a) => a.map(goString).join(' ') + '\n',
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
};

function execError(opts, pos, expr, msg) {
  return new TemplateError(`template: :1:${pos}: executing "" at <${expr}>: ${msg}`);
}

function walkFields(base, fields, opts, pos, exprPrefix) {
  let cur = base;
  const expr = exprPrefix + fields.map((f) => `.${f}`).join('');
  for (const f of fields) {
    if (cur === null || cur === undefined) throw execError(opts, pos, expr, `nil pointer evaluating interface {}.${f}`);
    if (typeof cur !== 'object') throw execError(opts, pos, expr, `can't evaluate field ${f} in type ${typeof cur}`);
    if (!(f in cur)) {
      if (opts.structType && cur === opts.root) {
        throw execError(opts, pos, expr, `can't evaluate field ${f} in type ${opts.structType}`);
      }
      if (opts.missingKey === 'error') throw execError(opts, pos, expr, `map has no entry for key "${f}"`);
      cur = undefined;
      continue;
    }
    cur = cur[f];
  }
  return cur;
}

function evalOperand(node, dot, vars, opts) {
  switch (node.kind) {
    case 'lit':
      return node.v;
    case 'field':
      return walkFields(dot, node.fields, opts, node.pos, '');
    case 'var': {
      if (!(node.name in vars)) throw new TemplateError(`template: :1: undefined variable "${node.name}"`);
      return walkFields(vars[node.name], node.fields, opts, node.pos, node.name);
    }
    case 'group':
      return evalPipe(node.pipe, dot, vars, opts);
    case 'chain':
      return walkFields(evalOperand(node.base, dot, vars, opts), node.fields, opts, node.pos, '');
    case 'func': {
      const fn = FUNCS[node.name];
      if (!fn) throw new TemplateError(`template: :1: function "${node.name}" not defined`);
      return fn();
    }
    default:
      throw new TemplateError('template: bad node');
  }
}

function evalCmd(cmd, dot, vars, opts, final, hasFinal) {
  const [head, ...args] = cmd;
  const argVals = () => {
    const vals = args.map((a) => evalOperand(a, dot, vars, opts));
    if (hasFinal) vals.push(final);
    return vals;
  };
  if (head.kind === 'func') {
    const fn = FUNCS[head.name];
    if (!fn) throw new TemplateError(`template: :1: function "${head.name}" not defined`);
    try {
      return fn(...argVals());
    } catch (e) {
      if (e instanceof TemplateError && !e.message.startsWith('template:')) {
        throw execError(opts, head.pos, head.name, `error calling ${head.name}: ${e.message}`);
      }
      throw e;
    }
  }
  const v = evalOperand(head, dot, vars, opts);
  if (typeof v === 'function') return v(...argVals());
  if (args.length || hasFinal) throw new TemplateError(`template: :1: can't give argument to non-function`);
  return v;
}

function evalPipe(pipe, dot, vars, opts) {
  let val;
  pipe.cmds.forEach((cmd, i) => {
    val = evalCmd(cmd, dot, vars, opts, val, i > 0);
  });
  if (pipe.decl.length === 1) vars[pipe.decl[0]] = val;
  return val;
}

function run(list, dot, vars, opts, outArr) {
  for (const node of list.items) {
    switch (node.kind) {
      case 'text':
        outArr.push(node.v);
        break;
      case 'action': {
        const v = evalPipe(node.pipe, dot, vars, opts);
        if (node.pipe.decl.length === 0) outArr.push(goString(v));
        break;
      }
      case 'if': {
        const v = evalPipe({ ...node.pipe, decl: [] }, dot, vars, opts);
        if (truthy(v)) run(node.body, dot, { ...vars }, opts, outArr);
        else if (node.alt) run(node.alt, dot, { ...vars }, opts, outArr);
        break;
      }
      case 'with': {
        const v = evalPipe({ ...node.pipe, decl: [] }, dot, vars, opts);
        if (truthy(v)) run(node.body, v, { ...vars }, opts, outArr);
        else if (node.alt) run(node.alt, dot, { ...vars }, opts, outArr);
        break;
      }
      case 'range': {
        const v = evalPipe({ ...node.pipe, decl: [] }, dot, vars, opts);
        const entries =
          v === null || v === undefined
            ? []
            : Array.isArray(v)
              ? v.map((x, i) => [i, x])
              : Object.keys(v)
                  .sort()
                  .map((k) => [k, v[k]]);
        if (entries.length === 0 && node.alt) run(node.alt, dot, { ...vars }, opts, outArr);
        for (const [k, x] of entries) {
          const scope = { ...vars };
          if (node.pipe.decl.length === 1) scope[node.pipe.decl[0]] = x;
          if (node.pipe.decl.length === 2) {
            scope[node.pipe.decl[0]] = k;
            scope[node.pipe.decl[1]] = x;
          }
          run(node.body, x, scope, opts, outArr);
        }
        break;
      }
      default:
        break;
    }
  }
}

/** Compile once (throws TemplateError on a parse error), then render many values. */
export function compile(src, { missingKey = 'default', structType = null } = {}) {
  const tree = parse(src);
  return (data) => {
    const parts = [];
    run(tree, data, { $: data }, { missingKey, structType, root: data }, parts);
    return parts.join('');
  };
}
