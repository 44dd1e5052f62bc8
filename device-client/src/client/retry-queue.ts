// At-least-once delivery for `retries`: emits wait in order, one in flight at
// a time; each is sent again until the server acknowledges it or it has been
// tried `retries + 1` times. The server may see a message more than once, so
// receivers that must act once deduplicate (e.g. by a sequence number).

/** An ack callback; `withError` ones take an error (or null) first. */
export type AckCallback = ((...args: unknown[]) => void) & { withError?: boolean };

/** Emit flags that travel with a queued message. */
export interface QueuedFlags {
  compress?: boolean;
  timeout?: number;
}

interface QueuedEmit {
  tryCount: number;
  pending: boolean;
  /** Event name and arguments, without the ack. */
  args: unknown[];
  flags: QueuedFlags;
  ack: AckCallback | undefined;
}

/** What the queue needs from its socket. */
export interface RetryQueueHost {
  /** Whether messages can go out now. */
  canSend(): boolean;
  /** Sends one try; `onAck(err, ...response)` runs once it is answered, timed out or lost. */
  sendTry(args: unknown[], flags: QueuedFlags, onAck: AckCallback): void;
}

/** The ordered retry queue of one socket. */
export class RetryQueue {
  readonly #queue: QueuedEmit[] = [];

  readonly #host: RetryQueueHost;
  readonly #retries: number;
  /** Most messages waiting (not counting the one in flight); the oldest waiting is dropped beyond. */
  readonly #limit: number;
  readonly #onDrop: (ack: AckCallback | undefined) => void;

  constructor(host: RetryQueueHost, retries: number, limit: number, onDrop: (ack: AckCallback | undefined) => void) {
    this.#host = host;
    this.#retries = retries;
    this.#limit = limit;
    this.#onDrop = onDrop;
  }

  /** Queues one emit; `args` may end with an ack callback. */
  add(args: unknown[], flags: QueuedFlags): void {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (args.pop() as AckCallback) : undefined;
    this.#queue.push({ tryCount: 0, pending: false, args, flags, ack });
    this.drain();
    this.#enforceLimit();
  }

  /** Sends the head if nothing is in flight; `force` sends it again even so (after a reconnection). */
  drain(force = false): void {
    const head = this.#queue[0];
    if (!head || !this.#host.canSend()) return;
    if (head.pending && !force) return;
    head.pending = true;
    head.tryCount++;
    const onAck: AckCallback = (err, ...response) => this.#onAnswer(head, err, response);
    onAck.withError = true;
    this.#host.sendTry([...head.args], head.flags, onAck);
  }

  #onAnswer(entry: QueuedEmit, err: unknown, response: unknown[]): void {
    // A late answer to an earlier try of a message already settled.
    if (entry !== this.#queue[0]) return;
    entry.pending = false;
    if (err === null || err === undefined) {
      this.#queue.shift();
      entry.ack?.(null, ...response);
    } else if (entry.tryCount > this.#retries) {
      this.#queue.shift();
      entry.ack?.(err);
    }
    this.drain();
  }

  #enforceLimit(): void {
    const firstWaiting = this.#queue[0]?.pending ? 1 : 0;
    while (this.#queue.length - firstWaiting > this.#limit) {
      const [dropped] = this.#queue.splice(firstWaiting, 1);
      this.#onDrop(dropped!.ack);
    }
  }
}
