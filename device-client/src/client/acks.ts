// Pending acknowledgements of one socket's emits, with optional timeouts.
import type { AckCallback } from './retry-queue.js';

/** Ack callbacks waiting for the server, by ack id. */
export class AckRegistry {
  #nextId = 0;
  readonly #acks = new Map<number, AckCallback>();

  /** A fresh ack id (a per-namespace counter from 0, as the protocol wants). */
  nextId(): number {
    return this.#nextId++;
  }

  /**
   * Registers `ack`. With a `timeout`, the ack is wrapped so that it takes an
   * error first, and `onTimeout` runs before it gets Error('operation has timed out').
   */
  register(id: number, ack: AckCallback, timeout: number | undefined, onTimeout: () => void): void {
    if (timeout === undefined) {
      this.#acks.set(id, ack);
      return;
    }
    const timer = setTimeout(() => {
      this.#acks.delete(id);
      onTimeout();
      ack(new Error('operation has timed out'));
    }, timeout);
    const withTimeout: AckCallback = (...args) => {
      clearTimeout(timer);
      ack(...args);
    };
    withTimeout.withError = true;
    this.#acks.set(id, withTimeout);
  }

  /** Calls and forgets the ack `id` with the server's answer; unknown ids are ignored. */
  resolve(id: number, args: unknown[]): void {
    const ack = this.#acks.get(id);
    if (!ack) return;
    this.#acks.delete(id);
    if (ack.withError) ack(null, ...args);
    else ack(...args);
  }

  /** Forgets the ack `id` and gives it `err` when it takes errors. */
  fail(id: number, err: Error): void {
    const ack = this.#acks.get(id);
    if (!ack) return;
    this.#acks.delete(id);
    if (ack.withError) ack(err);
  }

  /** Fails every ack except those `keep` selects. */
  failAll(err: Error, keep: (id: number) => boolean): void {
    for (const id of [...this.#acks.keys()]) if (!keep(id)) this.fail(id, err);
  }
}
