// A bridge session on a cluster follows the stream through the store, never
// through the live broadcasts. Positions are given in commit order by the
// shared database, but every node publishes its own commits through Redis:
// a record committed on one node can reach this node after a later one
// committed on another. A bridge keeps the highest position it handed on;
// given P+1 before P and stopped in between, it would resume after P+1 and
// never forward P. So here a committed record is only a wake-up (bridge-feed.ts):
// the follower reads the store after its cursor (positions become visible in
// commit order, so once P is visible every position below it is too), sends
// what it found in order as `replay` pages the bridge acks, and moves the
// cursor through each page whether its records matched the session's rooms
// or not. At most one read is in flight per session; after it, another only
// if a wake-up named a position past what it returned (a read that returned
// through P saw every commit through P).
import type { ResumeOutcome } from '@sitehub/protocol/iot';
import type { Socket } from '../realtime/index.js';
import type { IotContext } from './context.js';
import { PAGE, resumePoint, sendPage } from './stream-replay.js';

/** One bridge session's place in the stream, and the loop that sends what the store holds past it. */
export class StreamFollower {
  /** The last position sent or passed; -1 until the start is known. */
  private cursor = -1;
  /** True while a read (or the start) runs: a wake-up then only raises `wanted`. */
  private reading = true;
  /** The newest position a wake-up named: committed, so visible to any read that starts now. */
  private wanted = -1;
  private stopped = false;
  /** The store failed a read: said once in the log until a read works again. */
  private storeFailing = false;

  constructor(
    private readonly ctx: IotContext,
    private readonly socket: Socket,
  ) {}

  /** Follows from the store's head, the live stream's start; resolves with it. */
  async fromHead(): Promise<number> {
    try {
      this.cursor = await this.ctx.store.stream.head();
    } catch (err) {
      this.stop();
      throw err;
    }
    this.follow();
    return this.cursor;
  }

  /**
   * Resumes after `start`: the gap check, everything stored since (read until
   * a page comes back short: the store's head at that moment), `resumed`,
   * then on. Rejects (the caller ends the session) when the bridge does not
   * take its pages or the store cannot be read.
   */
  async resume(start: number): Promise<ResumeOutcome> {
    let outcome: ResumeOutcome;
    try {
      const { cursor, gap } = await resumePoint(this.ctx, this.socket, start);
      this.cursor = cursor;
      const records = await this.drain('bridge|replay');
      outcome = { from: start, through: this.cursor, records, ...(gap && { gap }) };
    } catch (err) {
      this.stop();
      throw err;
    }
    // Before any later page: the bridge learns where the replay ended, then the stream goes on.
    this.socket.emit('resumed', outcome);
    this.follow();
    return outcome;
  }

  /** A record at `pos` was committed somewhere in the cluster: read if it lies past the cursor. */
  wake(pos: number): void {
    if (this.stopped || pos <= this.cursor) return;
    if (pos > this.wanted) this.wanted = pos;
    if (!this.reading) void this.run();
  }

  /** The session ended: no more reads. */
  stop(): void {
    this.stopped = true;
  }

  /** The start is done: from now on wake-ups read; one that came during the start reads now. */
  private follow(): void {
    this.reading = false;
    if (this.wanted > this.cursor && !this.stopped) void this.run();
  }

  private async run(): Promise<void> {
    this.reading = true;
    try {
      for (;;) {
        const [from, asked] = [this.cursor, this.wanted];
        await this.drain('bridge|live');
        if (this.stopped || this.wanted <= this.cursor) break;
        // Still below `wanted`: read again if this read moved or a wake-up came while it ran (that commit may
        // be later than the read). A read that found nothing with no news since means a wake-up named a
        // position never committed (a word from the bus is trusted, not believed): wait for the next one.
        if (this.cursor === from && this.wanted === asked) break;
      }
    } catch (err) {
      if (err instanceof StoreReadFailed) {
        // The next wake-up or poll (bridge-feed.ts) tries again; the bridge keeps its session.
        if (!this.storeFailing) this.ctx.log.warn({ err: err.cause, bridgeId: this.socket.data.bridgeId }, 'stream read for a bridge failed; retrying on the next record');
        this.storeFailing = true;
      } else if (!this.stopped && this.socket.connected) {
        // A bridge that does not take its pages resumes from its own position in a new session.
        this.ctx.log.warn({ err, bridgeId: this.socket.data.bridgeId }, 'bridge did not take its stream; ending its session');
        this.stop();
        this.socket.disconnect(true);
      }
    } finally {
      this.reading = false;
    }
  }

  /** Reads and sends pages until one comes back short; resolves with the records sent. */
  private async drain(metric: string): Promise<number> {
    let records = 0;
    for (;;) {
      if (this.stopped || !this.socket.connected) return records;
      let page;
      try {
        page = await this.ctx.store.stream.readAfter(this.cursor, PAGE);
      } catch (err) {
        throw new StoreReadFailed(err);
      }
      this.storeFailing = false;
      if (page.length === 0) return records;
      records += await sendPage(this.ctx, this.socket, page, this.socket.rooms, metric);
      this.cursor = page[page.length - 1]!.pos;
      if (page.length < PAGE) return records;
    }
  }
}

/** A read of the store failed (as opposed to the bridge failing to take a page). */
class StoreReadFailed extends Error {
  constructor(cause: unknown) {
    super('stream read failed', { cause });
  }
}
