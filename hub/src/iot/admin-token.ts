// The admin token: given in the config, or generated on first start and kept
// (owner-readable only) in the data folder so that restarts keep it.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE, restrictToOwner } from './private-files.js';
import { newToken } from './tokens.js';

/** File name of the generated admin token inside the data folder. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** The admin token to use, and whether it was created just now (to be printed once). */
export function resolveAdminToken(dataDir: string, configured: string | undefined): { token: string; created: boolean; file?: string } {
  if (configured !== undefined) return { token: configured, created: false };
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 8) throw new Error(`${file} holds no usable admin token; delete it to generate a new one`);
    restrictToOwner([file]);
    return { token, created: false, file };
  }
  ensurePrivateDir(dataDir);
  const token = newToken();
  writeFileSync(file, token + '\n', { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  chmodSync(file, PRIVATE_FILE_MODE); // the mode above passes through the umask

  return { token, created: true, file };
}
