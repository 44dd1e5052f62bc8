// Resumable streams for bridges. A bridge subscribes with the last position
// it has safely handed on (or asks for the one the hub kept for its token);
// the hub sends what the store holds after it, in pages the bridge acks, and
// joins the subscription rooms only once a read comes back empty, at the
// point the store names for it (StreamStore.readAfter's onEmpty): nothing can
// commit between that read and the join, so the live stream continues exactly
// where the replay ended: no gap, no reordering. That holds on one node,
// where records are published in commit order; a cluster's bridges never
// take the live stream and follow the store instead (stream-follower.ts,
// with the page sending and the gap check here). Positions older than
// retention cannot be replayed: the bridge gets a `gap` notice first.
import type { GapNotice, ResumeOutcome } from '@sitehub/protocol/iot';
import type { Socket } from '../realtime/index.js';
import type { IotContext } from './context.js';
import { HubError } from './errors.js';
import { streamPayload } from './streams.js';
import type { StreamRecord } from './store/types.js';

/** Records read from the store per page. */
export const PAGE = 500;
/**
 * Bytes of records in one `replay` message, about: well under the engine's
 * per-session write bound (maxBufferedBytes, 1 MiB by default), so a replay
 * never gets the bridge cut off as a slow consumer. A single larger record
 * still goes, alone.
 */
const REPLAY_MESSAGE_BYTES = 256 * 1024;
/** How long the hub waits for the bridge to ack a page before it drops the session. */
const PAGE_ACK_TIMEOUT_MS = 30_000;
/** Most time between two stores of a bridge token's confirmed position. */
const CONFIRM_EVERY_MS = 1000;

/** Where a subscription starts: a position, the token's confirmed one, or the live stream. */
export type ResumeFrom = number | 'confirmed' | undefined;

/** Reads the `after` of a subscribe request: a position (integer >= 0), `'confirmed'`, or nothing. */
export function parseResume(value: unknown): ResumeFrom {
  if (value === undefined || value === null) return undefined;
  if (value === 'confirmed') return 'confirmed';
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new HubError('invalid_position', 'after must be a stream position (an integer >= 0) or "confirmed"');
}


/** Whether a record belongs to a subscription's rooms (the rooms scopeRooms gives a device). */
export function matches(rooms: ReadonlySet<string>, r: StreamRecord): boolean {
  return rooms.has('all') || rooms.has(`site:${r.siteId}`) || rooms.has(`class:${r.classId}`) || rooms.has(`device:${r.deviceId}`);
}

/**
 * Checks where a resume from `start` can begin: past a gap (sent to the
 * bridge first) when the log no longer holds `start` or never held it.
 */
export async function resumePoint(ctx: IotContext, socket: Socket, start: number): Promise<{ cursor: number; gap?: GapNotice }> {
  const stream = ctx.store.stream;
  const [prunedThrough, head] = await Promise.all([stream.prunedThrough(), stream.head()]);
  let gap: GapNotice | undefined;
  if (start > head) gap = { after: start, through: prunedThrough, reason: 'unknown_position' };
  else if (start < prunedThrough) gap = { after: start, through: prunedThrough, reason: 'retention' };
  if (!gap) return { cursor: start };
  ctx.metrics.eventsOut.inc('bridge|gap');
  ctx.log.warn({ bridgeId: socket.data.bridgeId, ...gap }, 'bridge resumes past a gap in the stream');
  socket.emit('gap', gap);
  return { cursor: gap.through, gap };
}

/**
 * Sends the records of `page` that match `wanted` as `replay` messages, each
 * waiting for the bridge's ack (the backpressure), the last one reaching
 * through the page's last position even when nothing in it matched (so the
 * bridge's position moves past records it does not want). Resolves with the
 * number of records sent; rejects when the bridge does not ack in time.
 */
export async function sendPage(ctx: IotContext, socket: Socket, page: readonly StreamRecord[], wanted: ReadonlySet<string>, metric = 'bridge|replay'): Promise<number> {
  let items: Array<[string, Record<string, unknown>]> = [];
  let bytes = 0;
  let sent = 0;
  const send = async (through: number) => {
    await socket.timeout(PAGE_ACK_TIMEOUT_MS).emitWithAck('replay', { records: items, through });
    ctx.metrics.eventsOut.inc(metric);
    sent += items.length;
    items = [];
    bytes = 0;
  };
  for (const r of page) {
    if (!matches(wanted, r)) continue;
    const payload = streamPayload({ id: r.deviceId, siteId: r.siteId, classId: r.classId }, r.pos, r.body);
    const size = JSON.stringify(payload).length;
    if (items.length > 0 && bytes + size > REPLAY_MESSAGE_BYTES) await send(items[items.length - 1]![1].pos as number);
    items.push([r.event, payload]);
    bytes += size;
  }
  if (page.length > 0) await send(page[page.length - 1]!.pos);
  return sent;
}

/** Replays the store after `from` to `socket`, then joins `rooms`; resolves once the socket is on the live stream. One node only (a cluster's bridges follow the store: stream-follower.ts). */
export async function replayThenJoin(ctx: IotContext, socket: Socket, rooms: string[], start: number): Promise<ResumeOutcome> {
  const wanted = new Set(rooms);
  let { cursor, gap } = await resumePoint(ctx, socket, start);
  let records = 0;
  for (;;) {
    if (!socket.connected) throw new HubError('disconnected', 'the bridge left during its replay');
    const page = await ctx.store.stream.readAfter(cursor, PAGE, () => void socket.join(rooms));
    if (page.length === 0) break;
    records += await sendPage(ctx, socket, page, wanted);
    cursor = page[page.length - 1]!.pos;
  }
  return { from: start, through: cursor, records, ...(gap && { gap }) };
}

/** Keeps a bridge token's confirmed position, storing at most once a second per session and once more when it ends. */
export class ConfirmedPosition {
  private pending: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: IotContext,
    private readonly tokenId: string,
  ) {}

  /** Takes a position the bridge says it has handed on; refuses one the hub never assigned. */
  async confirm(value: unknown): Promise<number> {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new HubError('invalid_position', 'pos must be an integer >= 0');
    if (value > (await this.ctx.store.stream.head())) throw new HubError('invalid_position', 'pos is beyond the last position the hub assigned');
    this.pending = Math.max(this.pending ?? 0, value);
    this.timer ??= setTimeout(() => void this.flush(), CONFIRM_EVERY_MS);
    return value;
  }

  /** Stores the latest confirmed position now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pos = this.pending;
    this.pending = undefined;
    if (pos === undefined) return;
    try {
      await this.ctx.store.stream.confirmBridgePosition(this.tokenId, pos, Date.now());
    } catch (err) {
      this.ctx.log.warn({ err, bridgeId: this.tokenId }, 'bridge position not stored');
    }
  }
}
