import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/protocol.js';
import { argPreview, historyLines, oneLine, plainPainter, RunRenderer, toolOutcome, type RendererOptions } from '../../src/cli/renderer.js';

/** Feed frames to a renderer and return what it wrote. */
function render(frames: Frame[], opts: Partial<RendererOptions> = {}, final = { status: 'ok', finalResponse: '' }): string {
  let out = '';
  const r = new RunRenderer(
    (t) => {
      out += t;
      return undefined;
    },
    { tty: true, thinking: true, verbose: false, columns: 100, paint: plainPainter, ...opts },
  );
  for (const f of frames) void r.frame(f);
  r.finish(final);
  return out;
}

const T = 't1';
const token = (content: string): Frame => ({ type: 'token', task_id: T, content });
const start = (id: string, tool: string, preview?: string): Frame => ({ type: 'tool_start', task_id: T, call_id: id, tool, ...(preview !== undefined ? { preview } : {}) });
const output = (id: string, content: string): Frame => ({ type: 'tool_output', task_id: T, call_id: id, content });
const end = (id: string, tool: string, ok: boolean, extra: Record<string, unknown> = {}): Frame => ({ type: 'tool_end', task_id: T, call_id: id, tool, ok, duration_ms: 420, ...extra });

const agentRun: Frame[] = [
  token('Let me look.'),
  start('c1', 'shell', '{"command":"ls -la /sandbox"}'),
  output('c1', 'a.txt\nb.txt\n'),
  end('c1', 'shell', true, { exit_code: 0, preview: 'a.txt\nb.txt' }),
  start('c2', 'read_file', '{"path":"notes.md"}'),
  end('c2', 'read_file', false, { duration_ms: 3, preview: 'no such file' }),
  token('Done.'),
];

describe('RunRenderer on a terminal', () => {
  it('shows each tool call as one line between the reply text, output collapsed', () => {
    expect(render(agentRun)).toBe(['Let me look.', '  ▹ shell  ls -la /sandbox  ✓ exit 0 · 420ms', '  ▹ read_file  notes.md  ✗ 3ms', 'Done.', ''].join('\n'));
  });

  it('--verbose adds the tool output and the result preview', () => {
    expect(render(agentRun, { verbose: true })).toBe(
      [
        'Let me look.',
        '  ▹ shell  ls -la /sandbox',
        '    │ a.txt',
        '    │ b.txt',
        '    ✓ exit 0 · 420ms  ↳ a.txt b.txt',
        '  ▹ read_file  notes.md',
        '    ✗ 3ms  ↳ no such file',
        'Done.',
        '',
      ].join('\n'),
    );
  });

  it('output that arrives in pieces, mid-line, is indented once per line', () => {
    const out = render([start('c1', 'shell', '{"command":"make"}'), output('c1', 'comp'), output('c1', 'iling\ndone'), output('c1', '\n'), end('c1', 'shell', true, { exit_code: 0 })], { verbose: true });
    expect(out).toBe(['  ▹ shell  make', '    │ compiling', '    │ done', '    ✓ exit 0 · 420ms', ''].join('\n'));
  });

  it('calls that overlap each get a complete line', () => {
    const out = render([start('a', 'shell', '{"command":"one"}'), start('b', 'shell', '{"command":"two"}'), end('a', 'shell', true, { exit_code: 0 }), end('b', 'shell', false, { exit_code: 2 })]);
    expect(out).toBe(['  ▹ shell  one', '  ▹ shell  two', '  ▹ shell  one  ✓ exit 0 · 420ms', '  ▹ shell  two  ✗ exit 2 · 420ms', ''].join('\n'));
  });

  it('a call that never ended (cancelled run) still ends its line', () => {
    expect(render([token('x'), start('a', 'shell', '{"command":"sleep 9"}')], {}, { status: 'error', finalResponse: '' })).toBe('x\n  ▹ shell  sleep 9\n');
  });

  it('an end without a start is shown with its tool name', () => {
    expect(render([end('zz', 'search', true)])).toBe('  ▹ search  ✓ 420ms\n');
  });

  it('strips control sequences from every piece a worker controls', () => {
    const nasty = '\u001b]0;owned\u0007\u001b[2J';
    const out = render([start('a', `sh${nasty}ell`, `{"command":"ls${nasty}"}`), output('a', `o${nasty}\n`), end('a', `x${nasty}`, true, { preview: `p${nasty}` })], { verbose: true });
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain('sh]0;owned[2Jell');
  });

  it('fits the argument preview to the terminal width', () => {
    const out = render([start('a', 'shell', JSON.stringify({ command: 'x'.repeat(500) })), end('a', 'shell', true)], { columns: 60 });
    expect(out.split('\n')[0]?.length).toBeLessThanOrEqual(60);
    expect(out).toContain('…');
  });

  it('prints reasoning dimmed and the final response when no tokens came', () => {
    const dim: typeof plainPainter = { ...plainPainter, dim: (s) => `<${s}>` };
    expect(render([{ type: 'thinking', task_id: T, content: 'hmm' }, token('answer')], { paint: dim })).toBe('<hmm>\nanswer\n');
    expect(render([], {}, { status: 'ok', finalResponse: 'from the result' })).toBe('from the result\n');
  });
});

describe('RunRenderer off a terminal', () => {
  it('writes only the reply text (parts separated by tool calls on their own lines)', () => {
    expect(render(agentRun, { tty: false, verbose: true })).toBe('Let me look.\nDone.\n');
  });

  it('a worker without tool frames gets exactly its text, as before', () => {
    expect(render([token('Echo: '), token('hi'), { type: 'thinking', task_id: T, content: 'hidden' }], { tty: false })).toBe('Echo: hi\n');
  });
});

describe('preview helpers', () => {
  it.each([
    ['{"command":"ls -la"}', 'ls -la'],
    ['{"path":"a/b.md","content":"…"}', 'a/b.md'],
    ['{"pattern":"TODO","path":"src"}', 'src'],
    ['{"content":"hello"}', 'hello'],
    ['{"command":"echo \\"hi\\" and a very long tail that was cu', 'echo "hi" and a very long tail that was cu…'],
    ['{"n":5}', '{"n":5}'],
    ['not json', 'not json'],
    ['', ''],
  ])('argPreview(%j) → %j', (preview, expected) => {
    expect(argPreview(preview)).toBe(expected);
  });

  it('oneLine collapses whitespace and cuts with an ellipsis', () => {
    expect(oneLine('a\n\n b\tc', 20)).toBe('a b c');
    expect(oneLine('abcdefghij', 5)).toBe('abcd…');
  });

  it('toolOutcome', () => {
    expect(toolOutcome({ ok: true, exit_code: 0, duration_ms: 1500 }).text).toBe('✓ exit 0 · 1.5s');
    expect(toolOutcome({ ok: false, duration_ms: 90_000 }).text).toBe('✗ 1m30s');
    expect(toolOutcome({ ok: 'yes' }).text).toBe('✗');
  });
});

describe('historyLines (sessions show)', () => {
  it('shows messages in full and each tool call and result on one line', () => {
    const lines = historyLines(
      [
        { role: 'user', content: 'list it\nplease' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'shell', arguments: '{"command":"ls"}' }, { id: 'c2', name: 'read_file', arguments: '{"path":"x"}' }] },
        { role: 'tool', tool_call_id: 'c1', name: 'shell', content: 'a\nb' },
        { role: 'tool', tool_call_id: 'c2', name: 'read_file', content: 'missing', is_error: true },
        { role: 'assistant', content: 'Two files.' },
      ],
      80,
    );
    expect(lines).toEqual(['you:', '  list it', '  please', '  ▹ shell  ls', '  ▹ read_file  x', '    ✓ shell: a b', '    ✗ read_file: missing', 'assistant:', '  Two files.']);
  });
});
