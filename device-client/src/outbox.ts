// The durable outbox: every reading gets the device's next seq and is
// committed to SQLite before anything is sent; rows leave only when the hub
// has acked them, or move to the dead-letter table when the hub refused the
// reading itself. Seq and drop counters live in the same file, so a restart
// (or a SIGKILL) neither reuses a seq nor forgets what was dropped.
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { privateDatabaseFile } from './private-file.js';

import type { Reading as ContractReading, ReadingValue } from '@sitehub/protocol/iot';

export type { ReadingValue };

/** A reading as stored and sent: `{ seq, ts, values }`. */
export type Reading = ContractReading<ReadingValue>;

/** A reading the hub refused on its content, kept with the hub's answer. */
export interface DeadLetter extends Reading {
  /** The hub's refusal code (`telemetry_ts`, `telemetry_shape`, …). */
  code: string;
  error: string;
  /** When it was moved here, ms. */
  at: number;
}

/** Outbox limits; the oldest readings are dropped first when one is exceeded. */
export interface OutboxOptions {
  /** Most readings kept (default 1,000,000). */
  maxReadings?: number;
  /** Oldest reading kept, ms (default 7 days). */
  maxAgeMs?: number;
}

/** Why readings were dropped: the size limit or the age limit. */
export type DropReason = 'size' | 'age';

/** Counts of readings dropped by the limits, in total and not yet reported to the hub. */
export interface DropCounts {
  size: number;
  age: number;
}

const SCHEMA_VERSION = 2;

/** A SQLite outbox (WAL) with monotonic seqs that survive restarts. */
export class Outbox {
  readonly maxReadings: number;
  readonly maxAgeMs: number;
  private readonly db: SqliteDatabase;
  private nextSeq: number;
  private depthCache: number;
  private readonly insert: Statement;
  private readonly selectAfter: Statement;
  private readonly deleteOne: Statement;
  private readonly setMeta: Statement;
  private readonly getMeta: Statement;
  private readonly appendTx: (readings: Array<{ ts: number; values: Record<string, ReadingValue> }>) => Reading[];
  private readonly ackTx: (seqs: number[]) => number;
  private readonly deadLetterTx: (seq: number, code: string, error: string, at: number) => boolean;
  private readonly selectDeadLetters: Statement;
  private deadLetterCache: number;

  constructor(file: string, opts: OutboxOptions = {}) {
    this.maxReadings = opts.maxReadings ?? 1_000_000;
    this.maxAgeMs = opts.maxAgeMs ?? 7 * 24 * 3600_000;
    privateDatabaseFile(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL survives a killed process; only power loss can cost the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
    this.insert = this.db.prepare('INSERT INTO readings (seq, ts, vals) VALUES (?, ?, ?)');
    this.selectAfter = this.db.prepare('SELECT seq, ts, vals FROM readings WHERE seq > ? ORDER BY seq LIMIT ?');
    this.deleteOne = this.db.prepare('DELETE FROM readings WHERE seq = ?');
    this.setMeta = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.getMeta = this.db.prepare('SELECT value FROM meta WHERE key = ?');
    const maxRow = this.db.prepare('SELECT MAX(seq) AS m FROM readings').get() as { m: number | null };
    this.nextSeq = Math.max(this.meta('next_seq'), (maxRow.m ?? 0) + 1, 1);
    this.depthCache = (this.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;

    this.appendTx = this.db.transaction((readings) => {
      const out: Reading[] = [];
      for (const r of readings) {
        const reading = { seq: this.nextSeq++, ts: r.ts, values: r.values };
        this.insert.run(reading.seq, reading.ts, JSON.stringify(reading.values));
        out.push(reading);
      }
      this.setMeta.run('next_seq', this.nextSeq);
      this.depthCache += out.length;
      if (this.depthCache > this.maxReadings) this.dropOldest(this.depthCache - this.maxReadings, 'size');
      return out;
    });
    this.deadLetterCache = (this.db.prepare('SELECT COUNT(*) AS n FROM dead_letters').get() as { n: number }).n;
    const moveRow = this.db.prepare('INSERT OR IGNORE INTO dead_letters (seq, ts, vals, code, error, at) SELECT seq, ts, vals, ?, ?, ? FROM readings WHERE seq = ?');
    this.selectDeadLetters = this.db.prepare('SELECT seq, ts, vals, code, error, at FROM dead_letters WHERE seq > ? ORDER BY seq LIMIT ?');
    this.deadLetterTx = this.db.transaction((seq: number, code: string, error: string, at: number) => {
      const moved = moveRow.run(code, error.slice(0, 1024), at, seq).changes === 1;
      if (this.deleteOne.run(seq).changes === 1) this.depthCache--;
      if (moved) this.deadLetterCache++;
      return moved;
    });
    this.ackTx = this.db.transaction((seqs) => {
      let removed = 0;
      for (const seq of seqs) removed += this.deleteOne.run(seq).changes;
      this.depthCache -= removed;
      return removed;
    });
  }

  /** Appends readings in one transaction; returns them with their seqs. */
  append(readings: Array<{ ts: number; values: Record<string, ReadingValue> }>): Reading[] {
    if (readings.length === 0) return [];
    return this.appendTx(readings);
  }

  /** Up to `limit` readings with seq > `afterSeq`, oldest first. */
  peek(afterSeq: number, limit: number): Reading[] {
    const rows = this.selectAfter.all(afterSeq, limit) as Array<{ seq: number; ts: number; vals: string }>;
    return rows.map((r) => ({ seq: r.seq, ts: r.ts, values: JSON.parse(r.vals) }));
  }

  /** Deletes readings the hub has acked; returns how many were still there. */
  ack(seqs: number[]): number {
    return this.ackTx(seqs);
  }

  /** Moves a reading the hub refused on its content to the dead-letter table; false if it was not in the outbox. */
  deadLetter(seq: number, code: string, error: string, at = Date.now()): boolean {
    return this.deadLetterTx(seq, code, error, at);
  }

  /** Up to `limit` dead letters with seq > `afterSeq`, oldest first. */
  deadLetters(afterSeq: number, limit: number): DeadLetter[] {
    const rows = this.selectDeadLetters.all(afterSeq, limit) as Array<{ seq: number; ts: number; vals: string; code: string; error: string; at: number }>;
    return rows.map((r) => ({ seq: r.seq, ts: r.ts, values: JSON.parse(r.vals), code: r.code, error: r.error, at: r.at }));
  }

  /** Readings in the dead-letter table. */
  get deadLetterCount(): number {
    return this.deadLetterCache;
  }

  /** Drops readings older than maxAgeMs; returns how many. */
  pruneByAge(now = Date.now()): number {
    const tx = this.db.transaction(() => {
      const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM readings WHERE ts < ?').get(now - this.maxAgeMs) as { n: number };
      if (n > 0) this.dropOldestWhere('ts < ?', [now - this.maxAgeMs], n, 'age');
      return n;
    });
    return tx();
  }

  /** Readings waiting for an ack. */
  get depth(): number {
    return this.depthCache;
  }

  /** The last seq handed out (0 before the first reading). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Readings dropped by the limits since the outbox was created. */
  get dropped(): DropCounts {
    return { size: this.meta('dropped.size'), age: this.meta('dropped.age') };
  }

  /** Drops not yet reported to the hub. */
  get unreportedDrops(): DropCounts {
    return { size: this.meta('dropped.size') - this.meta('reported.size'), age: this.meta('dropped.age') - this.meta('reported.age') };
  }

  /** Marks drops as reported (after the hub acked the event). */
  markReported(counts: DropCounts): void {
    const tx = this.db.transaction(() => {
      this.setMeta.run('reported.size', this.meta('reported.size') + counts.size);
      this.setMeta.run('reported.age', this.meta('reported.age') + counts.age);
    });
    tx();
  }

  /** Closes the database. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private dropOldest(count: number, reason: DropReason): void {
    this.dropOldestWhere('1', [], count, reason);
  }

  private dropOldestWhere(where: string, params: unknown[], count: number, reason: DropReason): void {
    const removed = this.db
      .prepare(`DELETE FROM readings WHERE seq IN (SELECT seq FROM readings WHERE ${where} ORDER BY seq LIMIT ?)`)
      .run(...params, count).changes;
    this.depthCache -= removed;
    this.setMeta.run(`dropped.${reason}`, this.meta(`dropped.${reason}`) + removed);
  }

  private meta(key: string): number {
    const row = this.getMeta.get(key) as { value: number } | undefined;
    return row ? Number(row.value) : 0;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`outbox schema ${version} is newer than this agent knows (${SCHEMA_VERSION}); upgrade the agent`);
    if (version < 1) {
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS readings (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, vals TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS readings_ts ON readings (ts);
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        PRAGMA user_version = 1;
      `);
    }
    if (version < 2) {
      // Readings the hub refused on their content: kept for an operator to read back, never resent.
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS dead_letters (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, vals TEXT NOT NULL, code TEXT NOT NULL, error TEXT NOT NULL, at INTEGER NOT NULL);
        PRAGMA user_version = 2;
      `);
    }
  }
}
