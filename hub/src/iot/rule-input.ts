// What a rule must look like when created or changed: the JSON schema the
// REST routes validate with (shapes), and the checks a schema cannot say
// (which fields each condition needs, low below high).
import { randomUUID } from 'node:crypto';
import { CLASS_SOURCE, ID_SOURCE, NAME_SOURCE } from '@sitehub/protocol/iot';
import { HubError } from './errors.js';
import type { AlarmRule } from './store/types.js';

/** Longest rule name and message. */
const MAX_TEXT = 200;
/** Longest hold or silence: a week. */
const MAX_DURATION_MS = 7 * 86_400_000;

const nullableNumber = { type: ['number', 'null'] } as const;

/** The editable fields of a rule, as JSON schema properties. */
export const ruleInputProperties = {
  name: { type: 'string', minLength: 1, maxLength: MAX_TEXT },
  scope: {
    type: 'object',
    properties: { kind: { type: 'string', enum: ['class', 'site', 'device'] }, id: { type: 'string', maxLength: 64 } },
    required: ['kind', 'id'],
    additionalProperties: false,
  },
  metric: { type: ['string', 'null'], pattern: NAME_SOURCE },
  condition: { type: 'string', enum: ['above', 'below', 'outside', 'rate', 'silence'] },
  threshold: nullableNumber,
  low: nullableNumber,
  high: nullableNumber,
  hysteresis: { type: 'number', minimum: 0 },
  holdMs: { type: 'integer', minimum: 0, maximum: MAX_DURATION_MS },
  silenceMs: { type: ['integer', 'null'], minimum: 1000, maximum: MAX_DURATION_MS },
  severity: { type: 'string', enum: ['info', 'warning', 'error', 'critical'] },
  message: { type: ['string', 'null'], maxLength: MAX_TEXT },
  enabled: { type: 'boolean' },
} as const;

/** A rule as the API shows it. */
export const ruleSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, ...ruleInputProperties, createdAt: { type: 'integer' }, updatedAt: { type: 'integer' } },
  required: ['id', 'name', 'scope', 'condition', 'severity', 'enabled', 'createdAt', 'updatedAt'],
} as const;

/** The editable part of a rule. */
export type RuleInput = Partial<Omit<AlarmRule, 'id' | 'createdAt' | 'updatedAt'>>;

/** Builds a rule from `input` laid over `base` (a new rule when base is undefined); throws HubError when it does not make sense. */
export function buildRule(input: RuleInput, base: AlarmRule | undefined, now: number): AlarmRule {
  const merged = { ...base, ...input };
  const need = (cond: boolean, message: string) => {
    if (!cond) throw new HubError('invalid_rule', message);
  };
  need(typeof merged.name === 'string' && merged.name.length > 0, 'a rule needs a name');
  need(merged.scope !== undefined, 'a rule needs a scope { kind: class | site | device, id }');
  need(merged.condition !== undefined, 'a rule needs a condition: above, below, outside, rate or silence');
  const scope = merged.scope!;
  need(new RegExp(scope.kind === 'class' ? CLASS_SOURCE : ID_SOURCE).test(scope.id), `scope id "${scope.id}" is not a valid ${scope.kind} id`);
  const condition = merged.condition!;
  const metric = merged.metric ?? null;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (condition === 'silence') {
    need(num(merged.silenceMs), 'a silence rule needs silenceMs (how long without a reading)');
  } else {
    need(metric !== null, `a ${condition} rule needs a metric`);
    if (condition === 'outside') {
      need(num(merged.low) && num(merged.high) && merged.low! < merged.high!, 'an outside rule needs low < high');
    } else {
      need(num(merged.threshold), `a ${condition} rule needs a threshold`);
      if (condition === 'rate') need(merged.threshold! > 0, 'a rate rule needs a threshold above 0 (change per second)');
    }
  }
  const hysteresis = merged.hysteresis ?? 0;
  if (condition === 'outside') need(merged.low! + hysteresis <= merged.high! - hysteresis, 'the hysteresis is wider than half the band');
  if (condition === 'rate') need(hysteresis < merged.threshold!, 'a rate rule needs a hysteresis below its threshold');
  return {
    id: base?.id ?? randomUUID(),
    name: merged.name!,
    scope: { kind: scope.kind, id: scope.id },
    metric,
    condition,
    threshold: condition === 'above' || condition === 'below' || condition === 'rate' ? merged.threshold! : null,
    low: condition === 'outside' ? merged.low! : null,
    high: condition === 'outside' ? merged.high! : null,
    hysteresis,
    holdMs: merged.holdMs ?? 0,
    silenceMs: condition === 'silence' ? merged.silenceMs! : null,
    severity: merged.severity ?? 'warning',
    message: merged.message ?? null,
    enabled: merged.enabled ?? true,
    createdAt: base?.createdAt ?? now,
    updatedAt: now,
  };
}

/** The message of an alarm a rule raised. */
export function ruleMessage(rule: AlarmRule, value: number): string {
  if (rule.message) return rule.message;
  const v = Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '');
  switch (rule.condition) {
    case 'above':
      return `${rule.name}: ${rule.metric} ${v} above ${rule.threshold}`;
    case 'below':
      return `${rule.name}: ${rule.metric} ${v} below ${rule.threshold}`;
    case 'outside':
      return `${rule.name}: ${rule.metric} ${v} outside ${rule.low}..${rule.high}`;
    case 'rate':
      return `${rule.name}: ${rule.metric} changing ${v}/s (limit ${rule.threshold}/s)`;
    case 'silence':
      return `${rule.name}: no reading${rule.metric ? ` of ${rule.metric}` : ''} for ${Math.round(value / 1000)} s`;
  }
}
