// The acks a socket waits for: the callbacks of its emits (and of the
// broadcasts with an ack that include it), by packet id, until the client's
// ACK arrives or the emit's timeout passes.

/** An ack callback: the client's answer, or with a timeout (err, ...answer). */
export type AckCallback = (...args: any[]) => void;

/** A socket's pending acks; made on the socket's first ack. */
export class PendingAcks {
  private readonly byId = new Map<number, AckCallback>();

  /** Waits for the ACK with `id`; with `timeout` (ms), `ack` gets an Error once it passes, else (null, ...answer). */
  expect(id: number, ack: AckCallback, timeout: number | undefined, self: unknown): void {
    if (timeout === undefined) {
      this.byId.set(id, ack);
      return;
    }
    const timer = setTimeout(() => {
      this.byId.delete(id);
      ack.call(self, new Error('operation has timed out'));
    }, timeout);
    this.byId.set(id, (...args: unknown[]) => {
      clearTimeout(timer);
      ack.call(self, null, ...args);
    });
  }

  /** Registers a callback as is (a broadcast's, which keeps its own timer). */
  set(id: number, ack: AckCallback): void {
    this.byId.set(id, ack);
  }

  /** Forgets the ack with `id`. */
  delete(id: number): void {
    this.byId.delete(id);
  }

  /** The callback for `id`, forgotten; undefined for an id nobody waits for. */
  take(id: number): AckCallback | undefined {
    const ack = this.byId.get(id);
    if (ack !== undefined) this.byId.delete(id);
    return ack;
  }
}
