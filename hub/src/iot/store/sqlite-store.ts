// The SQLite Store: one connection, one group-commit writer, and the
// per-resource implementations sharing them.
import { openDatabase, type SqliteDb } from './db.js';
import { SqliteAlarms } from './sqlite-alarms.js';
import { SqliteCommands } from './sqlite-commands.js';
import { SqlitePeople } from './sqlite-people.js';
import { SqlitePresence } from './sqlite-presence.js';
import { SqliteRegistry } from './sqlite-registry.js';
import { SqliteStateEvents } from './sqlite-state-events.js';
import { SqliteStream } from './sqlite-stream.js';
import { SqliteTelemetry } from './sqlite-telemetry.js';
import { SqliteTwins } from './sqlite-twins.js';
import { SqliteFiles } from './sqlite-files.js';
import type { Store, StoreStats } from './types.js';
import { GroupCommitWriter } from './writer.js';

/** Rows deleted per prune transaction, so that retention never stalls the writer for long. */
const PRUNE_CHUNK = 5000;
/** Devices one prune transaction looks at (each an index probe when it has nothing old). */
const PRUNE_DEVICES_PER_JOB = 500;

/** The hub's Store on a SQLite file. */
export class SqliteStore implements Store {
  readonly db: SqliteDb;
  readonly registry: SqliteRegistry;
  readonly telemetry: SqliteTelemetry;
  readonly stateEvents: SqliteStateEvents;
  readonly commands: SqliteCommands;
  readonly presence: SqlitePresence;
  readonly stream: SqliteStream;
  readonly twins: SqliteTwins;
  readonly files: SqliteFiles;
  readonly alarms: SqliteAlarms;
  readonly people: SqlitePeople;
  private readonly writer: GroupCommitWriter;
  private closed = false;

  constructor(file: string, opts: { writerMaxBatch?: number } = {}) {
    this.db = openDatabase(file);
    this.writer = new GroupCommitWriter(this.db, opts.writerMaxBatch);
    this.stream = new SqliteStream(this.db, this.writer);
    this.registry = new SqliteRegistry(this.db, this.writer);
    this.telemetry = new SqliteTelemetry(this.db, this.writer, this.stream);
    this.stateEvents = new SqliteStateEvents(this.db, this.writer, this.stream);
    this.commands = new SqliteCommands(this.db, this.writer, this.stream);
    this.presence = new SqlitePresence(this.db, this.writer, this.stream);
    this.twins = new SqliteTwins(this.db, this.writer, this.stream);
    this.files = new SqliteFiles(this.db, this.writer);
    this.alarms = new SqliteAlarms(this.db, this.writer, this.stream);
    this.people = new SqlitePeople(this.db, this.writer);
  }

  async prune(cutoff: number): Promise<number> {
    let total = 0;
    const devices = this.db.prepare('SELECT id FROM devices').pluck().all() as string[];
    // Per device, so that the (device_id, ts) indexes serve the deletes; no extra index slows ingest. The devices of
    // one job come as a JSON array and SQLite probes each one's index itself: one statement per table and job. A
    // statement per device and table, run from JS, cost 1.4 s of CPU for 18,000 devices (6 x 18,000 statements, almost
    // all deleting nothing), and the pass runs at start, in the middle of the devices' reconnect storm.
    const old = (table: string, key: string, columns: string, extra = '') =>
      `DELETE FROM ${table} WHERE ${key} IN (SELECT ${columns} FROM json_each(@ids) j CROSS JOIN ${table} t ON t.device_id = j.value AND t.ts < @cutoff${extra} LIMIT @chunk)`;
    const chunked: Array<[string, string]> = [
      ['telemetry', old('telemetry', '(device_id, seq)', 't.device_id, t.seq')],
      ['state_history', old('state_history', 'id', 't.id')],
      ['events', old('events', 'id', 't.id')],
      ['presence_log', old('presence_log', 'id', 't.id')],
      ['twin_history', old('twin_history', 'id', 't.id')],
      // Open alarms stay, however old: somebody still has to see them.
      ['alarms', old('alarms', 'id', 't.id', " AND t.state = 'cleared'")],
    ];
    for (const [, sql] of chunked) {
      const stmt = this.db.prepare(sql);
      // One writer job (one transaction) per PRUNE_DEVICES_PER_JOB devices and PRUNE_CHUNK rows at most: a job that
      // filled its budget is run again for the same devices until one removes less.
      for (let from = 0; from < devices.length; from += PRUNE_DEVICES_PER_JOB) {
        const ids = JSON.stringify(devices.slice(from, from + PRUNE_DEVICES_PER_JOB));
        for (let guard = 0; guard < 1_000_000; guard++) {
          const removed = await this.writer.submit(() => stmt.run({ ids, cutoff, chunk: PRUNE_CHUNK }).changes);
          total += removed;
          if (removed < PRUNE_CHUNK) break;
        }
      }
    }
    // The audit log is not per device: one chunked delete by time (its ts index serves it).
    const audit = this.db.prepare('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE ts < ? LIMIT ?)');
    for (let guard = 0; guard < 1_000_000; guard++) {
      const removed = await this.writer.submit(() => audit.run(cutoff, PRUNE_CHUNK).changes);
      total += removed;
      if (removed < PRUNE_CHUNK) break;
    }
    return total;
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      return this.db.prepare('SELECT 1 AS one').get() !== undefined;
    } catch {
      return false;
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
    // Folds the WAL back into the database file so that the data folder is one file at rest.
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A checkpoint is an optimisation; closing is what matters.
    }
    this.db.close();
  }
}
