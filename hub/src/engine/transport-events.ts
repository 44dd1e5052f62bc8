// The events a transport object emits, as engine.io's transports do:
// `close` when the transport is done, `error` (only when someone listens)
// when it fails, `headers` before a polling response is written. A server
// holds one transport per connection and almost nobody listens to them, so
// the emitter costs nothing until the first listener: the class inherits
// EventEmitter's methods without running its constructor, and runs it on
// the first listener added (the `EventEmitter.call(this)` pattern Node
// documents for util.inherits-style classes).
import { EventEmitter } from 'node:events';

/** What a transport's `error` event carries (engine.io's shape). */
export interface TransportError extends Error {
  readonly type: 'TransportError';
  /** The underlying failure, when there is one. */
  readonly description?: unknown;
}

function ensureEmitter(target: object): void {
  // The own table appears on the first listener; before that the
  // prototype's `undefined` is what EventEmitter's methods see.
  if (!Object.hasOwn(target, '_events')) EventEmitter.call(target);
}

type Listener = (...args: any[]) => void;

export interface TransportEvents extends EventEmitter {}

/** An EventEmitter that allocates its listener table on the first listener. */
export class TransportEvents {
  /** Adds a listener (EventEmitter's `on`). */
  on(event: string | symbol, listener: Listener): this {
    ensureEmitter(this);
    return EventEmitter.prototype.on.call(this, event, listener) as this;
  }

  /** Adds a listener (EventEmitter's `addListener`). */
  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  /** Adds a listener before the others (EventEmitter's `prependListener`). */
  prependListener(event: string | symbol, listener: Listener): this {
    ensureEmitter(this);
    return EventEmitter.prototype.prependListener.call(this, event, listener) as this;
  }

  /** Emits `error` only when someone listens: an unheard transport error is not a crash (the session closes either way). */
  protected emitError(message: string, description?: unknown): void {
    if (this.listenerCount('error') === 0) return;
    const err = Object.assign(new Error(message), { type: 'TransportError' as const, description });
    this.emit('error', err satisfies TransportError);
  }
}
Object.setPrototypeOf(TransportEvents.prototype, EventEmitter.prototype);
