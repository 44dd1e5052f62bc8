/** A listener of every event: gets the event name, then its arguments. */
export type CatchAllListener = (event: any, ...args: any[]) => void;

/** An ordered list of catch-all listeners (onAny / onAnyOutgoing and their friends). */
export class CatchAllListeners {
  private list: CatchAllListener[] = [];

  get size(): number {
    return this.list.length;
  }

  append(listener: CatchAllListener): void {
    this.list.push(listener);
  }

  prepend(listener: CatchAllListener): void {
    this.list.unshift(listener);
  }

  /** Removes one listener, or all of them when none is given. */
  remove(listener?: CatchAllListener): void {
    if (!listener) {
      this.list = [];
      return;
    }
    const i = this.list.indexOf(listener);
    if (i !== -1) this.list.splice(i, 1);
  }

  snapshot(): CatchAllListener[] {
    return this.list.slice();
  }

  /** Calls each listener with `args` = [event, ...arguments]. */
  call(thisArg: unknown, args: unknown[]): void {
    if (this.list.length === 0) return;
    for (const listener of this.list.slice()) listener.apply(thisArg, args as [unknown, ...unknown[]]);
  }
}
