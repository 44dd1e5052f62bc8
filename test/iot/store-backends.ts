// The store backends the store tests run against, one parameterised suite for
// both: SQLite in a temp file, PostgreSQL in a fresh database of a throwaway
// cluster (started once per test file, on first use).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore } from '../../hub/src/iot/store/postgres/store.js';
import { SqliteStore } from '../../hub/src/iot/store/sqlite-store.js';
import type { Store } from '../../hub/src/iot/store/types.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/** One store under test and how to reach its database behind its back. */
export interface OpenedStore {
  store: Store;
  /** Closes the store (if still open) and opens it again on the same database. */
  reopen(): Promise<Store>;
  /** Sets the schema version recorded in the database (the store must be closed). */
  setSchemaVersion(version: number): Promise<void>;
}

/** A backend: a name for the test titles and a factory of fresh stores. */
export interface Backend {
  name: 'sqlite' | 'postgres';
  open(): Promise<OpenedStore>;
}

const cleanups: Array<() => Promise<void>> = [];

/** Closes every store and removes every database opened since the last call; use in afterEach. */
export async function closeStores(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-store-'));
    const file = join(dir, 'hub.db');
    const opened: Store[] = [];
    const make = () => {
      const s = new SqliteStore(file);
      opened.push(s);
      return s;
    };
    cleanups.push(async () => {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const store = make();
    return {
      store,
      async reopen() {
        await store.close();
        return make();
      },
      async setSchemaVersion(version) {
        const raw = new Database(file);
        raw.pragma(`user_version = ${version}`);
        raw.close();
      },
    };
  },
};

let cluster: Promise<TestPostgres> | undefined;

/** The file's PostgreSQL cluster, started on first use. */
export function postgresCluster(): Promise<TestPostgres> {
  cluster ??= startPostgres();
  return cluster;
}

/** Stops the cluster if this file started one; use in afterAll. */
export async function stopPostgresCluster(): Promise<void> {
  if (!cluster) return;
  const c = await cluster.catch(() => undefined);
  cluster = undefined;
  await c?.stop();
}

/** A fresh, migrated PostgresStore on a new database of the file's cluster. */
export async function openPostgresStore(): Promise<{ store: PostgresStore; url: string; make(): Promise<PostgresStore> }> {
  const url = await (await postgresCluster()).createDatabase();
  const opened: PostgresStore[] = [];
  const make = async () => {
    const s = new PostgresStore({ url });
    opened.push(s);
    await s.open();
    return s;
  };
  cleanups.push(async () => {
    for (const s of opened) await s.close();
  });
  return { store: await make(), url, make };
}

const postgres: Backend = {
  name: 'postgres',
  async open() {
    const { store, url, make } = await openPostgresStore();
    return {
      store,
      async reopen() {
        await store.close();
        return make();
      },
      async setSchemaVersion(version) {
        const client = new pg.Client(url);
        await client.connect();
        await client.query('UPDATE sitehub_schema SET version = $1', [version]);
        await client.end();
      },
    };
  },
};

/** Every backend; `describe.each(BACKENDS)` runs a suite on each. */
export const BACKENDS: Backend[] = [sqlite, postgres];

/** Hub settings for each database, for suites that run a whole hub on both; PostgreSQL gets a fresh database each call. */
export const HUB_DATABASES: Array<{ name: 'sqlite' | 'postgres'; config: () => Promise<{ database?: string }> }> = [
  { name: 'sqlite', config: async () => ({}) },
  { name: 'postgres', config: async () => ({ database: await (await postgresCluster()).createDatabase() }) },
];
