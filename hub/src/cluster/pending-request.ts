// One request to the other nodes that waits for their answers (sockets, all
// rooms, fetch sockets, server-side emit with ack). It knows whom it waits
// for: the sitehub peers alive when it left, by id, and a number of nodes
// that send no id (socket.io nodes), derived from PUBSUB NUMSUB. It ends as
// soon as everyone answered, a silent peer is declared lost, or the timeout
// passes; whoever did not answer is named in `missing`.

/** How a request ended. */
export interface RequestOutcome<T> {
  responses: T[];
  /** Peer ids that did not answer, plus `unnamed-N` for each unanswered node without an id. */
  missing: string[];
  timedOut: boolean;
}

/** A request in flight; call answer() per response, lost() when a peer goes silent. */
export class PendingRequest<T> {
  private readonly waiting: Set<string>;
  private readonly missing: string[] = [];
  private readonly responses: T[] = [];
  private anonymousLeft: number;
  private readonly timer: NodeJS.Timeout;
  private done = false;

  constructor(
    peers: Set<string>,
    anonymous: number,
    timeout: number,
    private readonly onDone: (outcome: RequestOutcome<T>) => void,
  ) {
    this.waiting = new Set(peers);
    this.anonymousLeft = Math.max(0, anonymous);
    this.timer = setTimeout(() => this.finish(true), timeout);
    this.timer.unref();
  }

  /** A response from node `uid` (undefined for a node that sends no id). */
  answer(uid: string | undefined, value: T): void {
    if (this.done) return;
    if (uid !== undefined && this.waiting.delete(uid)) {
      this.responses.push(value);
    } else if (this.anonymousLeft > 0) {
      this.anonymousLeft--;
      this.responses.push(value);
    } else {
      // A node we did not count (it subscribed after the count): its answer is still an answer.
      this.responses.push(value);
    }
    this.check();
  }

  /** Peer `uid` stopped sending heartbeats: stop waiting for it. */
  lost(uid: string): void {
    if (this.done || !this.waiting.delete(uid)) return;
    this.missing.push(uid);
    this.check();
  }

  /** Ends now (the link went down); everyone still awaited is missing. */
  abort(): void {
    this.finish(true);
  }

  /** Ends at once if nobody is awaited (a cluster of one). */
  check(): void {
    if (!this.done && this.waiting.size === 0 && this.anonymousLeft === 0) this.finish(false);
  }

  private finish(timedOut: boolean): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    const missing = [...this.missing, ...this.waiting];
    for (let i = 1; i <= this.anonymousLeft; i++) missing.push(`unnamed-${i}`);
    this.onDone({ responses: this.responses, missing, timedOut });
  }
}
