// Catch-all listeners (onAny / onAnyOutgoing) of a socket.
import type { Listener } from './emitter.js';

/** An ordered list of catch-all listeners. */
export class AnyListeners {
  #list: Listener[] = [];

  append(listener: Listener): void {
    this.#list.push(listener);
  }

  prepend(listener: Listener): void {
    this.#list.unshift(listener);
  }

  /** Removes one listener, or all when none is given. */
  remove(listener?: Listener): void {
    if (!listener) {
      this.#list = [];
      return;
    }
    const index = this.#list.indexOf(listener);
    if (index !== -1) this.#list.splice(index, 1);
  }

  list(): Listener[] {
    return this.#list.slice();
  }

  /** Calls every listener with the event name and arguments. */
  call(self: unknown, args: readonly unknown[]): void {
    if (this.#list.length === 0) return;
    for (const listener of this.#list.slice()) listener.apply(self, args as unknown[]);
  }
}
