// One rule on one device, as a small state machine fed reading by reading:
// normal -> pending (the condition holds, the hold time runs) -> active (the
// alarm is raised) -> normal (the value came back past the hysteresis, the
// alarm clears). It sees each reading once, as it is ingested: no query.
// Times are the readings' own (device clock), so a batch sent late after an
// outage is judged as it happened.
import type { AlarmRule } from './store/types.js';

/** Where one rule stands for one device. */
export interface RuleState {
  phase: 'normal' | 'pending' | 'active';
  /** When the condition started to hold (pending), reading time. */
  since: number;
  /** The previous value and its time (rate rules). */
  prevValue: number;
  prevTs: number;
  /** Last reading seen for the rule, hub time (silence rules). */
  lastAt: number;
}

/** A fresh state; `lastAt` is when silence starts counting. */
export function newRuleState(lastAt: number): RuleState {
  return { phase: 'normal', since: 0, prevValue: NaN, prevTs: NaN, lastAt };
}

/** What a reading did to a rule: nothing, raise the alarm (with the value judged), or clear it. */
export type Step = undefined | { raise: number } | { clear: number };

/** A reading's value as a number the rules compare: numbers, and booleans as 0/1; anything else is not judged. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}

/** Is `v` past the rule's limit? */
function breached(rule: AlarmRule, v: number): boolean {
  switch (rule.condition) {
    case 'above':
      return v > rule.threshold!;
    case 'below':
      return v < rule.threshold!;
    case 'outside':
      return v < rule.low! || v > rule.high!;
    case 'rate':
      return Math.abs(v) > rule.threshold!;
    default:
      return false;
  }
}

/** Has `v` come back far enough (hysteresis) for an active alarm to clear? */
function recovered(rule: AlarmRule, v: number): boolean {
  const h = rule.hysteresis;
  switch (rule.condition) {
    case 'above':
      return v <= rule.threshold! - h;
    case 'below':
      return v >= rule.threshold! + h;
    case 'outside':
      return v >= rule.low! + h && v <= rule.high! - h;
    case 'rate':
      return Math.abs(v) <= rule.threshold! - h;
    default:
      return true;
  }
}

/** Feeds one numeric reading (value `raw` at reading time `ts`) to a threshold, band or rate rule. */
export function stepReading(rule: AlarmRule, state: RuleState, raw: number, ts: number): Step {
  let v = raw;
  if (rule.condition === 'rate') {
    const { prevValue, prevTs } = state;
    // Out-of-order or same-instant readings give no rate; the newest one stays the reference.
    if (ts <= prevTs) return undefined;
    state.prevValue = raw;
    state.prevTs = ts;
    if (Number.isNaN(prevTs)) return undefined;
    v = ((raw - prevValue) * 1000) / (ts - prevTs);
  }
  switch (state.phase) {
    case 'normal':
      if (!breached(rule, v)) return undefined;
      if (rule.holdMs <= 0) {
        state.phase = 'active';
        return { raise: v };
      }
      state.phase = 'pending';
      state.since = ts;
      return undefined;
    case 'pending':
      if (!breached(rule, v)) {
        state.phase = 'normal';
        return undefined;
      }
      if (ts - state.since < rule.holdMs) return undefined;
      state.phase = 'active';
      return { raise: v };
    case 'active':
      if (!recovered(rule, v)) return undefined;
      state.phase = 'normal';
      return { clear: v };
  }
}

/** A reading arrived for a silence rule at hub time `now`: it ends the silence. */
export function stepHeard(state: RuleState, now: number): Step {
  state.lastAt = Math.max(state.lastAt, now);
  if (state.phase !== 'active') return undefined;
  state.phase = 'normal';
  return { clear: 0 };
}

/** The silence check at hub time `now`: raises once the device has been quiet for the rule's silenceMs. */
export function stepSilence(rule: AlarmRule, state: RuleState, now: number): Step {
  if (state.phase === 'active') return undefined;
  const quiet = now - state.lastAt;
  if (quiet < rule.silenceMs!) return undefined;
  state.phase = 'active';
  return { raise: quiet };
}

/** One metric over a batch of readings, computed once and shared by every rule on that metric. */
export interface BatchSummary {
  count: number;
  min: number;
  max: number;
  /** Largest |change per second| between consecutive readings (meaningful when `ordered`). */
  maxAbsRate: number;
  firstValue: number;
  firstTs: number;
  lastValue: number;
  lastTs: number;
  /** Every reading later than the one before it. */
  ordered: boolean;
}

/** Summarises `metric` over a batch; undefined when no reading has a judgeable value. */
export function summarize(readings: ReadonlyArray<{ ts: number; values: Record<string, unknown> }>, metric: string): BatchSummary | undefined {
  let s: BatchSummary | undefined;
  for (const r of readings) {
    const v = numericValue(r.values[metric]);
    if (v === undefined) continue;
    if (!s) {
      s = { count: 1, min: v, max: v, maxAbsRate: 0, firstValue: v, firstTs: r.ts, lastValue: v, lastTs: r.ts, ordered: true };
      continue;
    }
    s.count++;
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
    if (r.ts <= s.lastTs) s.ordered = false;
    else {
      const rate = Math.abs(((v - s.lastValue) * 1000) / (r.ts - s.lastTs));
      if (rate > s.maxAbsRate) s.maxAbsRate = rate;
    }
    s.lastValue = v;
    s.lastTs = r.ts;
  }
  return s;
}

/**
 * Whether a batch leaves a rule in the normal phase as it is, decided from the
 * summary alone (most batches, most rules): then the caller skips the reading
 * by reading walk, and the rule's state is brought up to the batch's end here.
 * False means "walk the readings" (never a wrong answer, only a slower one).
 */
export function quietBatch(rule: AlarmRule, state: RuleState, s: BatchSummary): boolean {
  if (state.phase !== 'normal') return false;
  switch (rule.condition) {
    case 'above':
      return s.max <= rule.threshold!;
    case 'below':
      return s.min >= rule.threshold!;
    case 'outside':
      return s.min >= rule.low! && s.max <= rule.high!;
    case 'rate': {
      if (!s.ordered || !(s.firstTs > state.prevTs || Number.isNaN(state.prevTs))) return false;
      const entry = Number.isNaN(state.prevTs) ? 0 : Math.abs(((s.firstValue - state.prevValue) * 1000) / (s.firstTs - state.prevTs));
      if (entry > rule.threshold! || s.maxAbsRate > rule.threshold!) return false;
      state.prevValue = s.lastValue;
      state.prevTs = s.lastTs;
      return true;
    }
    default:
      return false;
  }
}
