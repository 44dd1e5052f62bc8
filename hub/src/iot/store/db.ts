// Opening the SQLite database: the pragmas the write path relies on and the
// schema migrations.
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { createPrivateFile, ensurePrivateDir, restrictToOwner } from '../private-files.js';
import { MIGRATIONS } from './migrations.js';

/** A better-sqlite3 connection. */
export type SqliteDb = Database.Database;

/** Opens (creating if needed) the database at `file` and brings its schema up to date. */
export function openDatabase(file: string): SqliteDb {
  const onDisk = file !== ':memory:' && file !== '';
  if (onDisk) {
    ensurePrivateDir(dirname(file));
    // SQLite gives the -wal, -shm and -journal files it creates later the mode of the
    // database file, so a private database file keeps all of them private.
    createPrivateFile(file);
    restrictToOwner(sideFiles(file));
  }
  const db = new Database(file);
  // WAL lets REST reads run beside the writer; NORMAL syncs only at checkpoints,
  // which keeps every committed transaction across a process crash (not a power cut).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** The database file and the files SQLite keeps beside it. */
export function sideFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`, `${file}-journal`];
}

/** Applies the migrations the database has not seen, each in its own transaction. */
export function migrate(db: SqliteDb): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this hub knows (${MIGRATIONS.length}); upgrade sitehub`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return MIGRATIONS.length;
}
