// SQLite implementation of twins: the edit runs inside a writer job, which
// is synchronous, so no other write can come between its read and its write.
import type { SqliteDb } from './db.js';
import { emptyTwin, toTwin, toTwinChange, twinStreamBody, type TwinChangeRow, type TwinRow } from './rows.js';
import type { SqliteStream } from './sqlite-stream.js';
import type { TwinChange, TwinDocument, TwinEdit, TwinStore, TwinWriteResult } from './types.js';
import type { GroupCommitWriter } from './writer.js';

/** Twins in SQLite. */
export class SqliteTwins implements TwinStore {
  private readonly stmt;

  constructor(
    db: SqliteDb,
    private readonly writer: GroupCommitWriter,
    private readonly stream: SqliteStream,
  ) {
    this.stmt = {
      get: db.prepare('SELECT * FROM twins WHERE device_id = ?'),
      upsert: db.prepare(
        `INSERT INTO twins (device_id, desired, desired_version, reported, reported_version, applied_version, updated_at)
         VALUES (@deviceId, @desired, @desiredVersion, @reported, @reportedVersion, @appliedVersion, @updatedAt)
         ON CONFLICT(device_id) DO UPDATE SET desired = excluded.desired, desired_version = excluded.desired_version,
           reported = excluded.reported, reported_version = excluded.reported_version,
           applied_version = excluded.applied_version, updated_at = excluded.updated_at`,
      ),
      change: db.prepare('INSERT INTO twin_history (device_id, side, version, patch, source, ts) VALUES (?, ?, ?, ?, ?, ?)'),
      history: db.prepare('SELECT * FROM twin_history WHERE device_id = ? ORDER BY id DESC LIMIT ?'),
    };
  }

  async get(deviceId: string): Promise<TwinDocument | undefined> {
    const row = this.stmt.get.get(deviceId) as TwinRow | undefined;
    return row && toTwin(row);
  }

  update(deviceId: string, edit: TwinEdit, now: number): Promise<TwinWriteResult> {
    return this.writer.submit((): TwinWriteResult => {
      const row = this.stmt.get.get(deviceId) as TwinRow | undefined;
      const current = row ? toTwin(row) : emptyTwin(deviceId);
      const outcome = edit(current);
      if ('code' in outcome) return { ok: false, code: outcome.code, message: outcome.message, twin: current };
      const { twin, change } = outcome;
      this.stmt.upsert.run({ ...twin, desired: JSON.stringify(twin.desired), reported: JSON.stringify(twin.reported), updatedAt: now });
      this.stmt.change.run(deviceId, change.side, change.version, JSON.stringify(change.patch), change.source, change.ts);
      const stored = { ...twin, updatedAt: now };
      const pos = this.stream.append(deviceId, 'twin', now, JSON.stringify(twinStreamBody(stored, change)));
      return { ok: true, twin: { ...stored, pos }, change };
    });
  }

  async history(deviceId: string, limit: number): Promise<TwinChange[]> {
    return (this.stmt.history.all(deviceId, limit) as TwinChangeRow[]).map(toTwinChange);
  }
}
