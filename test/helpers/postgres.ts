// A real PostgreSQL 15 cluster for tests: initdb into a temp folder as an
// unprivileged user (PostgreSQL refuses root), the postmaster on a free
// 127.0.0.1 port with its unix socket inside that folder, stopped by its PID
// and removed afterwards. The implementation is postgres-cluster.mjs, shared
// with the benchmarks (plain JavaScript); this module gives it its types.
import { startPostgres as start, PG_BIN as BIN } from './postgres-cluster.mjs';

/** Where the PostgreSQL 15 programs are. */
export const PG_BIN: string = BIN;

/** A cluster under test. */
export interface TestPostgres {
  port: number;
  dir: string;
  /** A URL to database `db` (default `postgres`). */
  url(db?: string): string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the postmaster: 'fast' (SIGINT, clean) or 'immediate' (SIGQUIT, crash recovery on next start). */
  kill(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
  /** What the postmaster logged (for failure messages). */
  log(): string;
}

/** Makes and starts a throwaway cluster; call stop() in afterAll. */
export function startPostgres(): Promise<TestPostgres> {
  return start();
}
