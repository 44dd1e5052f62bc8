// The admin token: given in the config, or generated on first start and kept
// (owner-readable only) in the data folder so that restarts keep it.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
    return { token, created: false, file };
  }
  mkdirSync(dataDir, { recursive: true });
  const token = newToken();
  writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
  return { token, created: true, file };
}
