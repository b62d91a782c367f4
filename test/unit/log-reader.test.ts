import { describe, expect, it } from 'vitest';
import { LogosError } from '../../src/core/errors.js';
import { matches, parseFilter, parseLevel, parseLineCount, parseSince, type Selection } from '../../src/log/filter.js';
import { escapeControls, formatEntry, parseColorMode } from '../../src/log/format.js';
import { parseLine, type LogEntry } from '../../src/log/record.js';

const rec = (fields: Record<string, unknown>): LogEntry => parseLine(JSON.stringify(fields));
const sel = (s: Partial<Selection>): Selection => ({ filters: [], ...s });

function invalid(fn: () => unknown): LogosError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LogosError);
    const e = err as LogosError;
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.exitCode).toBe(2);
    expect(e.hint).toBeTruthy();
    return e;
  }
  throw new Error('expected an INVALID_ARGUMENT error');
}

describe('parseLine', () => {
  it.each([
    ['{"level":"info","msg":"hi"}', 'record'],
    ['  {"a":1}', 'record'],
    ['{"a":1}\r', 'record'],
    ['plain text', 'text'],
    ['{"half":', 'text'],
    ['[1,2]', 'text'],
    ['"a string"', 'text'],
    ['', 'text'],
  ])('%j is a %s line', (line, kind) => {
    expect(parseLine(line).kind).toBe(kind);
  });

  it('keeps the line as it was, without a trailing CR', () => {
    expect(parseLine('{"a":1}\r').line).toBe('{"a":1}');
    expect(parseLine('oops\tx').line).toBe('oops\tx');
  });
});

describe('parseFilter', () => {
  it.each([
    ['sandbox=work', { key: 'sandbox', op: '=', value: 'work' }],
    ['sandbox!=work', { key: 'sandbox', op: '!=', value: 'work' }],
    ['msg=a=b', { key: 'msg', op: '=', value: 'a=b' }],
    ['route=', { key: 'route', op: '=', value: '' }],
    ['level=WARN', { key: 'level', op: '=', value: 'warn' }],
    ['level!=debug', { key: 'level', op: '!=', value: 'debug' }],
    ['pid=42', { key: 'pid', op: '=', value: '42' }],
  ])('%s', (text, want) => {
    expect(parseFilter(text)).toEqual(want);
  });

  it.each(['sandbox', '=work', '!=work', 'a b=c', '', 'level=loud', 'level!=verbose'])('rejects %j with a hint', (text) => {
    invalid(() => parseFilter(text));
  });
});

describe('matching', () => {
  const info = rec({ level: 'info', ts: '2025-01-01T10:00:00.000Z', source: 'cli', sandbox: 'work', pid: 42, ok: true, msg: 'hello' });
  const debug = rec({ level: 'debug', ts: '2025-01-01T10:00:01.000Z', source: 'runner', msg: 'detail' });
  const numeric = rec({ level: 50, ts: '2025-01-01T10:00:02.000Z', msg: 'pino number level' });
  const noLevel = rec({ msg: 'no level, no time' });
  const text = parseLine('Error: something crashed');
  const f = (...texts: string[]) => texts.map(parseFilter);

  it.each<[string, Selection, LogEntry, boolean]>([
    ['k=v matches the same string', sel({ filters: f('sandbox=work') }), info, true],
    ['k=v does not match another value', sel({ filters: f('sandbox=other') }), info, false],
    ['k=v does not match a missing field', sel({ filters: f('sandbox=work') }), debug, false],
    ['k!=v matches another value', sel({ filters: f('sandbox!=other') }), info, true],
    ['k!=v matches a missing field', sel({ filters: f('sandbox!=work') }), debug, true],
    ['k!=v excludes the value', sel({ filters: f('sandbox!=work') }), info, false],
    ['k= matches a missing field', sel({ filters: f('sandbox=') }), debug, true],
    ['numbers compare as strings', sel({ filters: f('pid=42') }), info, true],
    ['booleans compare as strings', sel({ filters: f('ok=true') }), info, true],
    ['filters AND together (both hold)', sel({ filters: f('sandbox=work', 'source=cli') }), info, true],
    ['filters AND together (one fails)', sel({ filters: f('sandbox=work', 'source=runner') }), info, false],
    ['level= compares by name', sel({ filters: f('level=info') }), info, true],
    ['level= by name for numeric levels', sel({ filters: f('level=error') }), numeric, true],
    ['level!= by name', sel({ filters: f('level!=debug') }), debug, false],
    ['a text line fails any filter', sel({ filters: f('sandbox!=work') }), text, false],
    ['a text line passes no selection', sel({}), text, true],
    ['a text line fails --level', sel({ minLevel: 'trace' }), text, false],
    ['a text line passes --since', sel({ since: Date.parse('2030-01-01T00:00:00Z') }), text, true],
  ])('%s', (_name, s, entry, want) => {
    expect(matches(entry, s)).toBe(want);
  });

  it.each<[string, boolean, boolean, boolean, boolean]>([
    // min level, then: info, debug, error (numeric), no level
    ['trace', true, true, true, false],
    ['debug', true, true, true, false],
    ['info', true, false, true, false],
    ['warn', false, false, true, false],
    ['error', false, false, true, false],
    ['fatal', false, false, false, false],
  ])('--level %s keeps records at or above it', (min, wantInfo, wantDebug, wantError, wantNone) => {
    const s = sel({ minLevel: parseLevel(min) });
    expect([info, debug, numeric, noLevel].map((e) => matches(e, s))).toEqual([wantInfo, wantDebug, wantError, wantNone]);
  });

  it.each<[string, boolean, boolean]>([
    // since, then: info (10:00:00), debug (10:00:01)
    ['2025-01-01T09:00:00Z', true, true],
    ['2025-01-01T10:00:00Z', true, true],
    ['2025-01-01T10:00:00.500Z', false, true],
    ['2025-01-01T11:00:00Z', false, false],
  ])('--since %s keeps records at or after it', (since, wantInfo, wantDebug) => {
    const s = sel({ since: parseSince(since) });
    expect([info, debug].map((e) => matches(e, s))).toEqual([wantInfo, wantDebug]);
    // a record without a time cannot be placed, so it is kept
    expect(matches(noLevel, s)).toBe(true);
  });
});

describe('flag values', () => {
  const now = Date.parse('2025-06-01T12:00:00.000Z');
  it.each([
    ['5s', now - 5_000],
    ['30m', now - 30 * 60_000],
    ['2h', now - 2 * 3_600_000],
    ['1d', now - 86_400_000],
    ['90', now - 90_000],
    ['2025-01-31T14:00:00Z', Date.parse('2025-01-31T14:00:00Z')],
    ['2025-01-31T14:00:00.250+02:00', Date.parse('2025-01-31T12:00:00.250Z')],
    ['2025-01-31', Date.parse('2025-01-31T00:00:00Z')],
  ])('--since %s', (text, want) => {
    expect(parseSince(text, now)).toBe(want);
  });

  it.each(['', 'yesterday', '5 minutes', '-5m', '5y', '2025-13-45', '2025-01-01Tnope'])('rejects --since %j', (text) => {
    expect(invalid(() => parseSince(text, now)).message).toContain('--since');
  });

  it.each(['trace', 'DEBUG', 'info', 'warn', 'error', 'fatal'])('--level %s', (l) => expect(parseLevel(l)).toBe(l.toLowerCase()));
  it.each(['warning', 'verbose', '', '30'])('rejects --level %j', (l) => {
    expect(invalid(() => parseLevel(l)).hint).toContain('trace, debug, info, warn, error, fatal');
  });

  it.each([
    ['0', 0],
    ['50', 50],
    ['200', 200],
  ])('--lines %s', (text, n) => expect(parseLineCount(text)).toBe(n));
  it.each(['-1', '1.5', 'ten', ''])('rejects --lines %j', (text) => {
    invalid(() => parseLineCount(text));
  });

  it.each(['auto', 'always', 'never'])('--color %s', (c) => expect(parseColorMode(c)).toBe(c));
  it.each(['yes', 'true', 'AUTO', ''])('rejects --color %j', (c) => {
    invalid(() => parseColorMode(c));
  });
});

describe('formatEntry', () => {
  const base = { ts: '2025-01-01T10:02:03.045Z', pid: 7 };
  it.each<[string, Record<string, unknown> | string, string]>([
    ['header and message', { ...base, level: 'info', source: 'cli', msg: 'route added' }, '10:02:03.045 INFO  cli route added'],
    [
      'correlation fields first, in a fixed order, then the rest as written',
      { ...base, level: 'warn', source: 'runner', msg: 'slow', latency_ms: 900, gateway: 'logos', route: 'r1', sandbox: 'work', task_id: 't_1' },
      '10:02:03.045 WARN  runner slow task_id=t_1 sandbox=work route=r1 gateway=logos latency_ms=900',
    ],
    [
      'values with spaces or quotes are quoted, objects as JSON',
      { ...base, level: 'error', source: 'cli', msg: 'failed', detail: 'no route "x"', empty: '', err: { code: 'AUTH' }, list: [1, 2], nothing: null },
      '10:02:03.045 ERROR cli failed detail="no route \\"x\\"" empty="" err={"code":"AUTH"} list=[1,2] nothing=null',
    ],
    ['long values are cut', { ...base, level: 'debug', source: 'cli', msg: 'm', body: 'a'.repeat(500) }, `10:02:03.045 DEBUG cli m body=${'a'.repeat(159)}…`],
    [
      'control characters are escaped, not sent to the terminal',
      { ...base, level: 'info', source: 'cli', msg: 'spinner \u001b[2K\rdone\nnext', out: 'x\u001by' },
      '10:02:03.045 INFO  cli spinner \\u001b[2K\\rdone\\nnext out="x\\u001by"',
    ],
    ['numeric pino levels by name', { ...base, level: 60, source: 'daemon', msg: 'boom' }, '10:02:03.045 FATAL daemon boom'],
    ['missing time, level and source', { msg: 'bare' }, '--:--:--.--- -     - bare'],
    ['an unknown level is shown as it is', { ...base, level: 'notice', source: 'x', msg: 'y' }, '10:02:03.045 NOTICE x y'],
    ['secrets are masked even if the log was not', { ...base, level: 'info', source: 'cli', msg: 'using OPENAI_API_KEY=sk-abcdefghijklmnop1234 now' }, '10:02:03.045 INFO  cli using OPENAI_API_KEY=sk-…1234 now'],
    ['a line that is not JSON is shown as it is', 'Error: worker crashed at line 3', 'Error: worker crashed at line 3'],
    ['…with control characters escaped and secrets masked', 'panic \u001b[31m Bearer abcdefghijkl0123', 'panic \\u001b[31m Bearer …0123'],
  ])('%s', (_name, input, want) => {
    const entry = typeof input === 'string' ? parseLine(input) : rec(input);
    expect(formatEntry(entry, { color: false, utc: true })).toBe(want);
  });

  it.each<[string, string]>([
    ['trace', '\u001b[90mTRACE\u001b[39m'],
    ['debug', '\u001b[36mDEBUG\u001b[39m'],
    ['info', '\u001b[32mINFO\u001b[39m '],
    ['warn', '\u001b[33mWARN\u001b[39m '],
    ['error', '\u001b[31mERROR\u001b[39m'],
    ['fatal', '\u001b[1;31mFATAL\u001b[22;39m'],
  ])('with colour, only the %s label is coloured', (level, label) => {
    const line = formatEntry(rec({ ...base, level, source: 'cli', msg: 'm', sandbox: 'work' }), { color: true, utc: true });
    expect(line).toBe(`10:02:03.045 ${label} cli m sandbox=work`);
  });

  it('without colour there are no escape sequences at all', () => {
    const line = formatEntry(rec({ ...base, level: 'error', source: 'cli', msg: 'm' }), { color: false, utc: true });
    expect(line).not.toContain('\u001b');
  });

  it('uses local time unless told otherwise', () => {
    const d = new Date(base.ts);
    const hhmm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    expect(formatEntry(rec({ ...base, level: 'info', msg: 'm' }), { color: false }).startsWith(`${hhmm}:03.045 `)).toBe(true);
  });

  it('escapeControls keeps printable text, including non-ASCII', () => {
    expect(escapeControls('héllo — ✓ 日本')).toBe('héllo — ✓ 日本');
    expect(escapeControls('a\u0000b\u007fc\u009bd')).toBe('a\\u0000b\\u007fc\\u009bd');
  });
});
