// SQLite implementation of device state (current value plus history) and
// device events.
import type { SqliteDb } from './db.js';
import { toEvent, type EventRow } from './rows.js';
import type { SqliteStream } from './sqlite-stream.js';
import type { GroupCommitWriter } from './writer.js';
import type { DeviceEvent, DeviceState, Positioned, StateChange, StateEventStore } from './types.js';



/** State and events in SQLite. */
export class SqliteStateEvents implements StateEventStore {
  private readonly stmt;

  constructor(
    private readonly db: SqliteDb,
    private readonly writer: GroupCommitWriter,
    private readonly stream: SqliteStream,
  ) {
    this.stmt = {
      getState: db.prepare('SELECT device_id, attrs, ts, updated_at FROM device_state WHERE device_id = ?'),
      putState: db.prepare(
        `INSERT INTO device_state (device_id, attrs, ts, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(device_id) DO UPDATE SET attrs = excluded.attrs, ts = excluded.ts, updated_at = excluded.updated_at`,
      ),
      addHistory: db.prepare('INSERT INTO state_history (device_id, ts, attrs) VALUES (?, ?, ?)'),
      history: db.prepare('SELECT device_id, ts, attrs FROM state_history WHERE device_id = ? AND ts BETWEEN ? AND ? ORDER BY ts DESC, id DESC LIMIT ?'),
      insertEvent: db.prepare(
        'INSERT INTO events (device_id, ts, kind, severity, message, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  applyState(change: StateChange, receivedAt: number): Promise<Positioned<DeviceState>> {
    return this.writer.submit(() => {
      const row = this.stmt.getState.get(change.deviceId) as { attrs: string; ts: number } | undefined;
      const attrs: Record<string, unknown> = row ? JSON.parse(row.attrs) : {};
      // Each attribute's last reported value wins; null removes an attribute.
      for (const [key, value] of Object.entries(change.attrs)) {
        if (value === null) delete attrs[key];
        else attrs[key] = value;
      }
      const ts = row ? Math.max(row.ts, change.ts) : change.ts;
      const attrsJson = JSON.stringify(attrs);
      this.stmt.putState.run(change.deviceId, attrsJson, ts, receivedAt);
      const changed = JSON.stringify(change.attrs);
      this.stmt.addHistory.run(change.deviceId, change.ts, changed);
      const pos = this.stream.append(change.deviceId, 'state', receivedAt, `{"attrs":${attrsJson},"ts":${ts},"updatedAt":${receivedAt},"changed":${changed}}`);
      return { deviceId: change.deviceId, attrs, ts, updatedAt: receivedAt, pos };
    });
  }

  async getState(deviceId: string): Promise<DeviceState | undefined> {
    const row = this.stmt.getState.get(deviceId) as { device_id: string; attrs: string; ts: number; updated_at: number } | undefined;
    return row && { deviceId: row.device_id, attrs: JSON.parse(row.attrs), ts: row.ts, updatedAt: row.updated_at };
  }

  async stateHistory(deviceId: string, from: number, to: number, limit: number): Promise<StateChange[]> {
    const rows = this.stmt.history.all(deviceId, from, to, limit) as Array<{ device_id: string; ts: number; attrs: string }>;
    return rows.map((r) => ({ deviceId: r.device_id, ts: r.ts, attrs: JSON.parse(r.attrs) }));
  }

  insertEvent(e: Omit<DeviceEvent, 'id'>): Promise<Positioned<DeviceEvent>> {
    return this.writer.submit(() => {
      const data = e.data === undefined || e.data === null ? null : JSON.stringify(e.data);
      const info = this.stmt.insertEvent.run(e.deviceId, e.ts, e.kind, e.severity, e.message, data, e.receivedAt);
      const event: DeviceEvent = { ...e, id: Number(info.lastInsertRowid) };
      const { deviceId: _deviceId, ...body } = event;
      const pos = this.stream.append(e.deviceId, 'event', e.receivedAt, JSON.stringify(body));
      return { ...event, pos };
    });
  }

  async listEvents(deviceId: string, from: number, to: number, kind: string | undefined, limit: number): Promise<DeviceEvent[]> {
    const rows = kind
      ? this.db
          .prepare('SELECT * FROM events WHERE device_id = ? AND ts BETWEEN ? AND ? AND kind = ? ORDER BY ts DESC, id DESC LIMIT ?')
          .all(deviceId, from, to, kind, limit)
      : this.db.prepare('SELECT * FROM events WHERE device_id = ? AND ts BETWEEN ? AND ? ORDER BY ts DESC, id DESC LIMIT ?').all(deviceId, from, to, limit);
    return (rows as EventRow[]).map(toEvent);
  }

  async recentAlarms(limit: number): Promise<DeviceEvent[]> {
    // No index on ts alone: a scan of a table that retention keeps bounded, top-N sorted.
    const rows = this.db
      .prepare("SELECT * FROM events WHERE kind = 'alarm' OR severity IN ('warning', 'error', 'critical') ORDER BY ts DESC, id DESC LIMIT ?")
      .all(limit);
    return (rows as EventRow[]).map(toEvent);
  }
}
