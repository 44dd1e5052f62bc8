// Frees the bytes of received chunks as the transfer goes, not 32 MB later.
// Each chunk arrives in ArrayBuffers that ws and the socket allocate outside
// the JavaScript heap; once written they are garbage, but V8 only collects
// them at a young-generation GC, which it starts for external memory when
// the young ArrayBuffers reach twice its largest semi-space: 32 MB on 64-bit
// Node (16 MB on 32-bit), whatever the chunk window. The JavaScript the
// receiver runs per chunk allocates too little to start one sooner, so the
// agent's RSS would rise by that much during any transfer. A young-generation
// GC ("scavenge") costs well under a millisecond here (only the live young
// objects are copied), so the receiver asks for one every window of bytes.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gc: Gc | null | undefined;

/** Runs a young-generation GC; returns false when the runtime offers none. */
export function collectYoungGeneration(): boolean {
  if (gc === undefined) gc = loadGc();
  if (!gc) return false;
  gc({ type: 'minor' });
  return true;
}

function loadGc(): Gc | null {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (typeof existing === 'function') return existing;
  try {
    // --expose-gc is read when a context is created: set it, take `gc` from a new context, and
    // leave the flag as it was so no other context (or the agent's global) gains it.
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    setFlagsFromString('--no-expose-gc');
    return typeof fn === 'function' ? (fn as Gc) : null;
  } catch {
    return null;
  }
}
