// PostgreSQL implementation of device state (current value plus history) and
// device events.
import type pg from 'pg';
import type { DeviceEvent, DeviceState, Positioned, StateChange, StateEventStore } from '../types.js';
import { toEvent, type EventRow } from '../rows.js';
import type { PgStream } from './stream.js';
import type { PgGroupCommitWriter } from './writer.js';



/** State and events in PostgreSQL. */
export class PgStateEvents implements StateEventStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
    private readonly stream: PgStream,
  ) {}

  applyState(change: StateChange, receivedAt: number): Promise<Positioned<DeviceState>> {
    return this.writer.submit(async (c) => {
      // FOR UPDATE: another hub applying a state to the same device waits here instead of losing an attribute.
      const row = (await c.query<{ attrs: string; ts: number }>('SELECT attrs, ts FROM device_state WHERE device_id = $1 FOR UPDATE', [change.deviceId])).rows[0];
      const attrs: Record<string, unknown> = row ? JSON.parse(row.attrs) : {};
      // Each attribute's last reported value wins; null removes an attribute.
      for (const [key, value] of Object.entries(change.attrs)) {
        if (value === null) delete attrs[key];
        else attrs[key] = value;
      }
      const ts = row ? Math.max(row.ts, change.ts) : change.ts;
      const attrsJson = JSON.stringify(attrs);
      await c.query(
        `INSERT INTO device_state (device_id, attrs, ts, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (device_id) DO UPDATE SET attrs = excluded.attrs, ts = excluded.ts, updated_at = excluded.updated_at`,
        [change.deviceId, attrsJson, ts, receivedAt],
      );
      const changed = JSON.stringify(change.attrs);
      await c.query('INSERT INTO state_history (device_id, ts, attrs) VALUES ($1, $2, $3)', [change.deviceId, change.ts, changed]);
      const pos = await this.stream.append(c, change.deviceId, 'state', receivedAt, `{"attrs":${attrsJson},"ts":${ts},"updatedAt":${receivedAt},"changed":${changed}}`);
      return { deviceId: change.deviceId, attrs, ts, updatedAt: receivedAt, pos };
    });
  }

  async getState(deviceId: string): Promise<DeviceState | undefined> {
    const row = (
      await this.pool.query<{ device_id: string; attrs: string; ts: number; updated_at: number }>(
        'SELECT device_id, attrs, ts, updated_at FROM device_state WHERE device_id = $1',
        [deviceId],
      )
    ).rows[0];
    return row && { deviceId: row.device_id, attrs: JSON.parse(row.attrs), ts: row.ts, updatedAt: row.updated_at };
  }

  async stateHistory(deviceId: string, from: number, to: number, limit: number): Promise<StateChange[]> {
    const { rows } = await this.pool.query<{ device_id: string; ts: number; attrs: string }>(
      'SELECT device_id, ts, attrs FROM state_history WHERE device_id = $1 AND ts BETWEEN $2 AND $3 ORDER BY ts DESC, id DESC LIMIT $4',
      [deviceId, from, to, limit],
    );
    return rows.map((r) => ({ deviceId: r.device_id, ts: r.ts, attrs: JSON.parse(r.attrs) }));
  }

  insertEvent(e: Omit<DeviceEvent, 'id'>): Promise<Positioned<DeviceEvent>> {
    return this.writer.submit(async (c) => {
      const data = e.data === undefined || e.data === null ? null : JSON.stringify(e.data);
      const { rows } = await c.query<{ id: number }>(
        'INSERT INTO events (device_id, ts, kind, severity, message, data, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
        [e.deviceId, e.ts, e.kind, e.severity, e.message, data, e.receivedAt],
      );
      const event: DeviceEvent = { ...e, id: rows[0]!.id };
      const { deviceId: _deviceId, ...body } = event;
      return { ...event, pos: await this.stream.append(c, e.deviceId, 'event', e.receivedAt, JSON.stringify(body)) };
    });
  }

  async listEvents(deviceId: string, from: number, to: number, kind: string | undefined, limit: number): Promise<DeviceEvent[]> {
    const { rows } = kind
      ? await this.pool.query<EventRow>(
          'SELECT * FROM events WHERE device_id = $1 AND ts BETWEEN $2 AND $3 AND kind = $4 ORDER BY ts DESC, id DESC LIMIT $5',
          [deviceId, from, to, kind, limit],
        )
      : await this.pool.query<EventRow>('SELECT * FROM events WHERE device_id = $1 AND ts BETWEEN $2 AND $3 ORDER BY ts DESC, id DESC LIMIT $4', [
          deviceId,
          from,
          to,
          limit,
        ]);
    return rows.map(toEvent);
  }

  async recentAlarms(limit: number): Promise<DeviceEvent[]> {
    // As in SQLite: a scan of a table that retention keeps bounded, top-N sorted.
    const { rows } = await this.pool.query<EventRow>(
      "SELECT * FROM events WHERE kind = 'alarm' OR severity IN ('warning', 'error', 'critical') ORDER BY ts DESC, id DESC LIMIT $1",
      [limit],
    );
    return rows.map(toEvent);
  }
}
