// The listener side of a Socket's API: typed on/once and the catch-all
// listeners for incoming (onAny) and outgoing (onAnyOutgoing) events.
import { AnyListeners } from './any-listeners.js';
import { Emitter, type Listener } from './emitter.js';
import type { SocketReservedEvents } from './socket-types.js';
import type { EventsMap, ReservedOrUserEventNames, ReservedOrUserListener } from './typed-events.js';

/** Listener registration of a Socket; the Socket calls `any` and `anyOutgoing`. */
export abstract class SocketListeners<ListenEvents extends EventsMap> extends Emitter {
  /** Listeners of every incoming event. */
  protected readonly any = new AnyListeners();
  /** Listeners of every outgoing event. */
  protected readonly anyOutgoing = new AnyListeners();

  /** Adds a listener. */
  override on<Ev extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.on(ev, listener as Listener);
  }

  /** Adds a one-time listener. */
  override once<Ev extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.once(ev, listener as Listener);
  }

  /** Listener for every incoming event: (event, ...args). */
  onAny(listener: Listener): this {
    this.any.append(listener);
    return this;
  }

  prependAny(listener: Listener): this {
    this.any.prepend(listener);
    return this;
  }

  offAny(listener?: Listener): this {
    this.any.remove(listener);
    return this;
  }

  listenersAny(): Listener[] {
    return this.any.list();
  }

  /** Listener for every outgoing event: (event, ...args). */
  onAnyOutgoing(listener: Listener): this {
    this.anyOutgoing.append(listener);
    return this;
  }

  prependAnyOutgoing(listener: Listener): this {
    this.anyOutgoing.prepend(listener);
    return this;
  }

  offAnyOutgoing(listener?: Listener): this {
    this.anyOutgoing.remove(listener);
    return this;
  }

  listenersAnyOutgoing(): Listener[] {
    return this.anyOutgoing.list();
  }
}
