// SQLite implementation of file metadata and hub -> device deliveries.
import type { SqliteDb } from './db.js';
import { toDelivery, toFile, type FileDeliveryRow, type FileRow } from './rows.js';
import type { FileDeliveryRecord, FileDeliveryUpdate, FileRecord, FileStore } from './types.js';
import type { GroupCommitWriter } from './writer.js';

/** Files in SQLite. */
export class SqliteFiles implements FileStore {
  private readonly stmt;

  constructor(
    private readonly db: SqliteDb,
    private readonly writer: GroupCommitWriter,
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO files (id, name, size, sha256, content_type, direction, device_id, kind, source, created_at)
         VALUES (@id, @name, @size, @sha256, @contentType, @direction, @deviceId, @kind, @source, @createdAt)`,
      ),
      deliver: db.prepare("INSERT INTO file_deliveries (file_id, device_id, status, confirmed, chunks, error, updated_at) VALUES (?, ?, 'pending', 0, ?, NULL, ?)"),
      get: db.prepare('SELECT * FROM files WHERE id = ?'),
      deliveries: db.prepare('SELECT * FROM file_deliveries WHERE file_id = ? ORDER BY device_id'),
      open: db.prepare(
        "SELECT d.* FROM file_deliveries d JOIN files f ON f.id = d.file_id WHERE d.device_id = ? AND d.status IN ('pending', 'sending') ORDER BY f.created_at, f.id",
      ),
      delivery: db.prepare('SELECT * FROM file_deliveries WHERE file_id = ? AND device_id = ?'),
      usage: db.prepare("SELECT coalesce(sum(CASE WHEN device_id = ? AND direction = 'from_device' THEN size END), 0) AS device, coalesce(sum(size), 0) AS total FROM files"),
      expired: db.prepare(
        `SELECT * FROM files f WHERE f.created_at < ? AND NOT EXISTS
           (SELECT 1 FROM file_deliveries d WHERE d.file_id = f.id AND d.status IN ('pending', 'sending')) ORDER BY f.created_at LIMIT ?`,
      ),
      deleteFile: db.prepare('DELETE FROM files WHERE id = ?'),
      deleteDeliveries: db.prepare('DELETE FROM file_deliveries WHERE file_id = ?'),
    };
  }

  create(file: FileRecord, deliverTo: readonly string[], chunks: number): Promise<void> {
    return this.writer.submit(() => {
      this.stmt.insert.run(file);
      for (const deviceId of deliverTo) this.stmt.deliver.run(file.id, deviceId, chunks, file.createdAt);
    });
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const row = this.stmt.get.get(id) as FileRow | undefined;
    return row && toFile(row);
  }

  async list(f: { direction?: FileRecord['direction']; deviceId?: string; limit: number }): Promise<FileRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.direction !== undefined) where.push('direction = ?'), args.push(f.direction);
    if (f.deviceId !== undefined) {
      where.push('(device_id = ? OR id IN (SELECT file_id FROM file_deliveries WHERE device_id = ?))');
      args.push(f.deviceId, f.deviceId);
    }
    const sql = `SELECT * FROM files ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as FileRow[]).map(toFile);
  }

  async deliveries(fileId: string): Promise<FileDeliveryRecord[]> {
    return (this.stmt.deliveries.all(fileId) as FileDeliveryRow[]).map(toDelivery);
  }

  async openDeliveries(deviceId: string): Promise<FileDeliveryRecord[]> {
    return (this.stmt.open.all(deviceId) as FileDeliveryRow[]).map(toDelivery);
  }

  updateDelivery(fileId: string, deviceId: string, u: FileDeliveryUpdate, now: number): Promise<FileDeliveryRecord | undefined> {
    return this.writer.submit(() => {
      const sets = ['updated_at = ?'];
      const args: unknown[] = [now];
      if (u.status !== undefined) sets.push('status = ?'), args.push(u.status);
      if (u.confirmed !== undefined) sets.push('confirmed = ?'), args.push(u.confirmed);
      if (u.error !== undefined) sets.push('error = ?'), args.push(u.error);
      const info = this.db
        .prepare(`UPDATE file_deliveries SET ${sets.join(', ')} WHERE file_id = ? AND device_id = ? AND status IN ('pending', 'sending')`)
        .run(...args, fileId, deviceId);
      if (info.changes === 0) return undefined;
      return toDelivery(this.stmt.delivery.get(fileId, deviceId) as FileDeliveryRow);
    });
  }

  async usage(deviceId: string): Promise<{ device: number; total: number }> {
    return this.stmt.usage.get(deviceId) as { device: number; total: number };
  }

  async expired(cutoff: number, limit: number): Promise<FileRecord[]> {
    return (this.stmt.expired.all(cutoff, limit) as FileRow[]).map(toFile);
  }

  delete(id: string): Promise<void> {
    return this.writer.submit(() => {
      this.stmt.deleteDeliveries.run(id);
      this.stmt.deleteFile.run(id);
    });
  }
}
