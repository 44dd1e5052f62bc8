// The cluster adapter of one namespace: the in-memory adapter for this
// node's sockets, plus @socket.io/redis-adapter's pub/sub protocol to reach
// the others. What it adds over that protocol stays compatible with it:
// responses carry the answering node's `uid` (other nodes ignore the field),
// and sitehub nodes announce themselves on a heartbeat channel that socket.io
// nodes do not listen to, so a request waits for live peers only and names
// those that did not answer.
import { randomBytes } from 'node:crypto';
import { PacketType, type Packet } from '@sitehub/protocol';
import { Adapter, type AdapterNamespace, type BroadcastOptions, type FetchedSockets, type Room, type SocketDetails, type SocketId } from '../realtime/index.js';
import { BroadcastInbox } from './inbox.js';
import type { RedisLink } from './link.js';
import { Membership } from './membership.js';
import { asBroadcast, asEnvelope, asOptions, asPacket, isString, isStringArray, type Envelope } from './parse.js';
import { details, first, responseValue, wireOptions, wirePacket, wireTargets } from './wire-shapes.js';
import { PendingRequest, type RequestOutcome } from './pending-request.js';
import { channelsOf, decodeBroadcast, decodeMessage, encodeBroadcast, encodeMsgpack, RequestType, type Channels } from './protocol.js';
import type { BufferListener } from './redis-client.js';

/** Options of the cluster adapter (the third argument of createRedisAdapter). */
export interface ClusterAdapterOptions {
  /** Channel prefix, as @socket.io/redis-adapter's `key` (default 'socket.io'). */
  key?: string;
  /** Milliseconds to wait for the other nodes' answers (default 5000). */
  requestsTimeout?: number;
  /** Answer on the asking node's own response channel (default false, as the anchor). */
  publishOnSpecificResponseChannel?: boolean;
  /** A peer silent for this many ms is gone (default 3 heartbeat intervals). */
  heartbeatTimeout?: number;
}

type Pending = { request: PendingRequest<unknown>; type: number };
type AckRequest = { clientCount: (n: number) => void; ack: (...args: unknown[]) => void };

/** Six characters, as the anchor's request ids. */
const requestId = () => randomBytes(6).toString('base64url').slice(0, 6);

/** A namespace's adapter in a cluster sharing one Redis. */
export class ClusterAdapter extends Adapter {
  private readonly ch: Channels;
  private readonly requestsTimeout: number;
  private readonly specificResponses: boolean;
  private readonly membership: Membership;
  private readonly requests = new Map<string, Pending>();
  private readonly ackRequests = new Map<string, AckRequest>();
  /** MessagePack of our uid: a broadcast of ours coming back is recognised without decoding it. */
  private readonly selfPrefix: Buffer;
  private readonly inbox = new BroadcastInbox({
    prepareFrames: (packet, opts) =>
      this.encode(packet).map((part) => this.nsp.server.engine.prepare(part, { compress: opts.flags?.compress !== false })),
    forEachRecipient: (opts, fn) => this.apply(opts, fn),
    failed: () => this.link.counters.handlerErrors++,
  });
  private subscribed = false;
  private closed = false;
  // A throw must not reach node-redis's parser (it would break the connection): handlers are fenced.
  private readonly onBroadcastMessage: BufferListener = (msg, channel) => this.fenced(() => this.onBroadcast(msg, channel));
  private readonly onRequestMessage: BufferListener = (msg, channel) => this.fenced(() => this.onChannelMessage(msg, channel));
  private readonly onHeartbeat = () => this.announce('heartbeat');
  private readonly onUp = () => {
    if (!this.subscribed) void this.subscribe();
    this.announce('heartbeat');
  };
  private readonly onDown = () => {
    // Nobody can answer while Redis is away: settle what is pending with what it has.
    for (const { request } of this.requests.values()) request.abort();
  };

  constructor(
    nsp: AdapterNamespace,
    private readonly link: RedisLink,
    opts: ClusterAdapterOptions = {},
  ) {
    super(nsp);
    this.ch = channelsOf(opts.key ?? 'socket.io', nsp.name);
    this.requestsTimeout = opts.requestsTimeout ?? 5000;
    this.specificResponses = opts.publishOnSpecificResponseChannel === true;
    this.membership = new Membership(link.uid, opts.heartbeatTimeout ?? 3 * link.heartbeatInterval);
    this.membership.on('lost', (uid: string) => {
      for (const { request } of this.requests.values()) request.lost(uid);
    });
    this.selfPrefix = encodeMsgpack(link.uid);
    link.attach();
    link.on('heartbeat', this.onHeartbeat);
    link.on('up', this.onUp);
    link.on('down', this.onDown);
  }

  /** This node's id on the wire. */
  get uid(): string {
    return this.link.uid;
  }

  override async init(): Promise<void> {
    await this.subscribe();
    this.announce('heartbeat');
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.announce('leave');
    this.link.detach();
    this.link.off('heartbeat', this.onHeartbeat);
    this.link.off('up', this.onUp);
    this.link.off('down', this.onDown);
    this.membership.close();
    for (const { request } of this.requests.values()) request.abort();
    const sub = this.link.sub;
    await Promise.allSettled([
      sub.pUnsubscribe(`${this.ch.broadcast}*`, this.onBroadcastMessage, true),
      // One at a time: node-redis has had trouble unsubscribing several channels of one listener at once.
      ...this.requestChannels().map((c) => sub.unsubscribe(c, this.onRequestMessage, true)),
    ]);
  }

  /** Node count: the subscribers of the request channel (PUBSUB NUMSUB), this node included. */
  override serverCount(): Promise<number> {
    return this.link.subscriberCount(this.ch.request).catch(() => 1);
  }

  // ---- broadcasts ----

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    packet.nsp = this.nsp.name;
    if (!opts.flags?.local) {
      const channel = opts.rooms.size === 1 ? `${this.ch.broadcast}${first(opts.rooms)}#` : this.ch.broadcast;
      this.link.publish(channel, encodeBroadcast(this.uid, wirePacket(packet), wireOptions(opts)));
    }
    super.broadcast(packet, opts);
  }

  override broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    packet.nsp = this.nsp.name;
    if (!opts.flags?.local) {
      const id = requestId();
      // Encoded before the local delivery gives the packet this node's ack id: each node picks its own.
      const request = encodeMsgpack({ uid: this.uid, requestId: id, type: RequestType.BROADCAST, packet: wirePacket(packet), opts: wireOptions(opts) });
      this.ackRequests.set(id, { clientCount: clientCountCallback, ack });
      // Replies after the caller's timeout have nobody to go to.
      setTimeout(() => this.ackRequests.delete(id), opts.flags?.timeout ?? 0).unref();
      this.link.publish(this.ch.request, request);
    }
    super.broadcastWithAck(packet, opts, clientCountCallback, ack);
  }

  // ---- requests that collect answers ----

  override async sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const local = await super.sockets(rooms);
    const outcome = await this.ask<string[]>(RequestType.SOCKETS, { rooms: [...rooms] });
    for (const ids of outcome.responses) for (const id of ids) local.add(id);
    return local;
  }

  /** Every room of every node. */
  async allRooms(): Promise<Set<Room>> {
    const rooms = new Set(this.rooms.keys());
    const outcome = await this.ask<string[]>(RequestType.ALL_ROOMS, {});
    for (const list of outcome.responses) for (const room of list) rooms.add(room);
    return rooms;
  }

  override async fetchSockets(opts: BroadcastOptions): Promise<FetchedSockets> {
    const local: FetchedSockets = await super.fetchSockets(opts);
    if (opts.flags?.local) return local;
    const outcome = await this.ask<SocketDetails<unknown>[]>(RequestType.REMOTE_FETCH, { opts: { rooms: [...opts.rooms], except: [...(opts.except ?? [])] } });
    for (const list of outcome.responses) local.push(...list);
    if (outcome.missing.length > 0) local.missingNodes = outcome.missing;
    return local;
  }

  override serverSideEmit(packet: unknown[]): void {
    const last = packet[packet.length - 1];
    if (typeof last !== 'function') {
      this.link.publish(this.ch.request, JSON.stringify({ uid: this.uid, type: RequestType.SERVER_SIDE_EMIT, data: packet }));
      return;
    }
    const ack = packet.pop() as (err: Error | null, replies: unknown[]) => void;
    void this.ask<unknown>(RequestType.SERVER_SIDE_EMIT, { data: packet }).then((outcome) => {
      if (outcome.missing.length === 0) return ack(null, outcome.responses);
      const err = new Error(
        `timeout reached: only ${outcome.responses.length} responses received out of ${outcome.responses.length + outcome.missing.length}; no answer from ${outcome.missing.join(', ')}`,
      ) as Error & { missingNodes?: string[] };
      err.missingNodes = outcome.missing;
      ack(err, outcome.responses);
    });
  }

  // ---- requests without answers ----

  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    if (!opts.flags?.local) this.publishRequest(RequestType.REMOTE_JOIN, { opts: wireTargets(opts), rooms: [...rooms] });
    super.addSockets(opts, rooms);
  }

  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    if (!opts.flags?.local) this.publishRequest(RequestType.REMOTE_LEAVE, { opts: wireTargets(opts), rooms: [...rooms] });
    super.delSockets(opts, rooms);
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    if (!opts.flags?.local) this.publishRequest(RequestType.REMOTE_DISCONNECT, { opts: wireTargets(opts), close });
    super.disconnectSockets(opts, close);
  }

  // ---- plumbing ----

  private requestChannels(): string[] {
    return [this.ch.request, this.ch.response, this.ch.specificResponse(this.uid), this.ch.heartbeat];
  }

  private async subscribe(): Promise<void> {
    if (this.closed || this.subscribed) return;
    this.subscribed = true;
    const sub = this.link.sub;
    try {
      await Promise.all([
        sub.pSubscribe(`${this.ch.broadcast}*`, this.onBroadcastMessage, true),
        sub.subscribe(this.requestChannels(), this.onRequestMessage, true),
      ]);
    } catch (err) {
      // Redis away at start: try again when the link comes up.
      this.subscribed = false;
      if (this.link.isUp) throw err;
    }
  }

  private announce(type: 'heartbeat' | 'leave'): void {
    // No `type` field: that name belongs to the anchor's requests.
    if (this.link.isUp) this.link.publish(this.ch.heartbeat, JSON.stringify({ uid: this.uid, [type]: true }));
  }

  private publishRequest(type: number, body: Record<string, unknown>): void {
    this.link.publish(this.ch.request, JSON.stringify({ uid: this.uid, type, ...body }));
  }

  /** Sends a request and waits for the other nodes: live sitehub peers by id, the rest counted. */
  private async ask<T>(type: number, body: Record<string, unknown>): Promise<RequestOutcome<T>> {
    if (!this.link.isUp) return { responses: [], missing: [], timedOut: false };
    const total = await this.serverCount();
    const peers = this.membership.live();
    const id = requestId();
    return new Promise((resolve) => {
      const request = new PendingRequest<T>(peers, total - 1 - peers.size, this.requestsTimeout, (outcome) => {
        this.requests.delete(id);
        resolve(outcome);
      });
      this.requests.set(id, { request: request as PendingRequest<unknown>, type });
      this.link.publish(this.ch.request, JSON.stringify({ uid: this.uid, requestId: id, type, ...body }));
      request.check();
    });
  }

  private respond(request: Envelope, body: Record<string, unknown> | Buffer): void {
    const channel = this.specificResponses && request.uid ? this.ch.specificResponse(request.uid) : this.ch.response;
    this.link.publish(channel, Buffer.isBuffer(body) ? body : JSON.stringify({ requestId: request.requestId, uid: this.uid, ...body }));
  }

  private fenced(handle: () => void): void {
    try {
      handle();
    } catch {
      this.link.counters.handlerErrors++;
    }
  }

  private onBroadcast(msg: Buffer, rawChannel: Buffer): void {
    const channel = rawChannel.toString();
    if (!channel.startsWith(this.ch.broadcast)) return;
    // Our own broadcast, back from Redis: [fixarray(3), uid, ...].
    if (msg.length > this.selfPrefix.length && msg.compare(this.selfPrefix, 0, this.selfPrefix.length, 1, 1 + this.selfPrefix.length) === 0) return;
    // A one-room broadcast for a room with no socket here costs no decoding.
    const room = channel.slice(this.ch.broadcast.length, -1);
    if (room !== '' && !this.rooms.has(room)) return;
    this.link.counters.received++;
    let message;
    try {
      message = asBroadcast(decodeBroadcast(msg));
    } catch {
      message = undefined;
    }
    if (!message) return void this.link.counters.malformed++;
    if (message.uid === this.uid || message.packet.nsp !== this.nsp.name) return;
    this.inbox.push({ type: PacketType.EVENT, nsp: this.nsp.name, data: message.packet.data }, message.opts);
  }

  private onChannelMessage(msg: Buffer, rawChannel: Buffer): void {
    const channel = rawChannel.toString();
    let envelope: Envelope | undefined;
    try {
      envelope = asEnvelope(decodeMessage(msg));
    } catch {
      envelope = undefined;
    }
    if (!envelope) return void this.link.counters.malformed++;
    this.link.counters.received++;
    if (channel === this.ch.heartbeat) return this.onPeerMessage(envelope);
    if (channel === this.ch.request) return void this.onRequest(envelope).catch(() => this.link.counters.handlerErrors++);
    if (channel.startsWith(this.ch.response)) return this.onResponse(envelope);
  }

  private onPeerMessage({ uid, raw }: Envelope): void {
    if (uid === undefined) return;
    if (raw.leave === true) this.membership.left(uid);
    else this.membership.seen(uid);
  }

  private async onRequest(req: Envelope): Promise<void> {
    const { raw } = req;
    // Our own requests come back too; the anchor recognises them by request id, we by uid as well.
    if (req.uid === this.uid) return;
    if (req.requestId !== undefined && (this.requests.has(req.requestId) || this.ackRequests.has(req.requestId))) return;
    switch (req.type) {
      case RequestType.SOCKETS: {
        if (!isStringArray(raw.rooms ?? [])) return void this.link.counters.malformed++;
        const ids = await super.sockets(new Set((raw.rooms as string[] | undefined) ?? []));
        return this.respond(req, { sockets: [...ids] });
      }
      case RequestType.ALL_ROOMS:
        return this.respond(req, { rooms: [...this.rooms.keys()] });
      case RequestType.REMOTE_FETCH: {
        const opts = asOptions(raw.opts);
        if (!opts) return void this.link.counters.malformed++;
        const sockets = await super.fetchSockets(opts);
        return this.respond(req, { sockets: sockets.map(details) });
      }
      case RequestType.REMOTE_JOIN:
      case RequestType.REMOTE_LEAVE:
      case RequestType.REMOTE_DISCONNECT:
        return this.onRemoteAction(req);
      case RequestType.SERVER_SIDE_EMIT:
        return this.onServerSideEmit(req);
      case RequestType.BROADCAST: {
        const packet = asPacket(raw.packet);
        const opts = asOptions(raw.opts);
        if (!packet || !opts || req.requestId === undefined) return void this.link.counters.malformed++;
        const local: Packet = { type: PacketType.EVENT, nsp: this.nsp.name, data: packet.data };
        return super.broadcastWithAck(
          local,
          opts,
          (clientCount) => this.respond(req, { type: RequestType.BROADCAST_CLIENT_COUNT, clientCount }),
          (reply) => this.respond(req, encodeMsgpack({ type: RequestType.BROADCAST_ACK, requestId: req.requestId, packet: reply })),
        );
      }
    }
  }

  /** Join, leave, disconnect: by targets (current protocol) or by one socket id (older nodes, answered). */
  private onRemoteAction(req: Envelope): void {
    const { raw } = req;
    if (raw.opts !== undefined) {
      const opts = asOptions(raw.opts);
      if (!opts) return void this.link.counters.malformed++;
      if (req.type === RequestType.REMOTE_DISCONNECT) return super.disconnectSockets(opts, raw.close === true);
      if (!isStringArray(raw.rooms)) return void this.link.counters.malformed++;
      if (req.type === RequestType.REMOTE_JOIN) return super.addSockets(opts, raw.rooms);
      return super.delSockets(opts, raw.rooms);
    }
    if (!isString(raw.sid)) return void this.link.counters.malformed++;
    const socket = this.nsp.sockets.get(raw.sid);
    if (!socket) return;
    if (req.type === RequestType.REMOTE_DISCONNECT) socket.disconnect(raw.close === true);
    else if (!isString(raw.room)) return void this.link.counters.malformed++;
    else if (req.type === RequestType.REMOTE_JOIN) void socket.join(raw.room);
    else void socket.leave(raw.room);
    this.respond(req, {});
  }

  private onServerSideEmit(req: Envelope): void {
    const data = req.raw.data;
    if (!Array.isArray(data) || !isString(data[0])) return void this.link.counters.malformed++;
    const args = [...data] as [string, ...unknown[]];
    if (req.requestId !== undefined) {
      let answered = false;
      args.push((reply: unknown) => {
        if (answered) return;
        answered = true;
        // The anchor answers server-side emits on the shared response channel whatever its options.
        this.link.publish(this.ch.response, JSON.stringify({ type: RequestType.SERVER_SIDE_EMIT, requestId: req.requestId, uid: this.uid, data: reply }));
      });
    }
    this.serverSideEmitLocally(args);
  }

  private onResponse(res: Envelope): void {
    const { raw, requestId: id } = res;
    if (id === undefined) return;
    const ackRequest = this.ackRequests.get(id);
    if (ackRequest) {
      if (res.type === RequestType.BROADCAST_CLIENT_COUNT && typeof raw.clientCount === 'number') ackRequest.clientCount(raw.clientCount);
      else if (res.type === RequestType.BROADCAST_ACK) ackRequest.ack(raw.packet);
      return;
    }
    const pending = this.requests.get(id);
    if (!pending) return;
    const value = responseValue(pending.type, raw);
    if (value === undefined) return void this.link.counters.malformed++;
    pending.request.answer(res.uid, value);
  }
}
