// The PostgreSQL connection pool: its limits, the per-connection settings the
// store relies on, and the type parsing that makes rows look like SQLite's.
import { createRequire } from 'node:module';
import type pg from 'pg';

// Loaded on the first pool: a hub on SQLite (the default) never pays for pg's ~70 ms of module loading at start.
let pgModule: typeof pg | undefined;
const loadPg = (): typeof pg => (pgModule ??= createRequire(import.meta.url)('pg') as typeof pg);

/** How the store connects and how far it lets the database make it wait. */
export interface PgOptions {
  /** `postgres://user:pass@host:port/db` */
  url: string;
  /** Most connections this hub opens (the writer takes one, reads share the rest). */
  poolMax: number;
  /** Server-side limit on one statement, in ms. */
  statementTimeoutMs: number;
  /** Longest wait for a connection (opening one, or a free one from the pool), in ms. */
  connectTimeoutMs: number;
  /** Most jobs one group commit takes. */
  writerMaxBatch: number;
}

/** Defaults for everything but the URL. */
export const PG_DEFAULTS: Omit<PgOptions, 'url'> = {
  poolMax: 10,
  statementTimeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  writerMaxBatch: 5000,
};

/**
 * bigint (int8) columns hold ms timestamps and counts, all far below 2^53: as
 * numbers they match the SQLite store. pg returns them as strings by default,
 * since it cannot know that; the override is per pool, not global.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    const { types: pgTypes } = loadPg();
    if (oid === pgTypes.builtins.INT8 && format !== 'binary') return (text: string) => Number(text);
    return pgTypes.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** A pool with the store's limits; the caller owns it and must end() it. */
export function createPool(opts: PgOptions, onError: (err: Error) => void): pg.Pool {
  const pool = new (loadPg().Pool)({
    connectionString: opts.url,
    max: opts.poolMax,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // Both timeouts: the server's cancels a slow statement; the client's covers a server that stopped answering at all.
    statement_timeout: opts.statementTimeoutMs,
    query_timeout: opts.statementTimeoutMs + 5_000,
    keepAlive: true,
    application_name: 'sitehub',
    types,
  });
  // An idle connection that the server closed (restart, failover) raises here; the pool has already dropped it.
  pool.on('error', onError);
  // A connection checked out (the writer's, mid-transaction) raises 'error' on the client itself: without a
  // listener that would end the process. Its pending query rejects anyway; the writer then discards it.
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/** Is this error one that a new connection may cure (server gone, restarting, connection lost)? */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    // 08: connection exceptions; 57P0x: admin/crash shutdown, cannot connect now.
    if (e.code.startsWith('08') || e.code.startsWith('57P')) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(e.code)) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error|Query read timeout/i.test(e?.message ?? '');
}
