// PostgreSQL implementation of file metadata and hub -> device deliveries,
// the same shape as sqlite-files.ts.
import type pg from 'pg';
import { toDelivery, toFile, type FileDeliveryRow, type FileRow } from '../rows.js';
import type { FileDeliveryRecord, FileDeliveryUpdate, FileRecord, FileStore } from '../types.js';
import type { PgGroupCommitWriter } from './writer.js';

const FILE_COLUMNS = 'id, name, size, sha256, content_type, direction, device_id, kind, source, created_at';
const DELIVERY_COLUMNS = 'file_id, device_id, status, confirmed, chunks, error, updated_at';

/** Files in PostgreSQL. */
export class PgFiles implements FileStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
  ) {}

  create(f: FileRecord, deliverTo: readonly string[], chunks: number): Promise<void> {
    return this.writer.submit(async (client) => {
      await client.query(`INSERT INTO files (${FILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
        f.id,
        f.name,
        f.size,
        f.sha256,
        f.contentType,
        f.direction,
        f.deviceId,
        f.kind,
        f.source,
        f.createdAt,
      ]);
      if (deliverTo.length) {
        await client.query(
          `INSERT INTO file_deliveries (${DELIVERY_COLUMNS}) SELECT $1, d, 'pending', 0, $2, NULL, $3 FROM unnest($4::text[]) AS d`,
          [f.id, chunks, f.createdAt, deliverTo],
        );
      }
    });
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const row = (await this.pool.query<FileRow>(`SELECT ${FILE_COLUMNS} FROM files WHERE id = $1`, [id])).rows[0];
    return row && toFile(row);
  }

  async list(f: { direction?: FileRecord['direction']; deviceId?: string; limit: number }): Promise<FileRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.direction !== undefined) args.push(f.direction), where.push(`direction = $${args.length}`);
    if (f.deviceId !== undefined) {
      args.push(f.deviceId);
      where.push(`(device_id = $${args.length} OR id IN (SELECT file_id FROM file_deliveries WHERE device_id = $${args.length}))`);
    }
    args.push(f.limit);
    const sql = `SELECT ${FILE_COLUMNS} FROM files ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT $${args.length}`;
    return (await this.pool.query<FileRow>(sql, args)).rows.map(toFile);
  }

  async deliveries(fileId: string): Promise<FileDeliveryRecord[]> {
    return (await this.pool.query<FileDeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM file_deliveries WHERE file_id = $1 ORDER BY device_id`, [fileId])).rows.map(toDelivery);
  }

  async openDeliveries(deviceId: string): Promise<FileDeliveryRecord[]> {
    const { rows } = await this.pool.query<FileDeliveryRow>(
      `SELECT d.file_id, d.device_id, d.status, d.confirmed, d.chunks, d.error, d.updated_at FROM file_deliveries d JOIN files f ON f.id = d.file_id
       WHERE d.device_id = $1 AND d.status IN ('pending', 'sending') ORDER BY f.created_at, f.id`,
      [deviceId],
    );
    return rows.map(toDelivery);
  }

  updateDelivery(fileId: string, deviceId: string, u: FileDeliveryUpdate, now: number): Promise<FileDeliveryRecord | undefined> {
    return this.writer.submit(async (client) => {
      const args: unknown[] = [now];
      const sets = ['updated_at = $1'];
      if (u.status !== undefined) args.push(u.status), sets.push(`status = $${args.length}`);
      if (u.confirmed !== undefined) args.push(u.confirmed), sets.push(`confirmed = $${args.length}`);
      if (u.error !== undefined) args.push(u.error), sets.push(`error = $${args.length}`);
      args.push(fileId, deviceId);
      const row = (
        await client.query<FileDeliveryRow>(
          `UPDATE file_deliveries SET ${sets.join(', ')} WHERE file_id = $${args.length - 1} AND device_id = $${args.length} AND status IN ('pending', 'sending') RETURNING ${DELIVERY_COLUMNS}`,
          args,
        )
      ).rows[0];
      return row && toDelivery(row);
    });
  }

  async usage(deviceId: string): Promise<{ device: number; total: number }> {
    const row = (
      await this.pool.query<{ device: string; total: string }>(
        "SELECT coalesce(sum(CASE WHEN device_id = $1 AND direction = 'from_device' THEN size END), 0)::bigint AS device, coalesce(sum(size), 0)::bigint AS total FROM files",
        [deviceId],
      )
    ).rows[0]!;
    return { device: Number(row.device), total: Number(row.total) };
  }

  async expired(cutoff: number, limit: number): Promise<FileRecord[]> {
    const { rows } = await this.pool.query<FileRow>(
      `SELECT ${FILE_COLUMNS} FROM files f WHERE f.created_at < $1 AND NOT EXISTS
         (SELECT 1 FROM file_deliveries d WHERE d.file_id = f.id AND d.status IN ('pending', 'sending')) ORDER BY f.created_at LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map(toFile);
  }

  delete(id: string): Promise<void> {
    return this.writer.submit(async (client) => {
      await client.query('DELETE FROM file_deliveries WHERE file_id = $1', [id]);
      await client.query('DELETE FROM files WHERE id = $1', [id]);
    });
  }
}
