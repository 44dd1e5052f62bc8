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
    // Per device, so that the (device_id, ts) indexes serve the deletes; no extra index slows ingest.
    const chunked: Array<[string, string]> = [
      ['telemetry', 'DELETE FROM telemetry WHERE device_id = @id AND seq IN (SELECT seq FROM telemetry WHERE device_id = @id AND ts < @cutoff LIMIT @chunk)'],
      ['state_history', 'DELETE FROM state_history WHERE id IN (SELECT id FROM state_history WHERE device_id = @id AND ts < @cutoff LIMIT @chunk)'],
      ['events', 'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE device_id = @id AND ts < @cutoff LIMIT @chunk)'],
      ['presence_log', 'DELETE FROM presence_log WHERE id IN (SELECT id FROM presence_log WHERE device_id = @id AND ts < @cutoff LIMIT @chunk)'],
      ['twin_history', 'DELETE FROM twin_history WHERE id IN (SELECT id FROM twin_history WHERE device_id = @id AND ts < @cutoff LIMIT @chunk)'],
      // Open alarms stay, however old: somebody still has to see them.
      ['alarms', "DELETE FROM alarms WHERE id IN (SELECT id FROM alarms WHERE device_id = @id AND ts < @cutoff AND state = 'cleared' LIMIT @chunk)"],
    ];
    for (const [, sql] of chunked) {
      const stmt = this.db.prepare(sql);
      // One writer job walks devices until it has removed PRUNE_CHUNK rows or seen PRUNE_DEVICES_PER_JOB devices: a
      // transaction per device made a pass over 18,000 devices 72,000 commits, most of them deleting nothing, all
      // at start, while every device was reconnecting. A device whose rows filled the budget is taken up again by the next job.
      for (let next = 0; next < devices.length; ) {
        const from = next;
        const job = await this.writer.submit(() => {
          let budget = PRUNE_CHUNK;
          let at = from;
          while (at < devices.length && at - from < PRUNE_DEVICES_PER_JOB) {
            budget -= stmt.run({ id: devices[at], cutoff, chunk: budget }).changes;
            if (budget === 0) break;
            at++;
          }
          return { at, removed: PRUNE_CHUNK - budget };
        });
        total += job.removed;
        next = job.at;
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
