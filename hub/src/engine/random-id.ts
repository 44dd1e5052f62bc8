// Random ids for sessions and sockets. Each one takes 15 fresh bytes from
// the system's CSPRNG, as before, but the bytes are drawn 64 ids at a time:
// one randomFillSync call costs about as much as the id itself, and a
// handshake needs two or three ids.
import { randomFillSync } from 'node:crypto';

const ID_BYTES = 15;
const IDS_PER_FILL = 64;
const pool = Buffer.alloc(ID_BYTES * IDS_PER_FILL);
let offset = pool.length;

/** A random, URL-safe id of 120 bits (20 characters), never drawn from the same bytes twice. */
export function randomId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  // The bytes are spent: wiped, so that the pool never holds an id handed out.
  pool.fill(0, offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
