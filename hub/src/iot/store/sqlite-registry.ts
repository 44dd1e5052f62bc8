// SQLite implementation of the registry: sites, device classes, devices and
// bridge credentials.
import type { SqliteDb } from './db.js';
import type { GroupCommitWriter } from './writer.js';
import type { BridgeToken, Device, DeviceClass, DeviceCredentials, DeviceFilter, RegistryStore, Site } from './types.js';

interface DeviceRow {
  id: string;
  class_id: string;
  site_id: string;
  name: string;
  meta: string;
  disabled: number;
  online: number;
  last_seen: number | null;
  created_at: number;
  updated_at: number;
}

const DEVICE_COLUMNS = 'id, class_id, site_id, name, meta, disabled, online, last_seen, created_at, updated_at';

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id,
    classId: r.class_id,
    siteId: r.site_id,
    name: r.name,
    meta: JSON.parse(r.meta),
    disabled: r.disabled === 1,
    online: r.online === 1,
    lastSeen: r.last_seen,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toSite(r: { id: string; name: string; meta: string; created_at: number }): Site {
  return { id: r.id, name: r.name, meta: JSON.parse(r.meta), createdAt: r.created_at };
}

function toClass(r: { id: string; name: string; description: string; meta: string; created_at: number }): DeviceClass {
  return { id: r.id, name: r.name, description: r.description, meta: JSON.parse(r.meta), createdAt: r.created_at };
}

function toBridgeToken(r: { id: string; name: string; disabled: number; created_at: number }): BridgeToken {
  return { id: r.id, name: r.name, disabled: r.disabled === 1, createdAt: r.created_at };
}

/** Registry records in SQLite; writes go through the group-commit writer. */
export class SqliteRegistry implements RegistryStore {
  private readonly stmt;

  constructor(
    private readonly db: SqliteDb,
    private readonly writer: GroupCommitWriter,
  ) {
    this.stmt = {
      insertSite: db.prepare('INSERT INTO sites (id, name, meta, created_at) VALUES (?, ?, ?, ?)'),
      getSite: db.prepare('SELECT * FROM sites WHERE id = ?'),
      listSites: db.prepare('SELECT * FROM sites ORDER BY id'),
      insertClass: db.prepare('INSERT INTO device_classes (id, name, description, meta, created_at) VALUES (?, ?, ?, ?, ?)'),
      getClass: db.prepare('SELECT * FROM device_classes WHERE id = ?'),
      listClasses: db.prepare('SELECT * FROM device_classes ORDER BY id'),
      insertDevice: db.prepare(
        'INSERT INTO devices (id, class_id, site_id, name, meta, token_hash, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getDevice: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`),
      getCredentials: db.prepare('SELECT id, class_id, site_id, disabled, token_hash FROM devices WHERE id = ?'),
      setTokenHash: db.prepare('UPDATE devices SET token_hash = ?, updated_at = ? WHERE id = ?'),
      insertBridge: db.prepare('INSERT INTO bridge_tokens (id, name, token_hash, disabled, created_at) VALUES (?, ?, ?, 0, ?)'),
      listBridges: db.prepare('SELECT id, name, disabled, created_at FROM bridge_tokens ORDER BY created_at'),
      findBridge: db.prepare('SELECT id, name, disabled, created_at FROM bridge_tokens WHERE token_hash = ?'),
      disableBridge: db.prepare('UPDATE bridge_tokens SET disabled = 1 WHERE id = ?'),
    };
  }

  async createSite(site: Site): Promise<void> {
    await this.writer.submit(() => this.stmt.insertSite.run(site.id, site.name, JSON.stringify(site.meta), site.createdAt));
  }

  async updateSite(id: string, patch: Partial<Pick<Site, 'name' | 'meta'>>): Promise<Site | undefined> {
    return this.writer.submit(() => {
      const sets: string[] = [];
      const args: unknown[] = [];
      if (patch.name !== undefined) sets.push('name = ?'), args.push(patch.name);
      if (patch.meta !== undefined) sets.push('meta = ?'), args.push(JSON.stringify(patch.meta));
      if (sets.length) this.db.prepare(`UPDATE sites SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
      const row = this.stmt.getSite.get(id) as Parameters<typeof toSite>[0] | undefined;
      return row && toSite(row);
    });
  }

  async getSite(id: string): Promise<Site | undefined> {
    const row = this.stmt.getSite.get(id) as Parameters<typeof toSite>[0] | undefined;
    return row && toSite(row);
  }

  async listSites(): Promise<Site[]> {
    return (this.stmt.listSites.all() as Parameters<typeof toSite>[0][]).map(toSite);
  }

  async createClass(cls: DeviceClass): Promise<void> {
    await this.writer.submit(() => this.stmt.insertClass.run(cls.id, cls.name, cls.description, JSON.stringify(cls.meta ?? {}), cls.createdAt));
  }

  async updateClass(id: string, patch: Partial<Pick<DeviceClass, 'name' | 'description' | 'meta'>>): Promise<DeviceClass | undefined> {
    return this.writer.submit(() => {
      const sets: string[] = [];
      const args: unknown[] = [];
      if (patch.name !== undefined) sets.push('name = ?'), args.push(patch.name);
      if (patch.description !== undefined) sets.push('description = ?'), args.push(patch.description);
      if (patch.meta !== undefined) sets.push('meta = ?'), args.push(JSON.stringify(patch.meta));
      if (sets.length) this.db.prepare(`UPDATE device_classes SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
      const row = this.stmt.getClass.get(id) as Parameters<typeof toClass>[0] | undefined;
      return row && toClass(row);
    });
  }

  async getClass(id: string): Promise<DeviceClass | undefined> {
    const row = this.stmt.getClass.get(id) as Parameters<typeof toClass>[0] | undefined;
    return row && toClass(row);
  }

  async listClasses(): Promise<DeviceClass[]> {
    return (this.stmt.listClasses.all() as Parameters<typeof toClass>[0][]).map(toClass);
  }

  async createDevice(d: Omit<Device, 'online' | 'lastSeen'>, tokenHash: Buffer): Promise<void> {
    await this.writer.submit(() =>
      this.stmt.insertDevice.run(d.id, d.classId, d.siteId, d.name, JSON.stringify(d.meta), tokenHash, d.disabled ? 1 : 0, d.createdAt, d.updatedAt),
    );
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const row = this.stmt.getDevice.get(id) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  async getCredentials(id: string): Promise<DeviceCredentials | undefined> {
    const row = this.stmt.getCredentials.get(id) as
      | { id: string; class_id: string; site_id: string; disabled: number; token_hash: Buffer }
      | undefined;
    return row && { id: row.id, classId: row.class_id, siteId: row.site_id, disabled: row.disabled === 1, tokenHash: row.token_hash };
  }

  async listDevices(f: DeviceFilter): Promise<Device[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.siteId !== undefined) where.push('site_id = ?'), args.push(f.siteId);
    if (f.classId !== undefined) where.push('class_id = ?'), args.push(f.classId);
    if (f.online !== undefined) where.push('online = ?'), args.push(f.online ? 1 : 0);
    if (f.disabled !== undefined) where.push('disabled = ?'), args.push(f.disabled ? 1 : 0);
    const sql = `SELECT ${DEVICE_COLUMNS} FROM devices ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...args, f.limit, f.offset) as DeviceRow[]).map(toDevice);
  }

  async updateDevice(id: string, patch: Partial<Pick<Device, 'name' | 'siteId' | 'meta' | 'disabled'>>): Promise<Device | undefined> {
    return this.writer.submit(() => {
      const sets = ['updated_at = ?'];
      const args: unknown[] = [Date.now()];
      if (patch.name !== undefined) sets.push('name = ?'), args.push(patch.name);
      if (patch.siteId !== undefined) sets.push('site_id = ?'), args.push(patch.siteId);
      if (patch.meta !== undefined) sets.push('meta = ?'), args.push(JSON.stringify(patch.meta));
      if (patch.disabled !== undefined) sets.push('disabled = ?'), args.push(patch.disabled ? 1 : 0);
      const info = this.db.prepare(`UPDATE devices SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
      if (info.changes === 0) return undefined;
      return toDevice(this.stmt.getDevice.get(id) as DeviceRow);
    });
  }

  deleteDevice(id: string): Promise<boolean> {
    return this.writer.submit(() => {
      this.db.prepare('DELETE FROM device_state WHERE device_id = ?').run(id);
      return this.db.prepare('DELETE FROM devices WHERE id = ?').run(id).changes > 0;
    });
  }

  async setTokenHash(id: string, tokenHash: Buffer): Promise<boolean> {
    return this.writer.submit(() => this.stmt.setTokenHash.run(tokenHash, Date.now(), id).changes === 1);
  }

  async createBridgeToken(token: BridgeToken, tokenHash: Buffer): Promise<void> {
    await this.writer.submit(() => this.stmt.insertBridge.run(token.id, token.name, tokenHash, token.createdAt));
  }

  async listBridgeTokens(): Promise<BridgeToken[]> {
    return (this.stmt.listBridges.all() as Parameters<typeof toBridgeToken>[0][]).map(toBridgeToken);
  }

  async findBridgeToken(tokenHash: Buffer): Promise<BridgeToken | undefined> {
    // The lookup is by hash, so timing reveals nothing about the token itself.
    const row = this.stmt.findBridge.get(tokenHash) as Parameters<typeof toBridgeToken>[0] | undefined;
    return row && toBridgeToken(row);
  }

  async disableBridgeToken(id: string): Promise<boolean> {
    return this.writer.submit(() => this.stmt.disableBridge.run(id).changes === 1);
  }
}
