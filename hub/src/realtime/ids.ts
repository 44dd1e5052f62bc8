import { randomBytes } from 'node:crypto';

/** A random, URL-safe id (120 bits) for socket ids and private session ids. */
export function generateId(): string {
  return randomBytes(15).toString('base64url');
}
