// The durable outgoing queue: QoS 1+ messages are written here first and
// deleted only when the broker acknowledged them, so a broker outage or a
// bridge restart loses nothing. Bounded: past `maxMessages` the oldest go.
// It also keeps the hub stream position the queued messages came from, in
// the same transaction: the position a restarted bridge resumes after.
import Database from 'better-sqlite3';
import { privateDatabaseFile } from '@sitehub/device-client';

/** One message waiting for the broker. */
export interface QueuedMessage {
  id: number;
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** MQTT 5 properties (response topic, correlation data, user properties), JSON-safe. */
  props?: StoredProperties;
  /** Hub stream position of the record this message came from. */
  pos?: number;
}

/** MQTT 5 publish properties as stored: correlation data in base64. */
export interface StoredProperties {
  correlationData?: string;
  userProperties?: Record<string, string>;
}

export interface OutboxOptions {
  /** SQLite file; ':memory:' keeps nothing across restarts. */
  file: string;
  /** Most messages kept; the oldest are dropped past it. */
  maxMessages: number;
}

/** A FIFO of messages in SQLite. */
export class Outbox {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly selectAfter: Database.Statement;
  private readonly deleteOne: Database.Statement;
  private readonly countAll: Database.Statement;
  private readonly trim: Database.Statement;
  private readonly savePosition: Database.Statement;
  private readonly oldestPos: Database.Statement;
  private handedOn: number | undefined;
  private readonly maxMessages: number;
  private size: number;
  /** Messages dropped because the queue was full. */
  dropped = 0;

  constructor(opts: OutboxOptions) {
    this.maxMessages = opts.maxMessages;
    privateDatabaseFile(opts.file);
    this.db = new Database(opts.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL, payload TEXT NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL, props TEXT)`);
    // Queues written by a bridge from before resumable streams lack the position column.
    const columns = this.db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('outbox') as string[];
    if (!columns.includes('pos')) this.db.exec('ALTER TABLE outbox ADD COLUMN pos INTEGER');
    this.db.exec('CREATE TABLE IF NOT EXISTS hub_position (id INTEGER PRIMARY KEY CHECK (id = 1), pos INTEGER NOT NULL)');
    this.insert = this.db.prepare('INSERT INTO outbox (topic, payload, qos, retain, props, pos) VALUES (?, ?, ?, ?, ?, ?)');
    this.savePosition = this.db.prepare('INSERT INTO hub_position (id, pos) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET pos = max(pos, excluded.pos)');
    this.oldestPos = this.db.prepare('SELECT pos FROM outbox WHERE pos IS NOT NULL ORDER BY id LIMIT 1').pluck();
    this.handedOn = this.db.prepare('SELECT pos FROM hub_position WHERE id = 1').pluck().get() as number | undefined;
    this.selectAfter = this.db.prepare('SELECT id, topic, payload, qos, retain, props FROM outbox WHERE id > ? ORDER BY id LIMIT ?');
    this.deleteOne = this.db.prepare('DELETE FROM outbox WHERE id = ?');
    this.countAll = this.db.prepare('SELECT count(*) AS n FROM outbox');
    this.trim = this.db.prepare('DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)');
    this.size = (this.countAll.get() as { n: number }).n;
  }

  /** Messages waiting. */
  get length(): number {
    return this.size;
  }

  /** The last hub stream position whose messages are all queued or published (undefined before the first). */
  get position(): number | undefined {
    return this.handedOn;
  }

  /**
   * The position up to which the broker has acknowledged everything: what the
   * hub may keep for this bridge, since a bridge with a lost disk resumes there.
   */
  acknowledgedPosition(): number | undefined {
    const oldest = this.oldestPos.get() as number | undefined;
    if (oldest === undefined) return this.handedOn;
    return this.handedOn === undefined ? undefined : Math.min(this.handedOn, oldest - 1);
  }

  /**
   * Appends messages in one transaction, with `pos` (when given) as the new
   * stream position; returns how many of the oldest were dropped to stay in bounds.
   */
  push(messages: Array<Omit<QueuedMessage, 'id'>>, pos?: number): number {
    let dropped = 0;
    this.db.transaction(() => {
      for (const m of messages) this.insert.run(m.topic, m.payload, m.qos, m.retain ? 1 : 0, m.props ? JSON.stringify(m.props) : null, m.pos ?? pos ?? null);
      if (pos !== undefined) this.savePosition.run(pos);
      this.size += messages.length;
      if (this.size > this.maxMessages) {
        dropped = this.size - this.maxMessages;
        this.trim.run(dropped);
        this.size = this.maxMessages;
      }
    })();
    this.dropped += dropped;
    if (pos !== undefined && (this.handedOn === undefined || pos > this.handedOn)) this.handedOn = pos;
    return dropped;
  }

  /** Up to `limit` messages after id `afterId`, oldest first. */
  after(afterId: number, limit: number): QueuedMessage[] {
    const rows = this.selectAfter.all(afterId, limit) as Array<{ id: number; topic: string; payload: string; qos: 0 | 1 | 2; retain: number; props: string | null }>;
    return rows.map((r) => ({ id: r.id, topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain === 1, ...(r.props && { props: JSON.parse(r.props) as StoredProperties }) }));
  }

  /** Forgets messages the broker has acknowledged. */
  remove(ids: number[]): void {
    if (!ids.length) return;
    let removed = 0;
    this.db.transaction(() => {
      for (const id of ids) removed += this.deleteOne.run(id).changes;
    })();
    this.size -= removed;
  }

  close(): void {
    this.db.close();
  }
}
