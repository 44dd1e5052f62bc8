// The rule state machine on its own: threshold with hold time and
// hysteresis, band, rate of change, silence; one raise per crossing.
import { describe, expect, it } from 'vitest';
import { buildRule } from '../../hub/src/iot/rule-input.js';
import { newRuleState, quietBatch, stepHeard, stepReading, stepSilence, summarize, type RuleState, type Step } from '../../hub/src/iot/rule-evaluator.js';
import type { AlarmRule } from '../../hub/src/iot/store/types.js';

const rule = (over: Partial<AlarmRule>): AlarmRule =>
  buildRule({ name: 'r', scope: { kind: 'class', id: 'thermo' }, metric: 'temp', condition: 'above', threshold: 30, ...over }, undefined, 0);

/** Feeds [value, ts] pairs; returns the steps as 'raise'/'clear'/'-'. */
function feed(r: AlarmRule, points: Array<[number, number]>): string[] {
  const state = newRuleState(0);
  return points.map(([v, ts]) => label(stepReading(r, state, v, ts)));
}
const label = (s: Step) => (s === undefined ? '-' : 'raise' in s ? 'raise' : 'clear');

describe('threshold rules', () => {
  it('raises once when the value stays above for the hold time, and clears only past the hysteresis', () => {
    const r = rule({ threshold: 30, holdMs: 1000, hysteresis: 2 });
    // 31 at t=0 starts the hold; 31.5 at 500 is still holding; 32 at 1000 raises; hovering 29..31 does nothing; 27.9 clears.
    expect(feed(r, [[31, 0], [31.5, 500], [32, 1000], [33, 1500], [29, 2000], [31, 2500], [28.5, 3000], [27.9, 3500], [28, 4000]])).toEqual([
      '-', '-', 'raise', '-', '-', '-', '-', 'clear', '-',
    ]);
  });

  it('starts the hold again when the value dips back before the hold time', () => {
    const r = rule({ threshold: 30, holdMs: 1000 });
    expect(feed(r, [[31, 0], [29, 600], [31, 900], [31, 1500], [31, 1899], [31, 1900]])).toEqual(['-', '-', '-', '-', '-', 'raise']);
  });

  it('raises at once with no hold time, and a value hovering at the threshold does not flap', () => {
    const r = rule({ threshold: 30, hysteresis: 1 });
    expect(feed(r, [[30.1, 0], [29.9, 1], [30.1, 2], [29.5, 3], [30.2, 4], [28.9, 5], [30.1, 6]])).toEqual(['raise', '-', '-', '-', '-', 'clear', 'raise']);
  });

  it('below: raises under the threshold and clears above threshold + hysteresis', () => {
    const r = rule({ condition: 'below', threshold: 10, hysteresis: 1 });
    expect(feed(r, [[11, 0], [9, 1], [10.5, 2], [11, 3]])).toEqual(['-', 'raise', '-', 'clear']);
  });
});

describe('band rules', () => {
  it('raises outside [low, high] on either side and clears inside the band narrowed by the hysteresis', () => {
    const r = rule({ condition: 'outside', threshold: null, low: 10, high: 20, hysteresis: 1 });
    expect(feed(r, [[15, 0], [21, 1], [19.5, 2], [18, 3], [9, 4], [10.5, 5], [12, 6]])).toEqual(['-', 'raise', '-', 'clear', 'raise', '-', 'clear']);
  });
});

describe('rate rules', () => {
  it('raises when the value changes faster than the threshold per second, either way', () => {
    const r = rule({ condition: 'rate', threshold: 5, hysteresis: 1 });
    // +1/s, +10/s (raise), +4.5/s (not yet below 4), +2/s (clear), -8/s (raise again).
    expect(feed(r, [[0, 0], [1, 1000], [11, 2000], [15.5, 3000], [17.5, 4000], [9.5, 5000]])).toEqual(['-', '-', 'raise', '-', 'clear', 'raise']);
  });

  it('ignores a reading older than the last one (no rate from out-of-order readings)', () => {
    const r = rule({ condition: 'rate', threshold: 5 });
    expect(feed(r, [[0, 1000], [100, 500], [1, 2000]])).toEqual(['-', '-', '-']);
  });
});

describe('silence rules', () => {
  it('raises once after silenceMs without a reading and clears on the next reading', () => {
    const r = rule({ condition: 'silence', metric: null, threshold: null, silenceMs: 5000 });
    const state = newRuleState(1000);
    expect(label(stepSilence(r, state, 5999))).toBe('-');
    expect(stepSilence(r, state, 6000)).toEqual({ raise: 5000 });
    expect(label(stepSilence(r, state, 9000))).toBe('-');
    expect(label(stepHeard(state, 9500))).toBe('clear');
    expect(label(stepSilence(r, state, 14_000))).toBe('-');
    expect(label(stepSilence(r, state, 14_500))).toBe('raise');
  });
});

describe('rule input', () => {
  it('refuses rules that cannot be judged', () => {
    const base = { name: 'r', scope: { kind: 'class' as const, id: 'thermo' } };
    expect(() => buildRule({ ...base, condition: 'above', metric: 'temp' }, undefined, 0)).toThrow(/threshold/);
    expect(() => buildRule({ ...base, condition: 'outside', metric: 'temp', low: 5, high: 1 }, undefined, 0)).toThrow(/low < high/);
    expect(() => buildRule({ ...base, condition: 'silence' }, undefined, 0)).toThrow(/silenceMs/);
    expect(() => buildRule({ ...base, condition: 'rate', metric: 'temp', threshold: 2, hysteresis: 3 }, undefined, 0)).toThrow(/hysteresis/);
    expect(() => buildRule({ ...base, scope: { kind: 'class', id: 'Bad Class' }, condition: 'above', metric: 't', threshold: 1 }, undefined, 0)).toThrow(/valid class/);
  });
});

describe('the batch shortcut', () => {
  it('decides exactly what walking the readings one by one decides (random batches, every condition)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rules = [
      rule({ threshold: 30, hysteresis: 1 }),
      rule({ condition: 'below', threshold: 15, holdMs: 1000 }),
      rule({ condition: 'outside', threshold: null, low: 10, high: 30, hysteresis: 2 }),
      rule({ condition: 'rate', threshold: 8, hysteresis: 1 }),
    ];
    let skipped = 0;
    for (const r of rules) {
      const walked = newRuleState(0);
      const shortcut = newRuleState(0);
      const stepsA: string[] = [];
      const stepsB: string[] = [];
      let ts = 0;
      for (let batch = 0; batch < 400; batch++) {
        const readings = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => {
          // Mostly calm values, sometimes a spike; now and then a reading out of order.
          ts += rand() < 0.05 ? -500 : 1000;
          return { ts, values: { temp: rand() < 0.2 ? rand() * 60 - 10 : 18 + rand() * 4 } };
        });
        for (const x of readings) stepsA.push(label(stepReading(r, walked, x.values.temp, x.ts)));
        const summary = summarize(readings, 'temp')!;
        if (quietBatch(r, shortcut, summary)) {
          skipped++;
          stepsB.push(...readings.map(() => '-'));
        } else for (const x of readings) stepsB.push(label(stepReading(r, shortcut, x.values.temp, x.ts)));
        const view = (s: RuleState) => [s.phase, s.since, s.prevValue, s.prevTs];
        expect(view(shortcut), `${r.condition} batch ${batch}`).toEqual(view(walked));
      }
      expect(stepsB).toEqual(stepsA);
      expect(stepsA.filter((x) => x === 'raise').length, r.condition).toBeGreaterThan(0);
    }
    expect(skipped).toBeGreaterThan(300);
  });
});
