// Schema migrations, applied in order by PRAGMA user_version. Never edit a
// shipped migration: append a new one.

/** Migration N (1-based) brings a database from user_version N-1 to N. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
  );
  CREATE TABLE device_classes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  );
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    class_id TEXT NOT NULL REFERENCES device_classes(id),
    site_id TEXT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    token_hash BLOB NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX devices_by_site ON devices(site_id);
  CREATE INDEX devices_by_class ON devices(class_id);

  CREATE TABLE telemetry (
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    vals TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX telemetry_by_time ON telemetry(device_id, ts);

  CREATE TABLE device_state (
    device_id TEXT PRIMARY KEY,
    attrs TEXT NOT NULL,
    ts INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE state_history (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    attrs TEXT NOT NULL
  );
  CREATE INDEX state_history_by_time ON state_history(device_id, ts);

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX events_by_time ON events(device_id, ts);

  CREATE TABLE commands (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    name TEXT NOT NULL,
    params TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    result TEXT,
    error TEXT,
    source TEXT NOT NULL
  );
  CREATE INDEX commands_by_device ON commands(device_id, created_at);
  CREATE INDEX commands_open ON commands(status, expires_at) WHERE status IN ('pending', 'sent');

  CREATE TABLE presence_log (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    online INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    transport TEXT NOT NULL
  );
  CREATE INDEX presence_by_device ON presence_log(device_id, ts);

  CREATE TABLE bridge_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  `,
  // 2: the replay log of everything streamed (resumable bridge streams) and
  // each bridge token's confirmed position. AUTOINCREMENT: a position is never
  // reused, even after retention deleted the newest rows.
  `
  CREATE TABLE stream_log (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    event TEXT NOT NULL,
    at INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX stream_log_by_time ON stream_log(at);
  CREATE TABLE stream_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through INTEGER NOT NULL
  );
  INSERT INTO stream_meta (id, pruned_through) VALUES (1, 0);
  CREATE TABLE bridge_positions (
    token_id TEXT PRIMARY KEY,
    pos INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 3, twins (issue 21): one row per device with both documents and their
  // versions, and every accepted change as history.
  `
  CREATE TABLE twins (
    device_id TEXT PRIMARY KEY,
    desired TEXT NOT NULL,
    desired_version INTEGER NOT NULL,
    reported TEXT NOT NULL,
    reported_version INTEGER NOT NULL,
    applied_version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE twin_history (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    side TEXT NOT NULL,
    version INTEGER NOT NULL,
    patch TEXT NOT NULL,
    source TEXT NOT NULL,
    ts INTEGER NOT NULL
  );
  CREATE INDEX twin_history_by_device ON twin_history(device_id, ts);
  `,
  // 4, files (issue 21): metadata of stored files (the bytes are on disk under
  // dataDir/files) and hub -> device deliveries with their progress.
  `
  CREATE TABLE files (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    direction TEXT NOT NULL,
    device_id TEXT,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX files_by_time ON files(created_at);
  CREATE INDEX files_by_device ON files(device_id, created_at);
  CREATE TABLE file_deliveries (
    file_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    status TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    error TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (file_id, device_id)
  );
  CREATE INDEX file_deliveries_by_device ON file_deliveries(device_id, status);
  `,
  // 5, cluster presence and delivery (issue 18): each device session's epoch and
  // node, the session epoch a command was last taken by, and the nodes'
  // heartbeat counters (one hub on SQLite has just itself there).
  `
  ALTER TABLE devices ADD COLUMN presence_epoch INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN presence_node TEXT;
  CREATE INDEX devices_by_presence_node ON devices(presence_node) WHERE online = 1;
  ALTER TABLE commands ADD COLUMN delivery_epoch INTEGER;
  CREATE TABLE hub_nodes (
    node_id TEXT PRIMARY KEY,
    beats INTEGER NOT NULL,
    at INTEGER NOT NULL,
    url TEXT
  );
  `,
  // 6 (issue 20): alarm rules (their definition as JSON) and alarms. At most one
  // open (not cleared) alarm per device and key: the unique index is what
  // keeps one crossing from raising twice, also across hub nodes.
  `
  CREATE TABLE alarm_rules (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    rule_id TEXT,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    alarm_key TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    value TEXT,
    state TEXT NOT NULL,
    ts INTEGER NOT NULL,
    acked_by TEXT,
    acked_at INTEGER,
    cleared_by TEXT,
    cleared_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX alarms_open ON alarms(device_id, alarm_key) WHERE state <> 'cleared';
  CREATE INDEX alarms_by_time ON alarms(ts);
  CREATE INDEX alarms_by_device ON alarms(device_id, ts);
  `,
  // 7 (issue 20): people. Accounts with scrypt password hashes, personal API
  // tokens and console sessions (both kept as SHA-256 hashes, so the database
  // holds no usable credential), and the audit log.
  `
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    sites TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX api_tokens_by_account ON api_tokens(account_id);
  CREATE TABLE console_sessions (
    id_hash BLOB PRIMARY KEY,
    account_id TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX console_sessions_by_expiry ON console_sessions(expires_at);
  CREATE INDEX console_sessions_by_account ON console_sessions(account_id);
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    address TEXT NOT NULL
  );
  CREATE INDEX audit_by_time ON audit_log(ts);
  `,
  // 8 (issue 20): classes get metadata (the console reads units from it).
  `
  ALTER TABLE device_classes ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
  `,
];
