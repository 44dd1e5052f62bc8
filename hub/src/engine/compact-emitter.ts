// EventEmitters that a server holds one of per connection (the Engine.IO
// session, its transports, the Socket.IO socket), made cheaper to hold.
//
// Node's EventEmitter constructor gives every emitter a listener table made
// as `{ __proto__: null }`, which V8 keeps as a hash table of some 160 bytes
// (256 from four event names on), listeners or not. Here the table is made
// on the first listener, and as a fast object that inherits nothing: a
// lookup of `toString` or `constructor` finds no listener, as in Node's
// table, and the object costs a few slots per event name. EventEmitter's own
// methods do the rest; they work on `_events` as they find it (undefined
// until the first listener, as their code allows), so every method, event
// (`newListener`, `removeListener`, `error`) and result stays Node's. Node's
// own streams also give their emitters a fast table of their own.
import { EventEmitter } from 'node:events';

// Inherits nothing, like `{ __proto__: null }`, but a fast object.
const ListenerTable = function ListenerTable() {} as unknown as new () => Record<string | symbol, unknown>;
ListenerTable.prototype = Object.create(null);

interface EmitterInternals {
  _events?: Record<string | symbol, unknown>;
  _eventsCount?: number;
}

/**
 * Swaps an emitter's empty listener table for a compact one; used on
 * emitters whose constructor we do not run ourselves (ws's WebSocket).
 */
export function compactListenerTable(emitter: EventEmitter): void {
  const internals = emitter as unknown as EmitterInternals;
  if (internals._eventsCount !== 0) return;
  internals._events = new ListenerTable();
}

function ensureTable(target: object): void {
  // Until the first listener the prototype's `_events` (undefined) and
  // `_eventsCount` (0) are what EventEmitter's methods see; `_maxListeners`
  // and captureRejections are read from the prototype, as for any emitter
  // that did not set its own.
  if (Object.hasOwn(target, '_events')) return;
  const internals = target as EmitterInternals;
  internals._events = new ListenerTable();
  internals._eventsCount = 0;
}

type Listener = (...args: any[]) => void;

export interface CompactEmitter extends EventEmitter {}

/** An EventEmitter whose listener table is made on the first listener, and compact. */
export class CompactEmitter {
  /** Adds a listener (EventEmitter's `on`). */
  on(event: string | symbol, listener: Listener): this {
    ensureTable(this);
    return EventEmitter.prototype.on.call(this, event, listener) as this;
  }

  /** Adds a listener (EventEmitter's `addListener`). */
  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  /** Adds a listener before the others (EventEmitter's `prependListener`). */
  prependListener(event: string | symbol, listener: Listener): this {
    ensureTable(this);
    return EventEmitter.prototype.prependListener.call(this, event, listener) as this;
  }
}
// `once` and `prependOnceListener` go through `on` and `prependListener`;
// `instanceof EventEmitter` holds.
Object.setPrototypeOf(CompactEmitter.prototype, EventEmitter.prototype);
