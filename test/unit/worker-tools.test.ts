/** The file tools and argument checking, each in a fresh temp directory as the sandbox. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TOOL_OUTPUT_BYTES } from '../../src/core/protocol.js';
import type { ToolContext } from '../../src/worker/tool-defs.js';
import { editFileTool } from '../../src/worker/tool-edit-file.js';
import { globMatcher } from '../../src/worker/tool-fs.js';
import { listFilesTool, MAX_LIST_ENTRIES } from '../../src/worker/tool-list-files.js';
import { capToolText, HeadTail } from '../../src/worker/tool-output.js';
import { readFileTool } from '../../src/worker/tool-read-file.js';
import { MAX_MATCHES, searchTool } from '../../src/worker/tool-search.js';
import { writeFileTool } from '../../src/worker/tool-write-file.js';
import { checkToolCall, runTool } from '../../src/worker/tools.js';

let dir: string;
let ctx: ToolContext;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logos-tools-'));
  ctx = { cwd: dir };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const put = (rel: string, content: string | Buffer): void => {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), content);
};

describe('write_file', () => {
  it('creates parent directories and says how many bytes it wrote', async () => {
    const r = await writeFileTool({ path: 'a/b/c.txt', content: 'héllo\n' }, ctx);
    expect(r).toEqual({ ok: true, text: 'wrote 7 bytes to a/b/c.txt (new file)' });
    expect(readFileSync(join(dir, 'a/b/c.txt'), 'utf8')).toBe('héllo\n');
    expect((await writeFileTool({ path: 'a/b/c.txt', content: 'x' }, ctx)).text).toBe('wrote 1 bytes to a/b/c.txt (replacing 7 bytes)');
  });

  it('absolute paths are taken as they are; a directory is an error', async () => {
    expect((await writeFileTool({ path: join(dir, 'abs.txt'), content: 'y' }, ctx)).ok).toBe(true);
    mkdirSync(join(dir, 'd'));
    expect(await writeFileTool({ path: 'd', content: 'z' }, ctx)).toEqual({ ok: false, text: 'd is a directory' });
  });
});

describe('read_file', () => {
  it('shows lines with numbers', async () => {
    put('f.txt', 'one\ntwo\r\nthree');
    expect(await readFileTool({ path: 'f.txt' }, ctx)).toEqual({ ok: true, text: '     1\tone\n     2\ttwo\n     3\tthree\n' });
  });

  it('offset and limit are lines, 1-based, and say where to read on', async () => {
    put('f.txt', Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    const r = await readFileTool({ path: 'f.txt', offset: 3, limit: 2 }, ctx);
    expect(r.text).toBe('     3\tline 3\n     4\tline 4\n[lines 3–4 shown; the file goes on: read on with offset=5]');
    expect((await readFileTool({ path: 'f.txt', offset: 9 }, ctx)).text).toBe('     9\tline 9\n    10\tline 10\n');
    expect(await readFileTool({ path: 'f.txt', offset: 11 }, ctx)).toEqual({ ok: false, text: 'f.txt has 10 lines: offset 11 is past the end' });
  });

  it('reads 2000 lines by default and counts the rest', async () => {
    put('long.txt', Array.from({ length: 2500 }, (_, i) => `${i + 1}`).join('\n'));
    const r = await readFileTool({ path: 'long.txt' }, ctx);
    expect(r.text.split('\n')).toHaveLength(2001);
    expect(r.text.endsWith('[lines 1–2000 of 2500 shown; the file goes on: read on with offset=2001]')).toBe(true);
  });

  it('stops at the output budget on a whole line', async () => {
    put('wide.txt', Array.from({ length: 500 }, () => 'x'.repeat(1000)).join('\n'));
    const r = await readFileTool({ path: 'wide.txt', limit: 500 }, ctx);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_BYTES);
    expect(r.text).toMatch(/\[lines 1–\d+ shown; the file goes on: read on with offset=\d+\]$/);
  });

  it('refuses binary files, big files without offset/limit, directories and missing files', async () => {
    put('bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));
    expect((await readFileTool({ path: 'bin' }, ctx)).text).toMatch(/looks binary/);
    put('big.txt', 'a\n'.repeat(200_000));
    const big = await readFileTool({ path: 'big.txt' }, ctx);
    expect(big).toMatchObject({ ok: false, text: expect.stringContaining('400000 bytes, over the 256 KiB') });
    expect((await readFileTool({ path: 'big.txt', offset: 199_999 }, ctx)).text).toBe('199999\ta\n200000\ta\n');
    mkdirSync(join(dir, 'sub'));
    expect((await readFileTool({ path: 'sub' }, ctx)).text).toMatch(/is a directory: use list_files/);
    expect(await readFileTool({ path: 'nope.txt' }, ctx)).toEqual({ ok: false, text: 'no such file or directory: nope.txt' });
  });

  it('an empty file says so; an endless line is shown cut', async () => {
    put('empty', '');
    expect((await readFileTool({ path: 'empty' }, ctx)).text).toBe('(empty is empty)');
    put('oneline', 'y'.repeat(100_000));
    const r = await readFileTool({ path: 'oneline' }, ctx);
    expect(r.text).toContain('… [line cut: ');
    expect(r.text.length).toBeLessThan(3000);
  });
});

describe('edit_file', () => {
  it('replaces one exact occurrence, literally', async () => {
    put('a.py', 'x = 1\ny = 2\n');
    const r = await editFileTool({ path: 'a.py', old: 'y = 2', new: 'y = "$&$1"' }, ctx);
    expect(r).toEqual({ ok: true, text: 'replaced 1 occurrence in a.py at line 2 (now 17 bytes)' });
    expect(readFileSync(join(dir, 'a.py'), 'utf8')).toBe('x = 1\ny = "$&$1"\n');
  });

  it('says why it did not edit: not found, found N times, empty old', async () => {
    put('a.txt', 'ab ab ab');
    expect((await editFileTool({ path: 'a.txt', old: 'zz', new: 'y' }, ctx)).text).toMatch(/^old text not found in a.txt/);
    expect((await editFileTool({ path: 'a.txt', old: 'ab', new: 'y' }, ctx)).text).toMatch(/^old text found 3 times in a.txt/);
    expect((await editFileTool({ path: 'a.txt', old: '', new: 'y' }, ctx)).ok).toBe(false);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('ab ab ab');
    expect((await editFileTool({ path: 'missing', old: 'a', new: 'b' }, ctx)).text).toBe('no such file or directory: missing');
  });

  it('matches CRLF files with the \\n text read_file shows', async () => {
    put('w.txt', 'a\r\nb\r\nc\r\n');
    expect((await editFileTool({ path: 'w.txt', old: 'a\nb', new: 'A\nB' }, ctx)).ok).toBe(true);
    expect(readFileSync(join(dir, 'w.txt'), 'utf8')).toBe('A\r\nB\r\nc\r\n');
  });
});

describe('list_files', () => {
  beforeEach(() => {
    put('src/a.py', '');
    put('src/lib/b.py', '');
    put('src/lib/c.ts', '');
    put('README.md', '');
    put('.git/HEAD', '');
    put('node_modules/x/index.js', '');
  });

  it('lists recursively, sorted, directories with /, and says what it did not enter', async () => {
    expect((await listFilesTool({}, ctx)).text).toBe(
      ['.git/', 'README.md', 'node_modules/', 'src/', 'src/a.py', 'src/lib/', 'src/lib/b.py', 'src/lib/c.ts', '[not entered: .git/, node_modules/; pass one as path to list it]'].join('\n'),
    );
  });

  it('a path lists under it (paths shown as given); a pattern filters', async () => {
    expect((await listFilesTool({ path: 'src/lib' }, ctx)).text).toBe('src/lib/b.py\nsrc/lib/c.ts');
    expect((await listFilesTool({ pattern: '**/*.py' }, ctx)).text.split('\n').slice(0, 2)).toEqual(['src/a.py', 'src/lib/b.py']);
    expect((await listFilesTool({ pattern: '*.py' }, ctx)).text.split('\n').slice(0, 2)).toEqual(['src/a.py', 'src/lib/b.py']);
    expect((await listFilesTool({ path: 'node_modules' }, ctx)).text).toBe('node_modules/x/\nnode_modules/x/index.js');
    expect((await listFilesTool({ pattern: '*.rs' }, ctx)).text.split('\n')[0]).toBe('(nothing matches *.rs)');
  });

  it('says when the cap cut the listing', async () => {
    for (let i = 0; i < MAX_LIST_ENTRIES + 5; i++) put(`many/f${String(i).padStart(4, '0')}`, '');
    const r = await listFilesTool({ path: 'many' }, ctx);
    const lines = r.text.split('\n');
    expect(lines).toHaveLength(MAX_LIST_ENTRIES + 1);
    expect(lines[MAX_LIST_ENTRIES]).toBe(`[5 more entries not shown (at most ${MAX_LIST_ENTRIES}): narrow the path or the pattern]`);
  });

  it('a missing path is an error', async () => {
    expect(await listFilesTool({ path: 'nope' }, ctx)).toEqual({ ok: false, text: 'no such file or directory: nope' });
  });

  it('globs: **, *, ?, classes and alternatives', () => {
    const m = globMatcher('src/**/*.{ts,tsx}');
    expect(['src/a.ts', 'src/x/y/b.tsx', 'src/c.js', 'lib/a.ts'].map(m)).toEqual([true, true, false, false]);
    expect(['a1.txt', 'ab.txt', 'a12.txt'].map(globMatcher('a[0-9].txt'))).toEqual([true, false, false]);
    expect(['x/a.txt', 'b.txt'].map(globMatcher('?.txt'))).toEqual([true, true]);
  });
});

describe('search', () => {
  it('prints path:line: text for matching lines, with a summary', async () => {
    put('src/a.py', 'import os\nprint("Hello")\n');
    put('src/b.py', 'hello = 1\n');
    expect((await searchTool({ pattern: 'hello' }, ctx)).text).toBe('src/b.py:1: hello = 1\n[1 matching line in 1 file]');
    expect((await searchTool({ pattern: '(?i)hello', path: 'src' }, ctx)).text).toBe('src/a.py:2: print("Hello")\nsrc/b.py:1: hello = 1\n[2 matching lines in 2 files]');
    expect((await searchTool({ pattern: 'os', path: 'src/a.py' }, ctx)).text).toBe('src/a.py:1: import os\n[1 matching line in 1 file]');
  });

  it('skips and counts binary and huge files; says what it did not enter', async () => {
    put('bin.dat', Buffer.concat([Buffer.from('needle'), Buffer.from([0, 0])]));
    put('huge.txt', `needle\n${'x'.repeat(5 * 1024 * 1024)}`);
    put('node_modules/m.js', 'needle');
    put('ok.txt', 'no match here');
    const r = await searchTool({ pattern: 'needle' }, ctx);
    expect(r.text).toBe(
      [
        'no matches for "needle" (1 file searched)',
        '[skipped: 1 binary file, 1 file over 4 MiB (read them in parts with read_file)]',
        '[not entered: node_modules/; pass one as path to search it]',
      ].join('\n'),
    );
  });

  it('caps the matches and says so; a bad regex is an error', async () => {
    put('many.txt', 'match\n'.repeat(MAX_MATCHES + 50));
    const r = await searchTool({ pattern: 'match' }, ctx);
    expect(r.text.split('\n')).toHaveLength(MAX_MATCHES + 2);
    expect(r.text).toContain(`[stopped at ${MAX_MATCHES} matching lines: narrow the pattern or the path]`);
    expect((await searchTool({ pattern: '(' }, ctx)).text).toMatch(/^invalid regular expression "\(":/);
  });
});

describe('checkToolCall', () => {
  const offered = ['shell', 'read_file'] as const;
  const call = (name: string, args: string): Parameters<typeof checkToolCall>[0] => ({ id: 'c1', name, arguments: args });

  it('accepts valid arguments and coerces what local models send', () => {
    expect(checkToolCall(call('shell', '{"command":"ls","timeout_s":"30","extra":1}'), offered)).toEqual({ ok: true, tool: 'shell', args: { command: 'ls', timeout_s: 30 } });
    expect(checkToolCall(call('read_file', JSON.stringify(JSON.stringify({ path: 'a' }))), offered)).toEqual({ ok: true, tool: 'read_file', args: { path: 'a' } });
  });

  it('explains every problem', () => {
    const err = (name: string, args: string): string => {
      const r = checkToolCall(call(name, args), offered);
      return r.ok ? 'ok' : r.error;
    };
    expect(err('shell', '{"command": "ls"')).toMatch(/^the arguments are not valid JSON: /);
    expect(err('python', '{}')).toBe('unknown tool "python"; the tools are: shell, read_file');
    expect(err('write_file', '{}')).toBe('the tool write_file is not available in this task; the tools are: shell, read_file');
    expect(err('read_file', '{}')).toBe('missing required argument "path" (read_file takes path, offset, limit)');
    expect(err('read_file', '[1]')).toBe('the arguments must be a JSON object');
    expect(err('shell', '{"command":"ls","timeout_s":"soon"}')).toBe('argument "timeout_s" must be an integer');
    expect(err('', '{}')).toMatch(/no name/);
  });

  it('runTool turns a thrown error into an error result', async () => {
    const r = await runTool('read_file', { path: 'x' }, { cwd: join(dir, 'missing-dir') });
    expect(r).toEqual({ ok: false, text: 'no such file or directory: x' });
  });
});

describe('output caps', () => {
  it('HeadTail keeps the head and the tail with a note of the cut, never half a character', () => {
    const ht = new HeadTail(10);
    ht.add(Buffer.from('0123456789'));
    ht.add(Buffer.from('é'.repeat(20)));
    ht.add(Buffer.from('abcdefghij'));
    expect(ht.total).toBe(60);
    expect(ht.text()).toEqual({ text: '0123456789\n[… 40 bytes of output cut here: 60 bytes in all, the first 10 and the last 10 are shown …]\nabcdefghij', cut: true });
    const odd = new HeadTail(5);
    odd.add(Buffer.from('ééééééééé')); // 18 bytes: the cuts fall inside characters
    expect(odd.text().text).toBe('éé\n[… 10 bytes of output cut here: 18 bytes in all, the first 4 and the last 4 are shown …]\néé');
  });

  it('capToolText leaves short text alone and caps long text', () => {
    expect(capToolText('short')).toBe('short');
    const long = capToolText('x'.repeat(200_000));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_BYTES);
    expect(long).toContain('bytes of output cut here: 200000 bytes in all');
  });
});
