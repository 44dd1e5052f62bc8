// Choosing the store from the configuration: SQLite (embedded, the default)
// or PostgreSQL (a `postgres://` URL in `database`, shared by several hubs).
import { isAbsolute, join } from 'node:path';
import type { HubConfig } from '../../config/index.js';
import { PostgresStore } from './postgres/store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './types.js';

/** A Store the hub opens before its services start. */
export type HubStore = Store & { open(): Promise<void> };

/** Builds the configured store; nothing touches a server database until open(). */
export function createStore(config: HubConfig, onDatabaseError: (err: Error) => void): HubStore {
  const database = config.database;
  if (database === 'sqlite') {
    const file = config.databaseFile === ':memory:' || isAbsolute(config.databaseFile) ? config.databaseFile : join(config.dataDir, config.databaseFile);
    const store = new SqliteStore(file, { writerMaxBatch: config.writerMaxBatch });
    // The constructor opened the file and migrated it already.
    return Object.assign(store, { open: async () => {} });
  }
  if (/^postgres(ql)?:\/\//.test(database)) {
    return new PostgresStore(
      {
        url: database,
        poolMax: config.databasePoolMax,
        statementTimeoutMs: config.databaseStatementTimeoutMs,
        connectTimeoutMs: config.databaseConnectTimeoutMs,
        writerMaxBatch: config.writerMaxBatch,
      },
      onDatabaseError,
    );
  }
  throw new Error(`"database" must be "sqlite" or a postgres:// URL, got ${JSON.stringify(database.replace(/\/\/[^@/]*@/, '//…@'))}`);
}
