import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileInside, writeInside } from '../../src/adapters/local/safe-fs.js';
import { attachmentNote, attachmentTargets, getSource, putTarget, sandboxRelative } from '../../src/core/sandbox-paths.js';
import { parseToolList, sandboxTools } from '../../src/core/tools.js';

describe('sandbox paths', () => {
  it.each([
    ['notes.md', 'notes.md'],
    ['/sandbox/notes.md', 'notes.md'],
    ['/sandbox', ''],
    ['/sandbox/', ''],
    ['./a//b/./c', 'a/b/c'],
    ['', ''],
  ])('sandboxRelative(%j) → %j', (p, rel) => {
    expect(sandboxRelative(p)).toBe(rel);
  });

  it.each(['../x', 'a/../../x', 'a/..', '/etc/passwd', '/sandboxes/x', '/', 'a\u0000b', 'a\nb'])('refuses %j', (p) => {
    expect(() => sandboxRelative(p)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it.each([
    [undefined, '/home/me/data.csv', 'data.csv'],
    ['inputs/', 'data.csv', 'inputs/data.csv'],
    ['/sandbox', 'data.csv', 'data.csv'],
    ['/sandbox/in/d.csv', 'data.csv', 'in/d.csv'],
    ['in/d.csv', './data.csv', 'in/d.csv'],
  ])('putTarget(%j, %j) → %j', (dest, local, rel) => {
    expect(putTarget(dest, local)).toBe(rel);
  });

  it("refuses to put into Logos' own directory, or a local path without a file name", () => {
    expect(() => putTarget('.logos/worker.mjs', 'x')).toThrow(/Logos' own files/);
    expect(() => putTarget('/sandbox/.logos/', 'x')).toThrow(/Logos' own files/);
    expect(() => putTarget(undefined, '..')).toThrow(/does not name a file/);
  });

  it('getSource refuses the sandbox directory itself', () => {
    expect(getSource('/sandbox/out/r.md')).toBe('out/r.md');
    expect(() => getSource('/sandbox')).toThrow(/copies one file/);
  });

  it('attachments land in /sandbox/attachments/ under their names, once each', () => {
    expect(attachmentTargets(['/a/x.txt', 'y.csv'])).toEqual(['attachments/x.txt', 'attachments/y.csv']);
    expect(attachmentNote(['attachments/x.txt'])).toBe('[Attached file, in the sandbox: /sandbox/attachments/x.txt]');
    expect(() => attachmentTargets(['/a/x.txt', '/b/x.txt'])).toThrow(/Two attachments are named 'x.txt'/);
  });
});

describe('tool lists', () => {
  it('parses, orders and dedupes', () => {
    expect(parseToolList('read_file, shell,shell')).toEqual(['shell', 'read_file']);
    expect(parseToolList('all')).toHaveLength(6);
  });
  it('refuses unknown names with the list, and an empty list', () => {
    expect(() => parseToolList('shell,browser')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', hint: expect.stringContaining('read_file') }));
    expect(() => parseToolList(' , ')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', hint: expect.stringContaining('--no-tools') }));
  });
  it('a sandbox record without tools has all; unknown names are ignored', () => {
    expect(sandboxTools(undefined)).toHaveLength(6);
    expect(sandboxTools([])).toEqual([]);
    expect(sandboxTools(['search', 'teleport'])).toEqual(['search']);
  });
});

describe('writeInside / openFileInside (host writes and reads in a directory the sandbox controls)', () => {
  let dir: string;
  let root: string;
  let outside: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logos-safefs-'));
    root = join(dir, 'workdir');
    outside = join(dir, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'host secret');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const put = (rel: string, text: string): Promise<number> =>
    writeInside(root, rel, async (fh) => {
      await fh.write(text);
      return Buffer.byteLength(text);
    });

  it('creates missing directories, replaces a regular file, leaves no temp file', async () => {
    expect(await put('a/b/c.txt', 'one')).toBe(3);
    expect(await put('a/b/c.txt', 'two')).toBe(3);
    expect(readFileSync(join(root, 'a', 'b', 'c.txt'), 'utf8')).toBe('two');
    expect(readdirSync(join(root, 'a', 'b'))).toEqual(['c.txt']);
  });

  it('never writes through a directory link planted on the way', async () => {
    symlinkSync(outside, join(root, 'drop'));
    await expect(put('drop/x.txt', 'pwned')).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
    await expect(put('drop/new/x.txt', 'pwned')).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('refuses a link, FIFO or directory as the file itself', async () => {
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    await expect(put('link.txt', 'pwned')).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('host secret');
    execFileSync('mkfifo', [join(root, 'fifo')]);
    await expect(put('fifo', 'x')).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
    mkdirSync(join(root, 'd'));
    await expect(put('d', 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', hint: expect.stringContaining('"/"') });
  });

  it('a failed fill leaves nothing behind', async () => {
    await expect(writeInside(root, 'f.txt', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(readdirSync(root)).toEqual([]);
  });

  it('opens only regular files, never through links', () => {
    writeFileSync(join(root, 'ok.txt'), 'fine');
    mkdirSync(join(root, 'sub'));
    symlinkSync(outside, join(root, 'drop'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    const opened = openFileInside(root, 'ok.txt', 'sb');
    expect(opened.size).toBe(4);
    closeSync(opened.fd);
    expect(() => openFileInside(root, 'link.txt', 'sb')).toThrow(expect.objectContaining({ code: 'SANDBOX_UNAVAILABLE' }));
    expect(() => openFileInside(root, 'drop/secret.txt', 'sb')).toThrow(expect.objectContaining({ code: 'SANDBOX_UNAVAILABLE' }));
    expect(() => openFileInside(root, 'sub', 'sb')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => openFileInside(root, 'nope.txt', 'sb')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(existsSync(join(outside, 'secret.txt'))).toBe(true);
  });
});
