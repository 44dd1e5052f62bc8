// A small event emitter that runs unchanged in browsers and Node: node:events
// is not available in a browser bundle, and the client must not need a shim.

/** Any listener function. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Listener = (...args: any[]) => void;

interface OnceWrapper extends Listener {
  listener: Listener;
}

/** Event emitter with the usual on/once/off API; an 'error' with no listener is not thrown. */
export class Emitter {
  #listeners = new Map<string, Listener[]>();

  /** Adds a listener. */
  on(event: string, listener: Listener): this {
    const list = this.#listeners.get(event);
    if (list) list.push(listener);
    else this.#listeners.set(event, [listener]);
    return this;
  }

  /** Alias of `on`. */
  addListener(event: string, listener: Listener): this {
    return this.on(event, listener);
  }

  /** Adds a listener that is removed after its first call. */
  once(event: string, listener: Listener): this {
    const wrapper = ((...args: unknown[]) => {
      this.off(event, wrapper);
      listener.apply(this, args);
    }) as OnceWrapper;
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  /** Removes one listener, every listener of an event, or every listener. */
  off(event?: string, listener?: Listener): this {
    if (event === undefined) {
      this.#listeners.clear();
      return this;
    }
    if (listener === undefined) {
      this.#listeners.delete(event);
      return this;
    }
    const list = this.#listeners.get(event);
    if (!list) return this;
    const index = list.findIndex((l) => l === listener || (l as OnceWrapper).listener === listener);
    if (index !== -1) list.splice(index, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  /** Alias of `off(event, listener)`. */
  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener);
  }

  /** Alias of `off(event?)`. */
  removeAllListeners(event?: string): this {
    return this.off(event);
  }

  /** The listeners of an event, in call order. */
  listeners(event: string): Listener[] {
    return (this.#listeners.get(event) ?? []).map((l) => (l as OnceWrapper).listener ?? l);
  }

  /** Whether the event has listeners. */
  hasListeners(event: string): boolean {
    return this.#listeners.has(event);
  }

  /** Number of listeners of an event. */
  listenerCount(event: string): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls the event's listeners locally. */
  emit(event: string, ...args: unknown[]): this {
    this.emitReserved(event, ...args);
    return this;
  }

  /**
   * Local emission that subclasses keep even when they give `emit` another
   * meaning (a Socket's `emit` sends to the server).
   */
  emitReserved(event: string, ...args: unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    // A copy, so listeners added or removed during the call do not shift it.
    for (const listener of list.slice()) listener.apply(this, args);
    return true;
  }
}

/** Subscribes and returns the function that unsubscribes. */
export function subscribe(emitter: Emitter, event: string, listener: Listener): () => void {
  emitter.on(event, listener);
  return () => emitter.off(event, listener);
}
