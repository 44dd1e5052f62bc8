import { randomId } from '../engine/index.js';

/** A random, URL-safe id (120 bits) for socket ids and private session ids. */
export function generateId(): string {
  return randomId();
}
