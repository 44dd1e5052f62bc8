// SQLite implementation of alarm rules and alarms. Every alarm write appends
// its stream record in the same writer job, so bridges replay alarms too.
import { ALARM_COLUMNS, alarmStreamBody, alarmWhere, ruleSpec, toAlarm, toRule, type AlarmRow, type RuleRow } from './alarm-rows.js';
import type { SqliteDb } from './db.js';
import type { SqliteStream } from './sqlite-stream.js';
import type { Alarm, AlarmChange, AlarmFilter, AlarmRule, AlarmStore, Positioned } from './types.js';
import type { GroupCommitWriter } from './writer.js';

/** Rules and alarms in SQLite. */
export class SqliteAlarms implements AlarmStore {
  private readonly stmt;

  constructor(
    private readonly db: SqliteDb,
    private readonly writer: GroupCommitWriter,
    private readonly stream: SqliteStream,
  ) {
    this.stmt = {
      rules: db.prepare('SELECT id, spec FROM alarm_rules ORDER BY created_at, id'),
      rule: db.prepare('SELECT id, spec FROM alarm_rules WHERE id = ?'),
      putRule: db.prepare('INSERT INTO alarm_rules (id, spec, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET spec = excluded.spec'),
      deleteRule: db.prepare('DELETE FROM alarm_rules WHERE id = ?'),
      raise: db.prepare(
        `INSERT INTO alarms (device_id, rule_id, source, kind, alarm_key, severity, message, value, state, ts, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?) ON CONFLICT DO NOTHING RETURNING ${ALARM_COLUMNS}`,
      ),
      ack: db.prepare(`UPDATE alarms SET state = 'acknowledged', acked_by = ?, acked_at = ?, updated_at = ? WHERE id = ? AND state = 'active' RETURNING ${ALARM_COLUMNS}`),
      clear: db.prepare(`UPDATE alarms SET state = 'cleared', cleared_by = ?, cleared_at = ?, updated_at = ? WHERE id = ? AND state <> 'cleared' RETURNING ${ALARM_COLUMNS}`),
      clearKey: db.prepare(
        `UPDATE alarms SET state = 'cleared', cleared_by = ?, cleared_at = ?, updated_at = ? WHERE device_id = ? AND alarm_key = ? AND state <> 'cleared' RETURNING ${ALARM_COLUMNS}`,
      ),
      get: db.prepare(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = ?`),
    };
  }

  async listRules(): Promise<AlarmRule[]> {
    return (this.stmt.rules.all() as RuleRow[]).map(toRule);
  }

  async getRule(id: string): Promise<AlarmRule | undefined> {
    const row = this.stmt.rule.get(id) as RuleRow | undefined;
    return row && toRule(row);
  }

  putRule(rule: AlarmRule): Promise<void> {
    return this.writer.submit(() => void this.stmt.putRule.run(rule.id, ruleSpec(rule), rule.createdAt));
  }

  deleteRule(id: string): Promise<boolean> {
    return this.writer.submit(() => this.stmt.deleteRule.run(id).changes > 0);
  }

  raise(a: Parameters<AlarmStore['raise']>[0]): Promise<Positioned<Alarm> | undefined> {
    return this.writer.submit(() => {
      const value = a.value === undefined ? null : JSON.stringify(a.value);
      const row = this.stmt.raise.get(a.deviceId, a.ruleId, a.source, a.kind, a.key, a.severity, a.message, value, a.ts, a.ts) as AlarmRow | undefined;
      return row && this.streamed(toAlarm(row));
    });
  }

  change(id: number, c: AlarmChange): Promise<Positioned<Alarm> | undefined> {
    return this.writer.submit(() => {
      const stmt = c.state === 'acknowledged' ? this.stmt.ack : this.stmt.clear;
      const row = stmt.get(c.by, c.at, c.at, id) as AlarmRow | undefined;
      return row && this.streamed(toAlarm(row));
    });
  }

  clearKey(deviceId: string, key: string, by: string, at: number): Promise<Positioned<Alarm> | undefined> {
    return this.writer.submit(() => {
      const row = this.stmt.clearKey.get(by, at, at, deviceId, key) as AlarmRow | undefined;
      return row && this.streamed(toAlarm(row));
    });
  }

  async get(id: number): Promise<Alarm | undefined> {
    const row = this.stmt.get.get(id) as AlarmRow | undefined;
    return row && toAlarm(row);
  }

  async list(f: AlarmFilter): Promise<Alarm[]> {
    const { sql, args } = alarmWhere(f, () => '?');
    const rows = this.db.prepare(`SELECT ${ALARM_COLUMNS} FROM alarms ${sql} ORDER BY ts DESC, id DESC LIMIT ?`).all(...args, f.limit) as AlarmRow[];
    return rows.map(toAlarm);
  }

  /** Appends the alarm's stream record (inside the caller's writer job). */
  private streamed(alarm: Alarm): Positioned<Alarm> {
    return { ...alarm, pos: this.stream.append(alarm.deviceId, 'alarm', alarm.updatedAt, alarmStreamBody(alarm)) };
  }
}
