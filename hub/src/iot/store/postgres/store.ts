// The PostgreSQL Store: one pool, one group-commit writer, the partition
// keeper, and the per-resource implementations sharing them; the same shape
// as sqlite-store.ts, so that several hubs can share one database.
import type pg from 'pg';
import type { Store, StoreStats } from '../types.js';
import { PgAlarms } from './alarms.js';
import { PgCommands } from './commands.js';
import { PgPeople } from './people.js';
import { createPool, PG_DEFAULTS, type PgOptions } from './db.js';
import { migratePg } from './migrations.js';
import { PARTITION_MS, TelemetryPartitions } from './partitions.js';
import { PgPresence } from './presence.js';
import { PgRegistry } from './registry.js';
import { PgStateEvents } from './state-events.js';
import { PgStream } from './stream.js';
import { PgTelemetry } from './telemetry.js';
import { PgTwins } from './twins.js';
import { PgFiles } from './files.js';
import { PgGroupCommitWriter } from './writer.js';

/** Rows deleted per prune statement, so that retention never holds locks for long. */
const PRUNE_CHUNK = 5000;

/** How long /readyz waits for the database to answer. */
const PING_TIMEOUT_MS = 2000;

/** The hub's Store on a PostgreSQL database; call open() before anything else. */
export class PostgresStore implements Store {
  readonly pool: pg.Pool;
  readonly registry: PgRegistry;
  readonly telemetry: PgTelemetry;
  readonly stateEvents: PgStateEvents;
  readonly commands: PgCommands;
  readonly presence: PgPresence;
  readonly stream: PgStream;
  readonly twins: PgTwins;
  readonly files: PgFiles;
  readonly alarms: PgAlarms;
  readonly people: PgPeople;
  readonly partitions = new TelemetryPartitions();
  private readonly writer: PgGroupCommitWriter;
  private closed = false;

  constructor(opts: Partial<PgOptions> & { url: string }, onPoolError: (err: Error) => void = () => {}) {
    const options = { ...PG_DEFAULTS, ...opts };
    this.pool = createPool(options, onPoolError);
    this.writer = new PgGroupCommitWriter(this.pool, options.writerMaxBatch);
    this.stream = new PgStream(this.pool, this.writer);
    this.registry = new PgRegistry(this.pool, this.writer);
    this.telemetry = new PgTelemetry(this.pool, this.writer, this.partitions);
    this.stateEvents = new PgStateEvents(this.pool, this.writer, this.stream);
    this.commands = new PgCommands(this.pool, this.writer, this.stream);
    this.presence = new PgPresence(this.pool, this.writer, this.stream);
    this.twins = new PgTwins(this.pool, this.writer, this.stream);
    this.files = new PgFiles(this.pool, this.writer);
    this.alarms = new PgAlarms(this.pool, this.writer, this.stream);
    this.people = new PgPeople(this.pool, this.writer);
  }

  /** Brings the schema up to date (waiting for another hub doing the same) and makes today's and tomorrow's partitions. */
  async open(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migratePg(client);
      const now = Date.now();
      await this.partitions.ensure(client, [now, now + PARTITION_MS]);
    } catch (err) {
      // The connection may be the reason: it is not handed back to the pool.
      client.release(err as Error);
      throw err;
    }
    client.release();
  }

  /**
   * Telemetry goes a whole partition (a day) at a time: only partitions that end
   * at or before `cutoff` are dropped, so readings may outlive the cutoff by up
   * to a day. State history, events and presence history are deleted by row.
   */
  async prune(cutoff: number): Promise<number> {
    let total = 0;
    const client = await this.pool.connect();
    try {
      total += await this.partitions.dropBefore(client, cutoff);
      // Next days' partitions are made here too, so the first write of a day rarely waits for DDL.
      const now = Date.now();
      await this.partitions.ensure(client, [now, now + PARTITION_MS]);
    } finally {
      client.release();
    }
    const devices = (await this.pool.query<{ id: string }>('SELECT id FROM devices')).rows.map((r) => r.id);
    // Per device, so that the (device_id, ts) indexes serve the deletes; no extra index slows ingest.
    // Open alarms stay, however old: somebody still has to see them.
    for (const [table, extra] of [['state_history', ''], ['events', ''], ['presence_log', ''], ['twin_history', ''], ['alarms', " AND state = 'cleared'"]] as const) {
      const sql = `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE device_id = $1 AND ts < $2${extra} LIMIT ${PRUNE_CHUNK})`;
      for (const id of devices) {
        for (let guard = 0; guard < 1_000_000; guard++) {
          const removed = (await this.pool.query(sql, [id, cutoff])).rowCount ?? 0;
          total += removed;
          if (removed < PRUNE_CHUNK) break;
        }
      }
    }
    // The audit log is not per device: one chunked delete by time (its ts index serves it).
    for (let guard = 0; guard < 1_000_000; guard++) {
      const removed = (await this.pool.query(`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE ts < $1 LIMIT ${PRUNE_CHUNK})`, [cutoff])).rowCount ?? 0;
      total += removed;
      if (removed < PRUNE_CHUNK) break;
    }
    return total;
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = this.pool.query('SELECT 1 AS one');
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('ping timed out')), PING_TIMEOUT_MS)));
      answer.catch(() => {});
      return (await Promise.race([answer, late])).rows.length === 1;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): StoreStats {
    return this.writer.stats();
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    await this.pool.end();
  }
}
