// PostgreSQL implementation of twins. The row is created if missing, then
// locked (FOR UPDATE) for the edit, so that edits of one twin from several
// hubs sharing the database run one after the other.
import type pg from 'pg';
import { toTwin, toTwinChange, twinStreamBody, type TwinChangeRow, type TwinRow } from '../rows.js';
import type { TwinChange, TwinDocument, TwinEdit, TwinStore, TwinWriteResult } from '../types.js';
import type { PgStream } from './stream.js';
import type { PgGroupCommitWriter } from './writer.js';

const COLUMNS = 'device_id, desired, desired_version, reported, reported_version, applied_version, updated_at';

/** Twins in PostgreSQL. */
export class PgTwins implements TwinStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
    private readonly stream: PgStream,
  ) {}

  async get(deviceId: string): Promise<TwinDocument | undefined> {
    const row = (await this.pool.query<TwinRow>(`SELECT ${COLUMNS} FROM twins WHERE device_id = $1`, [deviceId])).rows[0];
    return row && toTwin(row);
  }

  update(deviceId: string, edit: TwinEdit, now: number): Promise<TwinWriteResult> {
    return this.writer.submit(async (client): Promise<TwinWriteResult> => {
      await client.query(
        `INSERT INTO twins (${COLUMNS}) VALUES ($1, '{}', 0, '{}', 0, 0, 0) ON CONFLICT (device_id) DO NOTHING`,
        [deviceId],
      );
      const row = (await client.query<TwinRow>(`SELECT ${COLUMNS} FROM twins WHERE device_id = $1 FOR UPDATE`, [deviceId])).rows[0]!;
      const current = toTwin(row);
      const outcome = edit(current);
      if ('code' in outcome) return { ok: false, code: outcome.code, message: outcome.message, twin: current };
      const { twin, change } = outcome;
      await client.query(
        `UPDATE twins SET desired = $2, desired_version = $3, reported = $4, reported_version = $5, applied_version = $6, updated_at = $7 WHERE device_id = $1`,
        [deviceId, JSON.stringify(twin.desired), twin.desiredVersion, JSON.stringify(twin.reported), twin.reportedVersion, twin.appliedVersion, now],
      );
      await client.query('INSERT INTO twin_history (device_id, side, version, patch, source, ts) VALUES ($1, $2, $3, $4, $5, $6)', [
        deviceId,
        change.side,
        change.version,
        JSON.stringify(change.patch),
        change.source,
        change.ts,
      ]);
      const stored = { ...twin, updatedAt: now };
      const pos = await this.stream.append(client, deviceId, 'twin', now, JSON.stringify(twinStreamBody(stored, change)));
      return { ok: true, twin: { ...stored, pos }, change };
    });
  }

  async history(deviceId: string, limit: number): Promise<TwinChange[]> {
    const { rows } = await this.pool.query<TwinChangeRow>(
      'SELECT device_id, side, version, patch, source, ts FROM twin_history WHERE device_id = $1 ORDER BY id DESC LIMIT $2',
      [deviceId, limit],
    );
    return rows.map(toTwinChange);
  }
}
