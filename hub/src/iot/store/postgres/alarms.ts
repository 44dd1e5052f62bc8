// PostgreSQL implementation of alarm rules and alarms, the same shape as
// sqlite-alarms.ts: each alarm write appends its stream record in the same job.
import type pg from 'pg';
import { ALARM_COLUMNS, alarmStreamBody, alarmWhere, ruleSpec, toAlarm, toRule, type AlarmRow, type RuleRow } from '../alarm-rows.js';
import type { Alarm, AlarmChange, AlarmFilter, AlarmRule, AlarmStore, Positioned } from '../types.js';
import type { PgStream } from './stream.js';
import type { PgGroupCommitWriter } from './writer.js';

/** Rules and alarms in PostgreSQL. */
export class PgAlarms implements AlarmStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
    private readonly stream: PgStream,
  ) {}

  async listRules(): Promise<AlarmRule[]> {
    return (await this.pool.query<RuleRow>('SELECT id, spec FROM alarm_rules ORDER BY created_at, id')).rows.map(toRule);
  }

  async getRule(id: string): Promise<AlarmRule | undefined> {
    const row = (await this.pool.query<RuleRow>('SELECT id, spec FROM alarm_rules WHERE id = $1', [id])).rows[0];
    return row && toRule(row);
  }

  putRule(rule: AlarmRule): Promise<void> {
    return this.writer.submit(async (c) => {
      await c.query('INSERT INTO alarm_rules (id, spec, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET spec = excluded.spec', [
        rule.id,
        ruleSpec(rule),
        rule.createdAt,
      ]);
    });
  }

  deleteRule(id: string): Promise<boolean> {
    return this.writer.submit(async (c) => ((await c.query('DELETE FROM alarm_rules WHERE id = $1', [id])).rowCount ?? 0) > 0);
  }

  raise(a: Parameters<AlarmStore['raise']>[0]): Promise<Positioned<Alarm> | undefined> {
    return this.writer.submit(async (c) => {
      const value = a.value === undefined ? null : JSON.stringify(a.value);
      const row = (
        await c.query<AlarmRow>(
          `INSERT INTO alarms (device_id, rule_id, source, kind, alarm_key, severity, message, value, state, ts, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9) ON CONFLICT DO NOTHING RETURNING ${ALARM_COLUMNS}`,
          [a.deviceId, a.ruleId, a.source, a.kind, a.key, a.severity, a.message, value, a.ts],
        )
      ).rows[0];
      return row && this.streamed(c, toAlarm(row));
    });
  }

  change(id: number, ch: AlarmChange): Promise<Positioned<Alarm> | undefined> {
    const sql =
      ch.state === 'acknowledged'
        ? `UPDATE alarms SET state = 'acknowledged', acked_by = $1, acked_at = $2, updated_at = $2 WHERE id = $3 AND state = 'active' RETURNING ${ALARM_COLUMNS}`
        : `UPDATE alarms SET state = 'cleared', cleared_by = $1, cleared_at = $2, updated_at = $2 WHERE id = $3 AND state <> 'cleared' RETURNING ${ALARM_COLUMNS}`;
    return this.writer.submit(async (c) => {
      const row = (await c.query<AlarmRow>(sql, [ch.by, ch.at, id])).rows[0];
      return row && this.streamed(c, toAlarm(row));
    });
  }

  clearKey(deviceId: string, key: string, by: string, at: number): Promise<Positioned<Alarm> | undefined> {
    return this.writer.submit(async (c) => {
      const row = (
        await c.query<AlarmRow>(
          `UPDATE alarms SET state = 'cleared', cleared_by = $1, cleared_at = $2, updated_at = $2 WHERE device_id = $3 AND alarm_key = $4 AND state <> 'cleared' RETURNING ${ALARM_COLUMNS}`,
          [by, at, deviceId, key],
        )
      ).rows[0];
      return row && this.streamed(c, toAlarm(row));
    });
  }

  async get(id: number): Promise<Alarm | undefined> {
    const row = (await this.pool.query<AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = $1`, [id])).rows[0];
    return row && toAlarm(row);
  }

  async list(f: AlarmFilter): Promise<Alarm[]> {
    const { sql, args } = alarmWhere(f, (i) => `$${i}`);
    args.push(f.limit);
    const { rows } = await this.pool.query<AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms ${sql} ORDER BY ts DESC, id DESC LIMIT $${args.length}`, args);
    return rows.map(toAlarm);
  }

  private async streamed(c: pg.ClientBase, alarm: Alarm): Promise<Positioned<Alarm>> {
    return { ...alarm, pos: await this.stream.append(c, alarm.deviceId, 'alarm', alarm.updatedAt, alarmStreamBody(alarm)) };
  }
}
