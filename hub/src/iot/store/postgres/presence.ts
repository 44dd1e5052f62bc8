// PostgreSQL implementation of presence: the online flag and last-seen time
// on the device, and the connect/disconnect history.
import type pg from 'pg';
import type { ClaimedSession, PresenceChange, PresenceStore, ReleasedDevice } from '../types.js';
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

  claim(c: PresenceChange, node: string): Promise<ClaimedSession> {
    return this.writer.submit(async (client) => {
      // The row lock orders two sessions of one device: the later commit gets the higher epoch.
      const { rows } = await client.query<{ presence_epoch: string }>(
        'UPDATE devices SET online = true, last_seen = $1, presence_epoch = presence_epoch + 1, presence_node = $2 WHERE id = $3 RETURNING presence_epoch',
        [c.ts, node, c.deviceId],
      );
      if (!rows[0]) throw new Error(`device "${c.deviceId}" does not exist`);
      await this.log(client, c);
      const pos = await this.stream.append(client, c.deviceId, 'presence', c.ts, body(c));
      return { epoch: Number(rows[0].presence_epoch), pos };
    });
  }

  recordIfCurrent(c: PresenceChange, epoch: number): Promise<number | undefined> {
    return this.writer.submit(async (client) => {
      const { rowCount } = await client.query('UPDATE devices SET online = $1, last_seen = $2 WHERE id = $3 AND presence_epoch = $4', [c.online, c.ts, c.deviceId, epoch]);
      if (!rowCount) return undefined;
      await this.log(client, c);
      return this.stream.append(client, c.deviceId, 'presence', c.ts, body(c));
    });
  }

  releaseNode(node: string, ts: number, reason: string): Promise<ReleasedDevice[]> {
    return this.writer.submit(async (client) => {
      // last_seen stays: the node that saw the devices last kept it up to date.
      const { rows } = await client.query<{ id: string }>('UPDATE devices SET online = false WHERE online AND presence_node = $1 RETURNING id', [node]);
      const released: ReleasedDevice[] = [];
      for (const { id } of rows) {
        const change = { deviceId: id, online: false, ts, reason, transport: '' };
        await this.log(client, change);
        released.push({ deviceId: id, pos: await this.stream.append(client, id, 'presence', ts, body(change)) });
      }
      return released;
    });
  }

  heartbeat(node: string, ts: number, url?: string): Promise<boolean> {
    return this.writer.submit(async (client) => {
      const { rows } = await client.query<{ known: boolean }>(
        `INSERT INTO hub_nodes (node_id, beats, at, url) VALUES ($1, 1, $2, $3)
         ON CONFLICT (node_id) DO UPDATE SET beats = hub_nodes.beats + 1, at = $2, url = $3
         RETURNING (xmax <> 0) AS known`,
        [node, ts, url ?? null],
      );
      return rows[0]!.known;
    });
  }

  async nodes(): Promise<Array<{ node: string; beats: number; at: number; url?: string }>> {
    const { rows } = await this.pool.query<{ node_id: string; beats: string; at: string; url: string | null }>('SELECT node_id, beats, at, url FROM hub_nodes');
    return rows.map((r) => ({ node: r.node_id, beats: Number(r.beats), at: Number(r.at), ...(r.url !== null && { url: r.url }) }));
  }

  async epochs(deviceIds: readonly string[]): Promise<Array<{ deviceId: string; epoch: number }>> {
    const { rows } = await this.pool.query<{ id: string; presence_epoch: number }>('SELECT id, presence_epoch FROM devices WHERE id = ANY($1)', [deviceIds]);
    return rows.map((r) => ({ deviceId: r.id, epoch: Number(r.presence_epoch) }));
  }

  forgetNode(node: string): Promise<void> {
    return this.writer.submit(async (client) => void (await client.query('DELETE FROM hub_nodes WHERE node_id = $1', [node])));
  }

  private async log(client: pg.ClientBase, c: PresenceChange): Promise<void> {
    await client.query('INSERT INTO presence_log (device_id, online, ts, reason, transport) VALUES ($1, $2, $3, $4, $5)', [c.deviceId, c.online, c.ts, c.reason, c.transport]);
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

/** A presence change's stream body. */
function body(c: PresenceChange): string {
  return JSON.stringify({ online: c.online, ts: c.ts, reason: c.reason, transport: c.transport });
}
