// SQLite implementation of presence: the online flag and last-seen time on
// the device, and the connect/disconnect history.
import type { SqliteDb } from './db.js';
import type { SqliteStream } from './sqlite-stream.js';
import type { GroupCommitWriter } from './writer.js';
import type { PresenceChange, PresenceStore } from './types.js';

/** Presence in SQLite. */
export class SqlitePresence implements PresenceStore {
  private readonly stmt;

  constructor(
    db: SqliteDb,
    private readonly writer: GroupCommitWriter,
    private readonly stream: SqliteStream,
  ) {
    this.stmt = {
      setOnline: db.prepare('UPDATE devices SET online = ?, last_seen = ? WHERE id = ?'),
      log: db.prepare('INSERT INTO presence_log (device_id, online, ts, reason, transport) VALUES (?, ?, ?, ?, ?)'),
      onlineDevices: db.prepare('SELECT id FROM devices WHERE online = 1'),
      clearOnline: db.prepare('UPDATE devices SET online = 0 WHERE online = 1'),
      history: db.prepare('SELECT device_id, online, ts, reason, transport FROM presence_log WHERE device_id = ? ORDER BY ts DESC, id DESC LIMIT ?'),
    };
  }

  record(c: PresenceChange): Promise<number> {
    return this.writer.submit(() => {
      this.stmt.setOnline.run(c.online ? 1 : 0, c.ts, c.deviceId);
      this.stmt.log.run(c.deviceId, c.online ? 1 : 0, c.ts, c.reason, c.transport);
      return this.stream.append(c.deviceId, 'presence', c.ts, JSON.stringify({ online: c.online, ts: c.ts, reason: c.reason, transport: c.transport }));
    });
  }

  resetOnline(ts: number): Promise<number> {
    return this.writer.submit(() => {
      const ids = this.stmt.onlineDevices.all() as Array<{ id: string }>;
      // last_seen stays what it was: the hub did not see the devices at restart time.
      for (const { id } of ids) {
        this.stmt.log.run(id, 0, ts, 'hub restarted', '');
        // Nobody is subscribed yet at start: the change reaches bridges through the replay log.
        this.stream.append(id, 'presence', ts, JSON.stringify({ online: false, ts, reason: 'hub restarted', transport: '' }));
      }
      this.stmt.clearOnline.run();
      return ids.length;
    });
  }

  async history(deviceId: string, limit: number): Promise<PresenceChange[]> {
    const rows = this.stmt.history.all(deviceId, limit) as Array<{ device_id: string; online: number; ts: number; reason: string; transport: string }>;
    return rows.map((r) => ({ deviceId: r.device_id, online: r.online === 1, ts: r.ts, reason: r.reason, transport: r.transport }));
  }
}
