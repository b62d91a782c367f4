import { describe, expect, it } from 'vitest';
import { EventBus, typeMatcher } from '../../src/core/events.js';

const run = (id: string) => ({ kind: 'run' as const, id });

describe('typeMatcher', () => {
  it.each([
    [[], 'run.started', true],
    [['run.*'], 'run.frame', true],
    [['run.*'], 'sandbox.phase_changed', false],
    [['run.completed', 'sandbox.*'], 'sandbox.phase_changed', true],
    [['run.completed'], 'run.completed', true],
    [['run.completed'], 'run.completedx', false],
    [['*'], 'log.record', true],
  ] as const)('%j matches %s: %s', (patterns, type, want) => {
    expect(typeMatcher([...patterns])(type)).toBe(want);
  });
});

describe('EventBus', () => {
  it('numbers events and delivers the ones a subscriber asked for', () => {
    const bus = new EventBus({ now: () => new Date('2026-01-01T00:00:00Z') });
    const s = bus.subscribe({ types: ['run.*'] });
    bus.publish('run.started', run('t_1'), { sandbox: 'a' });
    bus.publish('sandbox.phase_changed', { kind: 'sandbox', id: 'a' }, { phase: 'Ready' });
    bus.publish('run.completed', run('t_1'), { status: 'ok' });
    const got = s.drain();
    expect(got.map((e) => [e.seq, e.type])).toEqual([
      [1, 'run.started'],
      [3, 'run.completed'],
    ]);
    expect(got[0]).toEqual({ v: 1, seq: 1, type: 'run.started', ts: '2026-01-01T00:00:00.000Z', source: 'daemon', entity: { kind: 'run', id: 't_1' }, payload: { sandbox: 'a' } });
    expect(s.drain()).toEqual([]);
  });

  it('replays from the ring buffer with since, and says when the gap is too old', () => {
    const bus = new EventBus({ ringSize: 5 });
    for (let i = 0; i < 12; i++) bus.publish('run.frame', run('t'), { i });
    const recent = bus.subscribe({ since: 9 });
    expect(recent.drain().map((e) => e.seq)).toEqual([10, 11, 12]);
    expect(recent.missedBeforeReplay).toBe(0);
    const old = bus.subscribe({ since: 2 });
    expect(old.drain().map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(old.missedBeforeReplay).toBe(5); // 3..7 are gone
    const caughtUp = bus.subscribe({ since: 12 });
    expect(caughtUp.pending).toBe(0);
    expect(caughtUp.missedBeforeReplay).toBe(0);
  });

  it('a subscriber that stops reading loses its oldest events, counted, and never holds more than its limit', () => {
    const bus = new EventBus();
    const slow = bus.subscribe({ queueLimit: 100 });
    const fast = bus.subscribe({ queueLimit: 100 });
    let delivered = 0;
    for (let i = 0; i < 50_000; i++) {
      bus.publish('log.record', { kind: 'log', id: 'x' }, { i });
      delivered += fast.drain().length;
      expect(slow.pending).toBeLessThanOrEqual(100);
    }
    expect(delivered).toBe(50_000);
    expect(slow.takeDropped()).toBe(49_900);
    expect(slow.takeDropped()).toBe(0);
    const kept = slow.drain();
    expect(kept.map((e) => (e.payload as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, k) => 49_900 + k));
  });

  it('calls onReady when a queue stops being empty, and stops delivering after close', () => {
    const bus = new EventBus();
    let ready = 0;
    const s = bus.subscribe({ onReady: () => ready++ });
    bus.publish('a.b', run('1'), {});
    bus.publish('a.b', run('1'), {});
    expect(ready).toBe(1);
    s.drain();
    bus.publish('a.b', run('1'), {});
    expect(ready).toBe(2);
    s.close();
    expect(bus.subscribers).toBe(0);
    bus.publish('a.b', run('1'), {});
    expect(s.pending).toBe(0);
  });
});
