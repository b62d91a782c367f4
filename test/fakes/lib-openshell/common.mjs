// Shared plumbing for the fake `openshell` and `docker` programs: state files with a lock and
// atomic rename, the argv log, ANSI helpers, a tiny YAML emitter and small utilities.
// Node builtins only.
import fs from 'node:fs';
import path from 'node:path';

/** Thrown to end the program with a message and an exit code (the caller decides the framing). */
export class Exit extends Error {
  constructor(code, stderr = '', stdout = '') {
    super(stderr || `exit ${code}`);
    this.exitCode = code;
    this.stderrText = stderr;
    this.stdoutText = stdout;
  }
}

export function sleepSync(ms) {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function out(text) {
  process.stdout.write(text);
}

export function err(text) {
  process.stderr.write(text);
}

// ---------------------------------------------------------------------------------------------
// Argv log: one JSON line per invocation. Only env var NAMES are recorded, never values.
const ENV_NAME_RE = /KEY|TOKEN|SECRET|PASSWORD|OPENSHELL_|DOCKER_/;

export function logInvocation(tool, stateDir) {
  const file = process.env.FAKE_CLI_LOG || path.join(stateDir, 'argv.log');
  const envNames = Object.keys(process.env)
    .filter((n) => !n.startsWith('FAKE_') && ENV_NAME_RE.test(n))
    .sort();
  const line = JSON.stringify({
    tool,
    argv: process.argv.slice(2),
    env_names: envNames,
    ts: new Date().toISOString(),
    cwd: process.cwd(),
    pid: process.pid,
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, line + '\n');
}

// ---------------------------------------------------------------------------------------------
// JSON state with a directory lock (mkdir is atomic) and temp-file + rename writes.
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

export function withLock(lockDir, fn) {
  const deadline = Date.now() + 15_000;
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      try {
        fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      } catch {
        /* best effort */
      }
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      // Steal a lock whose owner died.
      let owner = 0;
      try {
        owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch {
        /* being created or removed */
      }
      let age = 0;
      try {
        age = Date.now() - fs.statSync(lockDir).mtimeMs;
      } catch {
        continue;
      }
      if ((owner && !pidAlive(owner)) || (!owner && age > 2000)) {
        try {
          fs.rmSync(lockDir, { recursive: true, force: true });
        } catch {
          /* someone else did */
        }
        continue;
      }
      if (Date.now() > deadline) throw new Error(`fake: timed out waiting for lock ${lockDir}`);
      sleepSync(5 + Math.floor(Math.random() * 10));
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

export function readJson(file, fallback) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return structuredClone(fallback);
    throw e;
  }
  return JSON.parse(text);
}

export function writeJsonAtomic(file, value, pretty = true) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, pretty ? 2 : 0) + '\n');
  fs.renameSync(tmp, file);
}

/** Locked read-modify-write of a JSON file. `fn` mutates the object in place or returns a value. */
export function updateJson(file, fallback, fn) {
  return withLock(`${file}.lock`, () => {
    const state = readJson(file, fallback);
    const result = fn(state);
    writeJsonAtomic(file, state);
    return result;
  });
}

// ---------------------------------------------------------------------------------------------
// ANSI (the real openshell colours even when piped).
const esc = (open, close) => (s) => `\u001b[${open}m${s}\u001b[${close}m`;
export const c = {
  bold: esc(1, 22),
  dim: esc(2, 22),
  red: esc(31, 39),
  green: esc(32, 39),
  yellow: esc(33, 39),
  blue: esc(34, 39),
  cyan: esc(36, 39),
};

export const stripAnsi = (s) => s.replace(/\u001b\[[0-9;]*m/g, '');

export const padEnd = (s, n) => s + ' '.repeat(Math.max(0, n - stripAnsi(s).length));

// ---------------------------------------------------------------------------------------------
// Minimal YAML emitter (block style) for `-o yaml` and re-serialised policies.
const PLAIN_OK = /^[A-Za-z_/][A-Za-z0-9_./@+-]*$/;
const YAML_WORDS = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function yamlScalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  const s = String(v);
  if (s !== '' && PLAIN_OK.test(s) && !YAML_WORDS.test(s)) return s;
  return JSON.stringify(s);
}

export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map((item) => {
        if (item !== null && typeof item === 'object' && Object.keys(item).length > 0) {
          const inner = toYaml(item, indent + 2);
          return `${pad}- ${inner.slice(indent + 2)}`;
        }
        return `${pad}- ${inlineEmpty(item) ?? yamlScalar(item)}\n`;
      })
      .join('');
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return `${pad}{}\n`;
    return keys
      .map((k) => {
        const v = value[k];
        const key = yamlScalar(k);
        if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) {
          return `${pad}${key}:\n${toYaml(v, Array.isArray(v) ? indent : indent + 2)}`;
        }
        return `${pad}${key}: ${inlineEmpty(v) ?? yamlScalar(v)}\n`;
      })
      .join('');
  }
  return `${pad}${yamlScalar(value)}\n`;
}

function inlineEmpty(v) {
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (v !== null && typeof v === 'object' && Object.keys(v).length === 0) return '{}';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
export function utcStamp(ms) {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function randomHex(bytes) {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return s;
}

export function isTruthyEnv(v) {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** `1`/`true` → every name matches; otherwise a comma-separated list of names. */
export function envListMatches(v, ...names) {
  if (!v) return false;
  if (v === '1' || v.toLowerCase() === 'true' || v === '*') return true;
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  return names.some((n) => n && items.includes(n));
}
