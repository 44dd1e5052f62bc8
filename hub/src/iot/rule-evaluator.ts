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
