// Row shapes of the alarm tables and their mapping to records, shared by the
// SQLite and PostgreSQL stores (same columns, same JSON text in both).
import type { Alarm, AlarmRule } from './types.js';

/** A row of the alarms table. */
export interface AlarmRow {
  id: number;
  device_id: string;
  rule_id: string | null;
  source: 'rule' | 'device';
  kind: string;
  alarm_key: string;
  severity: string;
  message: string;
  value: string | null;
  state: Alarm['state'];
  ts: number;
  acked_by: string | null;
  acked_at: number | null;
  cleared_by: string | null;
  cleared_at: number | null;
  updated_at: number;
}

/** The alarm columns in row order (for SELECT and RETURNING). */
export const ALARM_COLUMNS =
  'id, device_id, rule_id, source, kind, alarm_key, severity, message, value, state, ts, acked_by, acked_at, cleared_by, cleared_at, updated_at';

/** An alarm row as the record the hub uses. */
export function toAlarm(r: AlarmRow): Alarm {
  return {
    id: r.id,
    deviceId: r.device_id,
    ruleId: r.rule_id,
    source: r.source,
    kind: r.kind,
    key: r.alarm_key,
    severity: r.severity,
    message: r.message,
    value: r.value === null ? null : JSON.parse(r.value),
    state: r.state,
    ts: r.ts,
    ackedBy: r.acked_by,
    ackedAt: r.acked_at,
    clearedBy: r.cleared_by,
    clearedAt: r.cleared_at,
    updatedAt: r.updated_at,
  };
}

/** The stream body of an alarm: the record without its device id. */
export function alarmStreamBody(a: Alarm): string {
  const { deviceId: _deviceId, ...body } = a;
  return JSON.stringify(body);
}

/** A row of the alarm_rules table: the rule's definition as JSON beside its id. */
export interface RuleRow {
  id: string;
  spec: string;
}

/** A rule row as the record. */
export function toRule(r: RuleRow): AlarmRule {
  return { ...(JSON.parse(r.spec) as Omit<AlarmRule, 'id'>), id: r.id };
}

/** The JSON kept for a rule. */
export function ruleSpec(rule: AlarmRule): string {
  const { id: _id, ...spec } = rule;
  return JSON.stringify(spec);
}

/** SQL of an alarm listing's WHERE clause; `param(i)` writes the i-th placeholder (`?` or `$i`). */
export function alarmWhere(
  f: { state?: string; deviceId?: string; siteId?: string; sites?: readonly string[]; severity?: string; ruleId?: string; from?: number; to?: number },
  param: (i: number) => string,
): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    args.push(value);
    where.push(clause(param(args.length)));
  };
  if (f.state === 'open') where.push("state <> 'cleared'");
  else if (f.state !== undefined) add((p) => `state = ${p}`, f.state);
  if (f.deviceId !== undefined) add((p) => `device_id = ${p}`, f.deviceId);
  if (f.siteId !== undefined) add((p) => `device_id IN (SELECT id FROM devices WHERE site_id = ${p})`, f.siteId);
  if (f.sites !== undefined) {
    const marks = f.sites.map((s) => {
      args.push(s);
      return param(args.length);
    });
    where.push(marks.length ? `device_id IN (SELECT id FROM devices WHERE site_id IN (${marks.join(', ')}))` : '1 = 0');
  }
  if (f.severity !== undefined) add((p) => `severity = ${p}`, f.severity);
  if (f.ruleId !== undefined) add((p) => `rule_id = ${p}`, f.ruleId);
  if (f.from !== undefined) add((p) => `ts >= ${p}`, f.from);
  if (f.to !== undefined) add((p) => `ts <= ${p}`, f.to);
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}
