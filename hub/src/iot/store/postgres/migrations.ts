// PostgreSQL schema migrations, versioned like the SQLite ones (migration N
// brings the schema from version N-1 to N; never edit a shipped one, append).
// Several hubs may start at once against one database: the whole pass runs
// under a session advisory lock, so one applies and the others wait, then
// find nothing left to do.
import type pg from 'pg';

/** Key of the advisory lock that serialises migrations (any constant: "site" in ASCII). */
export const MIGRATION_LOCK = 0x73697465;

/** Migration N (1-based) brings a database from version N-1 to N. */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sites (
    id text PRIMARY KEY,
    name text NOT NULL,
    meta text NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL
  );
  CREATE TABLE device_classes (
    id text PRIMARY KEY,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at bigint NOT NULL
  );
  CREATE TABLE devices (
    id text PRIMARY KEY,
    class_id text NOT NULL REFERENCES device_classes(id),
    site_id text NOT NULL REFERENCES sites(id),
    name text NOT NULL,
    meta text NOT NULL DEFAULT '{}',
    token_hash bytea NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    online boolean NOT NULL DEFAULT false,
    last_seen bigint,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE INDEX devices_by_site ON devices(site_id);
  CREATE INDEX devices_by_class ON devices(class_id);

  -- Partitioned by device time, one partition per day (partitions.ts makes
  -- them on demand), so that retention drops whole partitions. A unique key on
  -- a partitioned table must hold the partition key; the (device_id, seq) key
  -- that makes resends idempotent is declared on each partition instead.
  -- vals is json (kept as sent, like SQLite's text), not jsonb: jsonb refuses
  -- some valid JSON (\\u0000 in a string) that a device may send.
  CREATE TABLE telemetry (
    device_id text NOT NULL,
    seq bigint NOT NULL,
    ts bigint NOT NULL,
    vals json NOT NULL
  ) PARTITION BY RANGE (ts);
  CREATE INDEX telemetry_by_time ON telemetry(device_id, ts);

  CREATE TABLE device_state (
    device_id text PRIMARY KEY,
    attrs text NOT NULL,
    ts bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE TABLE state_history (
    id bigserial PRIMARY KEY,
    device_id text NOT NULL,
    ts bigint NOT NULL,
    attrs text NOT NULL
  );
  CREATE INDEX state_history_by_time ON state_history(device_id, ts);

  CREATE TABLE events (
    id bigserial PRIMARY KEY,
    device_id text NOT NULL,
    ts bigint NOT NULL,
    kind text NOT NULL,
    severity text NOT NULL,
    message text NOT NULL,
    data text,
    received_at bigint NOT NULL
  );
  CREATE INDEX events_by_time ON events(device_id, ts);

  CREATE TABLE commands (
    -- Insertion order, for ties on created_at (SQLite's rowid).
    n bigserial NOT NULL,
    id text PRIMARY KEY,
    device_id text NOT NULL,
    name text NOT NULL,
    params text,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    result text,
    error text,
    source text NOT NULL
  );
  CREATE INDEX commands_by_device ON commands(device_id, created_at);
  CREATE INDEX commands_open ON commands(status, expires_at) WHERE status IN ('pending', 'sent');

  CREATE TABLE presence_log (
    id bigserial PRIMARY KEY,
    device_id text NOT NULL,
    online boolean NOT NULL,
    ts bigint NOT NULL,
    reason text NOT NULL,
    transport text NOT NULL
  );
  CREATE INDEX presence_by_device ON presence_log(device_id, ts);

  CREATE TABLE bridge_tokens (
    id text PRIMARY KEY,
    name text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    disabled boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL
  );
  `,
  // 2: the replay log of everything streamed (resumable bridge streams) and each
  // bridge token's confirmed position. Positions come from stream_meta.head, a
  // counter row updated in the writing transaction: its row lock makes writers
  // (of every hub sharing the database) take positions in commit order, so a
  // reader never sees position N+1 committed before N. A sequence would not.
  `
  CREATE TABLE stream_log (
    pos bigint PRIMARY KEY,
    device_id text NOT NULL,
    event text NOT NULL,
    at bigint NOT NULL,
    body text NOT NULL
  );
  CREATE INDEX stream_log_by_time ON stream_log(at);
  CREATE TABLE stream_meta (
    id integer PRIMARY KEY CHECK (id = 1),
    head bigint NOT NULL,
    pruned_through bigint NOT NULL
  );
  INSERT INTO stream_meta (id, head, pruned_through) VALUES (1, 0, 0);
  CREATE TABLE bridge_positions (
    token_id text PRIMARY KEY,
    pos bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  `,
  // 3, twins (issue 21): one row per device with both documents and their
  // versions, and every accepted change as history.
  `
  CREATE TABLE twins (
    device_id text PRIMARY KEY,
    desired text NOT NULL,
    desired_version bigint NOT NULL,
    reported text NOT NULL,
    reported_version bigint NOT NULL,
    applied_version bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE TABLE twin_history (
    id bigserial PRIMARY KEY,
    device_id text NOT NULL,
    side text NOT NULL,
    version bigint NOT NULL,
    patch text NOT NULL,
    source text NOT NULL,
    ts bigint NOT NULL
  );
  CREATE INDEX twin_history_by_device ON twin_history(device_id, ts);
  `,
  // 4, files (issue 21): metadata of stored files (the bytes are on disk under
  // dataDir/files) and hub -> device deliveries with their progress.
  `
  CREATE TABLE files (
    id text PRIMARY KEY,
    name text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    content_type text NOT NULL,
    direction text NOT NULL,
    device_id text,
    kind text NOT NULL,
    source text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX files_by_time ON files(created_at);
  CREATE INDEX files_by_device ON files(device_id, created_at);
  CREATE TABLE file_deliveries (
    file_id text NOT NULL,
    device_id text NOT NULL,
    status text NOT NULL,
    confirmed bigint NOT NULL,
    chunks bigint NOT NULL,
    error text,
    updated_at bigint NOT NULL,
    PRIMARY KEY (file_id, device_id)
  );
  CREATE INDEX file_deliveries_by_device ON file_deliveries(device_id, status);
  `,
  // 5, cluster presence and delivery (issue 18): each device session's epoch and
  // node, the session epoch a command was last taken by, and the nodes'
  // heartbeat counters.
  `
  ALTER TABLE devices ADD COLUMN presence_epoch bigint NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN presence_node text;
  CREATE INDEX devices_by_presence_node ON devices(presence_node) WHERE online;
  ALTER TABLE commands ADD COLUMN delivery_epoch bigint;
  CREATE TABLE hub_nodes (
    node_id text PRIMARY KEY,
    beats bigint NOT NULL,
    at bigint NOT NULL,
    url text
  );
  `,
  // 6 (issue 20): alarm rules and alarms, as in SQLite's migration 6.
  `
  CREATE TABLE alarm_rules (
    id text PRIMARY KEY,
    spec text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE TABLE alarms (
    id bigserial PRIMARY KEY,
    device_id text NOT NULL,
    rule_id text,
    source text NOT NULL,
    kind text NOT NULL,
    alarm_key text NOT NULL,
    severity text NOT NULL,
    message text NOT NULL,
    value text,
    state text NOT NULL,
    ts bigint NOT NULL,
    acked_by text,
    acked_at bigint,
    cleared_by text,
    cleared_at bigint,
    updated_at bigint NOT NULL
  );
  CREATE UNIQUE INDEX alarms_open ON alarms(device_id, alarm_key) WHERE state <> 'cleared';
  CREATE INDEX alarms_by_time ON alarms(ts);
  CREATE INDEX alarms_by_device ON alarms(device_id, ts);
  `,
  // 7 (issue 20): people, as in SQLite's migration 7.
  `
  CREATE TABLE accounts (
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role text NOT NULL,
    sites text,
    disabled boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE TABLE api_tokens (
    id text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at bigint NOT NULL
  );
  CREATE INDEX api_tokens_by_account ON api_tokens(account_id);
  CREATE TABLE console_sessions (
    id_hash bytea PRIMARY KEY,
    account_id text,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
  );
  CREATE INDEX console_sessions_by_expiry ON console_sessions(expires_at);
  CREATE INDEX console_sessions_by_account ON console_sessions(account_id);
  CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    ts bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    outcome text NOT NULL,
    address text NOT NULL
  );
  CREATE INDEX audit_by_time ON audit_log(ts);
  `,
  // 8 (issue 20): classes get metadata, as in SQLite's migration 8.
  `
  ALTER TABLE device_classes ADD COLUMN meta text NOT NULL DEFAULT '{}';
  `,
];

/** Applies the migrations the database has not seen, each in its own transaction, under the migration lock. */
export async function migratePg(client: pg.ClientBase, migrations: readonly string[] = PG_MIGRATIONS): Promise<number> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS sitehub_schema (version integer NOT NULL)');
    await client.query('INSERT INTO sitehub_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM sitehub_schema)');
    const current = (await client.query<{ version: number }>('SELECT version FROM sitehub_schema')).rows[0]!.version;
    if (current > migrations.length) {
      throw new Error(`database schema version ${current} is newer than this hub knows (${migrations.length}); upgrade sitehub`);
    }
    for (let version = current; version < migrations.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(migrations[version]!);
        await client.query('UPDATE sitehub_schema SET version = $1', [version + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return migrations.length;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
