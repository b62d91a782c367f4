import { describe, expect, it } from 'vitest';
import { splitThink, ThinkSplitter, type ThinkPart } from '../../src/worker/think.js';

const C = (text: string): ThinkPart => ({ kind: 'content', text });
const T = (text: string): ThinkPart => ({ kind: 'thinking', text });

const CASES: Array<{ name: string; input: string; parts: ThinkPart[] }> = [
  { name: 'no tags', input: 'plain answer, with a < b and a <tag>', parts: [C('plain answer, with a < b and a <tag>')] },
  { name: 'think block then answer', input: '<think>reason</think>\n\nanswer', parts: [T('reason'), C('\n\nanswer')] },
  { name: 'only a think block', input: '<think>all reasoning</think>', parts: [T('all reasoning')] },
  { name: 'text before and after', input: 'a<think>b</think>c', parts: [C('a'), T('b'), C('c')] },
  { name: 'markup-like text inside thinking stays thinking', input: '<think>if x<y then <b>bold</b></think>ok', parts: [T('if x<y then <b>bold</b>'), C('ok')] },
  { name: 'nested think tags', input: '<think>outer <think>inner</think> still outer</think>done', parts: [T('outer inner still outer'), C('done')] },
  { name: 'unclosed think stays thinking', input: '<think>never closed', parts: [T('never closed')] },
  { name: 'a lone "<" at the end is text', input: 'x <', parts: [C('x <')] },
  { name: 'a partial tag at the end is text', input: 'answer <thi', parts: [C('answer <thi')] },
  { name: 'similar but different tags are text', input: '<thinking>no</thinking><thin>', parts: [C('<thinking>no</thinking><thin>')] },
  { name: 'two think blocks', input: '<think>a</think>x<think>b</think>y', parts: [T('a'), C('x'), T('b'), C('y')] },
];

/** Every way of cutting `input` into two and into three pieces must give the same parts. */
function cuts(input: string): string[][] {
  const out: string[][] = [[input]];
  for (let i = 0; i <= input.length; i++) {
    out.push([input.slice(0, i), input.slice(i)]);
    for (let j = i; j <= input.length; j += 3) out.push([input.slice(0, i), input.slice(i, j), input.slice(j)]);
  }
  out.push(Array.from(input));
  return out;
}

describe('ThinkSplitter', () => {
  for (const c of CASES) {
    it(c.name, () => {
      expect(splitThink([c.input])).toEqual(c.parts);
    });
    it(`${c.name}: tags split across chunks anywhere`, () => {
      for (const pieces of cuts(c.input)) {
        expect(splitThink(pieces), JSON.stringify(pieces)).toEqual(c.parts);
      }
    });
  }

  it('streams content before the stream ends and holds back only a possible tag start', () => {
    const t = new ThinkSplitter();
    expect(t.push('Hello <')).toEqual([C('Hello ')]);
    expect(t.push('think>hm')).toEqual([T('hm')]);
    expect(t.inThink).toBe(true);
    expect(t.push('</thi')).toEqual([]);
    expect(t.push('nk>Bye')).toEqual([C('Bye')]);
    expect(t.end()).toEqual([]);
    expect(t.sawTags).toBe(true);
  });

  it('reports a closing tag without an opening tag (template pre-filled <think>)', () => {
    expect(splitThink(['reasoning first', '</think>', 'answer'])).toEqual([C('reasoning first'), { kind: 'orphan-close' }, C('answer')]);
  });
});
