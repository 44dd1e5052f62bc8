// Passwords: scrypt with a random salt per password, kept as
// `scrypt$N$r$p$salt$hash` (base64url), so the cost can be raised later
// without breaking the hashes already kept. Compared in constant time.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

/** scrypt cost: N=2^15, r=8, p=1 (about 32 MiB and tens of ms per check; RFC 7914's interactive setting). */
const COST = { N: 32768, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
/** Shortest and longest password accepted. */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

/** The kept form of `password`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_BYTES, { ...COST, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

// Checked against when the name is unknown, so that "no such person" costs the same as "wrong password".
let decoy: Promise<string> | undefined;

/** Whether `password` matches the kept form `stored` (undefined: an unknown name, checked against a decoy, never matching). */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const kept = stored ?? (await (decoy ??= hashPassword(randomBytes(24).toString('base64url'))));
  const parts = kept.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (!(N > 1 && N <= 1 << 20 && r > 0 && r <= 32 && p > 0 && p <= 16) || expected.length !== KEY_BYTES) return false;
  const key = await scrypt(password, salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r + 16 * 1024 * 1024 });
  return timingSafeEqual(key, expected) && stored !== undefined;
}
