// The listener side of a Socket's API: typed on/once and the catch-all
// listeners for incoming (onAny) and outgoing (onAnyOutgoing) events.
import { Emitter, type Listener } from './emitter.js';
import type { SocketReservedEvents } from './socket-types.js';
import type { EventsMap, ReservedOrUserEventNames, ReservedOrUserListener } from './typed-events.js';

/** Removes one listener from a catch-all list, or all of them when none is given. */
function removeListener(list: Listener[], listener: Listener | undefined): void {
  if (!listener) {
    list.length = 0;
    return;
  }
  const index = list.indexOf(listener);
  if (index !== -1) list.splice(index, 1);
}

/** Calls every listener of a catch-all list with (event, ...args). */
export function callAll(list: readonly Listener[], self: unknown, args: unknown[]): void {
  // A copy, so listeners added or removed during the call do not shift it.
  for (const listener of list.slice()) listener.apply(self, args);
}

/** Listener registration of a Socket; the Socket calls `_any` and `_anyOutgoing` through callAll. */
export abstract class SocketListeners<ListenEvents extends EventsMap> extends Emitter {
  /** @internal Listeners of every incoming event. */
  protected readonly _any: Listener[] = [];
  /** @internal Listeners of every outgoing event. */
  protected readonly _anyOutgoing: Listener[] = [];

  // Typed views of Emitter's on/once; declarations only, no code of their own.
  /** Adds a listener. */
  declare on: <Ev extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<SocketReservedEvents, ListenEvents, Ev>,
  ) => this;

  /** Adds a one-time listener. */
  declare once: <Ev extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<SocketReservedEvents, ListenEvents, Ev>,
  ) => this;

  /** Listener for every incoming event: (event, ...args). */
  onAny(listener: Listener): this {
    this._any.push(listener);
    return this;
  }

  prependAny(listener: Listener): this {
    this._any.unshift(listener);
    return this;
  }

  /** Removes one catch-all listener, or all of them. */
  offAny(listener?: Listener): this {
    removeListener(this._any, listener);
    return this;
  }

  listenersAny(): Listener[] {
    return this._any.slice();
  }

  /** Listener for every outgoing event: (event, ...args). */
  onAnyOutgoing(listener: Listener): this {
    this._anyOutgoing.push(listener);
    return this;
  }

  prependAnyOutgoing(listener: Listener): this {
    this._anyOutgoing.unshift(listener);
    return this;
  }

  /** Removes one outgoing catch-all listener, or all of them. */
  offAnyOutgoing(listener?: Listener): this {
    removeListener(this._anyOutgoing, listener);
    return this;
  }

  listenersAnyOutgoing(): Listener[] {
    return this._anyOutgoing.slice();
  }
}
