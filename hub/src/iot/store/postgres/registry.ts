// PostgreSQL implementation of the registry: sites, device classes, devices
// and bridge credentials. Reads go to the pool, writes through the writer.
import type pg from 'pg';
import type { BridgeToken, Device, DeviceClass, DeviceCredentials, DeviceFilter, RegistryStore, Site } from '../types.js';
import type { PgGroupCommitWriter } from './writer.js';

interface DeviceRow {
  id: string;
  class_id: string;
  site_id: string;
  name: string;
  meta: string;
  disabled: boolean;
  online: boolean;
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
    disabled: r.disabled,
    online: r.online,
    lastSeen: r.last_seen,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

type SiteRow = { id: string; name: string; meta: string; created_at: number };
type ClassRow = { id: string; name: string; description: string; meta: string; created_at: number };
type BridgeRow = { id: string; name: string; disabled: boolean; created_at: number };

const toSite = (r: SiteRow): Site => ({ id: r.id, name: r.name, meta: JSON.parse(r.meta), createdAt: r.created_at });
const toClass = (r: ClassRow): DeviceClass => ({ id: r.id, name: r.name, description: r.description, meta: JSON.parse(r.meta), createdAt: r.created_at });
const toBridgeToken = (r: BridgeRow): BridgeToken => ({ id: r.id, name: r.name, disabled: r.disabled, createdAt: r.created_at });

/** Registry records in PostgreSQL. */
export class PgRegistry implements RegistryStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
  ) {}

  async createSite(site: Site): Promise<void> {
    await this.writer.submit((c) => c.query('INSERT INTO sites (id, name, meta, created_at) VALUES ($1, $2, $3, $4)', [site.id, site.name, JSON.stringify(site.meta), site.createdAt]));
  }

  updateSite(id: string, patch: Partial<Pick<Site, 'name' | 'meta'>>): Promise<Site | undefined> {
    return this.writer.submit(async (c) => {
      const sets: string[] = [];
      const args: unknown[] = [];
      if (patch.name !== undefined) args.push(patch.name), sets.push(`name = $${args.length}`);
      if (patch.meta !== undefined) args.push(JSON.stringify(patch.meta)), sets.push(`meta = $${args.length}`);
      args.push(id);
      const sql = sets.length
        ? `UPDATE sites SET ${sets.join(', ')} WHERE id = $${args.length} RETURNING *`
        : `SELECT * FROM sites WHERE id = $${args.length}`;
      const row = (await c.query<SiteRow>(sql, args)).rows[0];
      return row && toSite(row);
    });
  }

  async getSite(id: string): Promise<Site | undefined> {
    const row = (await this.pool.query<SiteRow>('SELECT * FROM sites WHERE id = $1', [id])).rows[0];
    return row && toSite(row);
  }

  async listSites(): Promise<Site[]> {
    return (await this.pool.query<SiteRow>('SELECT * FROM sites ORDER BY id')).rows.map(toSite);
  }

  async createClass(cls: DeviceClass): Promise<void> {
    await this.writer.submit((c) =>
      c.query('INSERT INTO device_classes (id, name, description, meta, created_at) VALUES ($1, $2, $3, $4, $5)', [cls.id, cls.name, cls.description, JSON.stringify(cls.meta ?? {}), cls.createdAt]),
    );
  }

  updateClass(id: string, patch: Partial<Pick<DeviceClass, 'name' | 'description' | 'meta'>>): Promise<DeviceClass | undefined> {
    return this.writer.submit(async (c) => {
      const args: unknown[] = [];
      const sets: string[] = [];
      if (patch.name !== undefined) args.push(patch.name), sets.push(`name = $${args.length}`);
      if (patch.description !== undefined) args.push(patch.description), sets.push(`description = $${args.length}`);
      if (patch.meta !== undefined) args.push(JSON.stringify(patch.meta)), sets.push(`meta = $${args.length}`);
      args.push(id);
      const sql = sets.length
        ? `UPDATE device_classes SET ${sets.join(', ')} WHERE id = $${args.length} RETURNING *`
        : `SELECT * FROM device_classes WHERE id = $${args.length}`;
      const row = (await c.query<ClassRow>(sql, args)).rows[0];
      return row && toClass(row);
    });
  }

  async getClass(id: string): Promise<DeviceClass | undefined> {
    const row = (await this.pool.query<ClassRow>('SELECT * FROM device_classes WHERE id = $1', [id])).rows[0];
    return row && toClass(row);
  }

  async listClasses(): Promise<DeviceClass[]> {
    return (await this.pool.query<ClassRow>('SELECT * FROM device_classes ORDER BY id')).rows.map(toClass);
  }

  async createDevice(d: Omit<Device, 'online' | 'lastSeen'>, tokenHash: Buffer): Promise<void> {
    await this.writer.submit((c) =>
      c.query(
        'INSERT INTO devices (id, class_id, site_id, name, meta, token_hash, disabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [d.id, d.classId, d.siteId, d.name, JSON.stringify(d.meta), tokenHash, d.disabled, d.createdAt, d.updatedAt],
      ),
    );
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const row = (await this.pool.query<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [id])).rows[0];
    return row && toDevice(row);
  }

  async getCredentials(id: string): Promise<DeviceCredentials | undefined> {
    const row = (
      await this.pool.query<{ id: string; class_id: string; site_id: string; disabled: boolean; token_hash: Buffer }>(
        'SELECT id, class_id, site_id, disabled, token_hash FROM devices WHERE id = $1',
        [id],
      )
    ).rows[0];
    return row && { id: row.id, classId: row.class_id, siteId: row.site_id, disabled: row.disabled, tokenHash: row.token_hash };
  }

  async listDevices(f: DeviceFilter): Promise<Device[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.siteId !== undefined) args.push(f.siteId), where.push(`site_id = $${args.length}`);
    if (f.classId !== undefined) args.push(f.classId), where.push(`class_id = $${args.length}`);
    if (f.online !== undefined) args.push(f.online), where.push(`online = $${args.length}`);
    if (f.disabled !== undefined) args.push(f.disabled), where.push(`disabled = $${args.length}`);
    args.push(f.limit, f.offset);
    const sql = `SELECT ${DEVICE_COLUMNS} FROM devices ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT $${args.length - 1} OFFSET $${args.length}`;
    return (await this.pool.query<DeviceRow>(sql, args)).rows.map(toDevice);
  }

  updateDevice(id: string, patch: Partial<Pick<Device, 'name' | 'siteId' | 'meta' | 'disabled'>>): Promise<Device | undefined> {
    return this.writer.submit(async (c) => {
      const args: unknown[] = [Date.now()];
      const sets = ['updated_at = $1'];
      if (patch.name !== undefined) args.push(patch.name), sets.push(`name = $${args.length}`);
      if (patch.siteId !== undefined) args.push(patch.siteId), sets.push(`site_id = $${args.length}`);
      if (patch.meta !== undefined) args.push(JSON.stringify(patch.meta)), sets.push(`meta = $${args.length}`);
      if (patch.disabled !== undefined) args.push(patch.disabled), sets.push(`disabled = $${args.length}`);
      args.push(id);
      const row = (await c.query<DeviceRow>(`UPDATE devices SET ${sets.join(', ')} WHERE id = $${args.length} RETURNING ${DEVICE_COLUMNS}`, args)).rows[0];
      return row && toDevice(row);
    });
  }

  deleteDevice(id: string): Promise<boolean> {
    return this.writer.submit(async (c) => {
      await c.query('DELETE FROM device_state WHERE device_id = $1', [id]);
      return ((await c.query('DELETE FROM devices WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  setTokenHash(id: string, tokenHash: Buffer): Promise<boolean> {
    return this.writer.submit(async (c) => (await c.query('UPDATE devices SET token_hash = $1, updated_at = $2 WHERE id = $3', [tokenHash, Date.now(), id])).rowCount === 1);
  }

  async createBridgeToken(token: BridgeToken, tokenHash: Buffer): Promise<void> {
    await this.writer.submit((c) =>
      c.query('INSERT INTO bridge_tokens (id, name, token_hash, disabled, created_at) VALUES ($1, $2, $3, false, $4)', [token.id, token.name, tokenHash, token.createdAt]),
    );
  }

  async listBridgeTokens(): Promise<BridgeToken[]> {
    return (await this.pool.query<BridgeRow>('SELECT id, name, disabled, created_at FROM bridge_tokens ORDER BY created_at')).rows.map(toBridgeToken);
  }

  async findBridgeToken(tokenHash: Buffer): Promise<BridgeToken | undefined> {
    // The lookup is by hash, so timing reveals nothing about the token itself.
    const row = (await this.pool.query<BridgeRow>('SELECT id, name, disabled, created_at FROM bridge_tokens WHERE token_hash = $1', [tokenHash])).rows[0];
    return row && toBridgeToken(row);
  }

  disableBridgeToken(id: string): Promise<boolean> {
    return this.writer.submit(async (c) => (await c.query('UPDATE bridge_tokens SET disabled = true WHERE id = $1', [id])).rowCount === 1);
  }
}
