// SQLite implementation of presence: the online flag and last-seen time on
// the device, and the connect/disconnect history.
import type { SqliteDb } from './db.js';
import type { SqliteStream } from './sqlite-stream.js';
import type { GroupCommitWriter } from './writer.js';
import type { ClaimedSession, PresenceChange, PresenceStore, ReleasedDevice } from './types.js';

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
      claim: db.prepare('UPDATE devices SET online = 1, last_seen = ?, presence_epoch = presence_epoch + 1, presence_node = ? WHERE id = ? RETURNING presence_epoch'),
      setIfCurrent: db.prepare('UPDATE devices SET online = ?, last_seen = ? WHERE id = ? AND presence_epoch = ?'),
      onlineOnNode: db.prepare('SELECT id FROM devices WHERE online = 1 AND presence_node = ?'),
      release: db.prepare('UPDATE devices SET online = 0 WHERE id = ?'),
      beatInsert: db.prepare('INSERT INTO hub_nodes (node_id, beats, at, url) VALUES (?, 1, ?, ?) ON CONFLICT (node_id) DO NOTHING'),
      beat: db.prepare('UPDATE hub_nodes SET beats = beats + 1, at = ?, url = ? WHERE node_id = ?'),
      nodes: db.prepare('SELECT node_id, beats, at, url FROM hub_nodes'),
      forget: db.prepare('DELETE FROM hub_nodes WHERE node_id = ?'),
      epoch: db.prepare('SELECT presence_epoch FROM devices WHERE id = ?'),
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

  claim(c: PresenceChange, node: string): Promise<ClaimedSession> {
    return this.writer.submit(() => {
      const row = this.stmt.claim.get(c.ts, node, c.deviceId) as { presence_epoch: number } | undefined;
      if (!row) throw new Error(`device "${c.deviceId}" does not exist`);
      this.stmt.log.run(c.deviceId, 1, c.ts, c.reason, c.transport);
      const pos = this.stream.append(c.deviceId, 'presence', c.ts, JSON.stringify({ online: true, ts: c.ts, reason: c.reason, transport: c.transport }));
      return { epoch: row.presence_epoch, pos };
    });
  }

  recordIfCurrent(c: PresenceChange, epoch: number): Promise<number | undefined> {
    return this.writer.submit(() => {
      if (this.stmt.setIfCurrent.run(c.online ? 1 : 0, c.ts, c.deviceId, epoch).changes === 0) return undefined;
      this.stmt.log.run(c.deviceId, c.online ? 1 : 0, c.ts, c.reason, c.transport);
      return this.stream.append(c.deviceId, 'presence', c.ts, JSON.stringify({ online: c.online, ts: c.ts, reason: c.reason, transport: c.transport }));
    });
  }

  releaseNode(node: string, ts: number, reason: string): Promise<ReleasedDevice[]> {
    return this.writer.submit(() => {
      const ids = this.stmt.onlineOnNode.all(node) as Array<{ id: string }>;
      const body = JSON.stringify({ online: false, ts, reason, transport: '' });
      return ids.map(({ id }) => {
        this.stmt.release.run(id);
        this.stmt.log.run(id, 0, ts, reason, '');
        return { deviceId: id, pos: this.stream.append(id, 'presence', ts, body) };
      });
    });
  }

  heartbeat(node: string, ts: number, url?: string): Promise<boolean> {
    return this.writer.submit(() => {
      const known = this.stmt.beatInsert.run(node, ts, url ?? null).changes === 0;
      if (known) this.stmt.beat.run(ts, url ?? null, node);
      return known;
    });
  }

  async nodes(): Promise<Array<{ node: string; beats: number; at: number; url?: string }>> {
    return (this.stmt.nodes.all() as Array<{ node_id: string; beats: number; at: number; url: string | null }>).map((r) => ({
      node: r.node_id,
      beats: r.beats,
      at: r.at,
      ...(r.url !== null && { url: r.url }),
    }));
  }

  async epochs(deviceIds: readonly string[]): Promise<Array<{ deviceId: string; epoch: number }>> {
    const out: Array<{ deviceId: string; epoch: number }> = [];
    for (const deviceId of deviceIds) {
      const row = this.stmt.epoch.get(deviceId) as { presence_epoch: number } | undefined;
      if (row) out.push({ deviceId, epoch: row.presence_epoch });
    }
    return out;
  }

  forgetNode(node: string): Promise<void> {
    return this.writer.submit(() => void this.stmt.forget.run(node));
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
