// A database of readings or messages (the agent's outbox, the bridge's
// queue) is owner-only, whatever the umask.
// SQLite gives the -wal and -shm files it creates later the mode of the
// database file, so making that one private keeps all of them private.
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';

/** Creates `file` owner-only (0600) if absent, and makes it and its SQLite side files owner-only if present. */
export function privateDatabaseFile(file: string): void {
  if (file === ':memory:' || file === '') return;
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    try {
      if ((statSync(f).mode & 0o777) !== 0o600) chmodSync(f, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
