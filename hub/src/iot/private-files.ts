// Owner-only files: the data folder holds the admin token, every device's
// token hash and all telemetry, so nothing in it may be readable by other
// users of the machine. Modes are set with chmod after creation, so that
// they hold whatever the process umask is.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Mode of the data folder: the owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file in it: the owner may read and write. */
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) owner-only; returns whether an existing one is open to group or others. */
export function ensurePrivateDir(dir: string): { created: boolean; loose: boolean } {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE }) !== undefined;
  if (created) chmodSync(dir, PRIVATE_DIR_MODE);
  return { created, loose: (statSync(dir).mode & 0o077) !== 0 };
}

/** Creates `file` empty and owner-only if it does not exist, so that whatever opens it next finds it private. */
export function createPrivateFile(file: string): void {
  if (existsSync(file)) return;
  try {
    closeSync(openSync(file, 'wx', PRIVATE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  chmodSync(file, PRIVATE_FILE_MODE);
}

/** Makes each of `files` that exists owner-only (files the hub owns: its database and the database's side files). */
export function restrictToOwner(files: readonly string[]): void {
  for (const file of files) {
    try {
      if ((statSync(file).mode & 0o777) !== PRIVATE_FILE_MODE) chmodSync(file, PRIVATE_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
