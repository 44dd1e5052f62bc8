// The events a transport object emits, as engine.io's transports do:
// `close` when the transport is done, `error` (only when someone listens)
// when it fails, `headers` before a polling response is written. A server
// holds one transport per connection and almost nobody listens to them, so
// the emitter costs nothing until the first listener (compact-emitter.ts).
import { CompactEmitter } from './compact-emitter.js';

/** What a transport's `error` event carries (engine.io's shape). */
export interface TransportError extends Error {
  readonly type: 'TransportError';
  /** The underlying failure, when there is one. */
  readonly description?: unknown;
}

/** An EventEmitter that allocates its listener table on the first listener. */
export class TransportEvents extends CompactEmitter {
  /** Emits `error` only when someone listens: an unheard transport error is not a crash (the session closes either way). */
  protected emitError(message: string, description?: unknown): void {
    if (this.listenerCount('error') === 0) return;
    const err = Object.assign(new Error(message), { type: 'TransportError' as const, description });
    this.emit('error', err satisfies TransportError);
  }
}
