// Credentials: random tokens shown once, stored only as a SHA-256 hash and
// compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new secret: 32 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A new short unique id with a readable prefix, e.g. `cmd_…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** What the store keeps instead of the token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

// Compared against when a device is unknown, so that "unknown device" costs the same as "wrong token".
const DECOY_HASH = hashToken(newToken());

/** Whether `token` hashes to `hash`, in time independent of where they differ; undefined `hash` never matches. */
export function tokenMatches(token: unknown, hash: Buffer | undefined): boolean {
  const candidate = hashToken(typeof token === 'string' ? token : '');
  const expected = hash && hash.length === candidate.length ? hash : DECOY_HASH;
  const equal = timingSafeEqual(candidate, expected);
  return equal && expected !== DECOY_HASH && typeof token === 'string';
}
