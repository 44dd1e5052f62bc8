// PostgreSQL implementation of presence: the online flag and last-seen time
// on the device, and the connect/disconnect history.
import type pg from 'pg';
import type { PresenceChange, PresenceStore } from '../types.js';
import type { PgStream } from './stream.js';
import type { PgGroupCommitWriter } from './writer.js';

/** Presence in PostgreSQL. */
export class PgPresence implements PresenceStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
    private readonly stream: PgStream,
  ) {}

  record(c: PresenceChange): Promise<number> {
    return this.writer.submit(async (client) => {
      await client.query('UPDATE devices SET online = $1, last_seen = $2 WHERE id = $3', [c.online, c.ts, c.deviceId]);
      await client.query('INSERT INTO presence_log (device_id, online, ts, reason, transport) VALUES ($1, $2, $3, $4, $5)', [
        c.deviceId,
        c.online,
        c.ts,
        c.reason,
        c.transport,
      ]);
      return this.stream.append(client, c.deviceId, 'presence', c.ts, JSON.stringify({ online: c.online, ts: c.ts, reason: c.reason, transport: c.transport }));
    });
  }

  resetOnline(ts: number): Promise<number> {
    return this.writer.submit(async (client) => {
      // last_seen stays what it was: the hub did not see the devices at restart time.
      const { rows } = await client.query<{ id: string }>('UPDATE devices SET online = false WHERE online RETURNING id');
      if (rows.length) {
        await client.query(
          `INSERT INTO presence_log (device_id, online, ts, reason, transport)
           SELECT id, false, $2, 'hub restarted', '' FROM unnest($1::text[]) AS u(id)`,
          [rows.map((r) => r.id), ts],
        );
        // Nobody is subscribed yet at start: the change reaches bridges through the replay log.
        const body = JSON.stringify({ online: false, ts, reason: 'hub restarted', transport: '' });
        for (const { id } of rows) await this.stream.append(client, id, 'presence', ts, body);
      }
      return rows.length;
    });
  }

  async history(deviceId: string, limit: number): Promise<PresenceChange[]> {
    const { rows } = await this.pool.query<{ device_id: string; online: boolean; ts: number; reason: string; transport: string }>(
      'SELECT device_id, online, ts, reason, transport FROM presence_log WHERE device_id = $1 ORDER BY ts DESC, id DESC LIMIT $2',
      [deviceId, limit],
    );
    return rows.map((r) => ({ deviceId: r.device_id, online: r.online, ts: r.ts, reason: r.reason, transport: r.transport }));
  }
}
