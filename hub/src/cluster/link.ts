// One node's link to Redis, shared by the adapters of all its namespaces.
// It owns: the node id, whether Redis is reachable (both clients ready), the
// bounded buffer of messages published while it is not, the counters, and
// the heartbeat clock. Rules it keeps:
// - nothing is handed to the client while the link is down, so the client's
//   own offline queue (unbounded by default) never grows; our buffer is
//   bounded in messages and bytes, drops the oldest first and counts it;
// - on the way back up the buffer is flushed in order, then every adapter
//   announces itself at once (peers learn of us without waiting a beat);
// - subscriptions are the client's: node-redis subscribes again by itself
//   after a reconnection, before it reports 'ready'.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AdapterHealth } from '../realtime/index.js';
import type { RedisPubClient, RedisSubClient } from './redis-client.js';

/** Options of the link; all have defaults. */
export interface LinkOptions {
  /** Most messages kept while Redis is away (default 10000). */
  maxBufferedMessages?: number;
  /** Most bytes kept while Redis is away (default 16 MiB). */
  maxBufferedBytes?: number;
  /** Milliseconds between heartbeats (default 1000). */
  heartbeatInterval?: number;
}

/** Counters of the link, reported by health() and readable for /metrics. */
export interface LinkCounters {
  published: number;
  received: number;
  buffered: number;
  flushed: number;
  droppedWhileDown: number;
  publishErrors: number;
  malformed: number;
  /** Messages whose handling threw (a listener of serverSideEmit, a socket's write...). */
  handlerErrors: number;
  linkLost: number;
  linkRestored: number;
}

interface Pending {
  channel: string;
  payload: string | Buffer;
}

/** The shared Redis link of one node; emits 'up', 'down' and 'heartbeat'. */
export class RedisLink extends EventEmitter {
  /** This node's id on the wire (the `uid` of its messages); six characters, as the anchor's. */
  readonly uid = randomBytes(6).toString('base64url').slice(0, 6);
  readonly counters: LinkCounters = {
    published: 0,
    received: 0,
    buffered: 0,
    flushed: 0,
    droppedWhileDown: 0,
    publishErrors: 0,
    malformed: 0,
    handlerErrors: 0,
    linkLost: 0,
    linkRestored: 0,
  };
  readonly heartbeatInterval: number;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly pending: Pending[] = [];
  private pendingHead = 0;
  private pendingBytes = 0;
  private up: boolean;
  private since = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private users = 0;
  private readonly onChange = () => this.update();
  private readonly onError = () => this.update();

  constructor(
    readonly pub: RedisPubClient,
    readonly sub: RedisSubClient,
    opts: LinkOptions = {},
  ) {
    super();
    this.maxMessages = opts.maxBufferedMessages ?? 10_000;
    this.maxBytes = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.heartbeatInterval = opts.heartbeatInterval ?? 1000;
    this.up = pub.isReady && sub.isReady;
    for (const client of [pub, sub]) {
      client.on('ready', this.onChange);
      client.on('end', this.onChange);
      client.on('reconnecting', this.onChange);
      // node-redis throws an 'error' with no listener; the link's state says what matters.
      client.on('error', this.onError);
    }
  }

  /** An adapter starts using the link: the heartbeat runs while at least one does. */
  attach(): void {
    if (this.users++ > 0) return;
    this.timer = setInterval(() => {
      this.update();
      if (this.up) this.emit('heartbeat');
    }, this.heartbeatInterval);
    this.timer.unref();
  }

  /** An adapter closed; the last one stops the heartbeat. */
  detach(): void {
    if (this.users === 0 || --this.users > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True while both clients are connected and ready. */
  get isUp(): boolean {
    return this.up;
  }

  /** Publishes now, or keeps the message for later while Redis is away. */
  publish(channel: string, payload: string | Buffer): void {
    if (this.up) return this.send(channel, payload);
    const size = payload.length;
    this.pending.push({ channel, payload });
    this.pendingBytes += size;
    this.counters.buffered++;
    while (this.pending.length - this.pendingHead > this.maxMessages || this.pendingBytes > this.maxBytes) {
      const dropped = this.pending[this.pendingHead]!;
      this.pending[this.pendingHead++] = undefined as unknown as Pending;
      this.pendingBytes -= dropped.payload.length;
      this.counters.droppedWhileDown++;
    }
    // Dropped slots are reclaimed in bulk, so a long outage keeps the array bounded too.
    if (this.pendingHead > this.maxMessages) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /** PUBSUB NUMSUB `channel`: how many clients listen there (the node count on a request channel). */
  async subscriberCount(channel: string): Promise<number> {
    if (!this.up) return 1;
    const reply = (await this.pub.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [unknown, unknown];
    const count = Number(reply?.[1]);
    return Number.isFinite(count) ? count : 1;
  }

  /** What /readyz shows of the link. */
  health(): AdapterHealth {
    return {
      ok: this.up,
      link: this.up ? 'up' : 'down',
      since: new Date(this.since).toISOString(),
      node: this.uid,
      queued: this.pending.length - this.pendingHead,
      ...this.counters,
    };
  }

  /** Stops the heartbeat and forgets the clients (which stay the caller's to close). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.users = 0;
    for (const client of [this.pub, this.sub]) {
      client.off('ready', this.onChange);
      client.off('end', this.onChange);
      client.off('reconnecting', this.onChange);
      client.off('error', this.onError);
    }
  }

  private send(channel: string, payload: string | Buffer): void {
    this.counters.published++;
    this.pub.publish(channel, payload).catch(() => {
      this.counters.publishErrors++;
    });
  }

  private update(): void {
    const up = this.pub.isReady && this.sub.isReady;
    if (up === this.up) return;
    this.up = up;
    this.since = Date.now();
    if (!up) {
      this.counters.linkLost++;
      this.emit('down');
      return;
    }
    this.counters.linkRestored++;
    this.flush();
    this.emit('up');
  }

  private flush(): void {
    while (this.up && this.pendingHead < this.pending.length) {
      const next = this.pending[this.pendingHead]!;
      this.pending[this.pendingHead++] = undefined as unknown as Pending;
      this.pendingBytes -= next.payload.length;
      this.counters.flushed++;
      this.send(next.channel, next.payload);
    }
    this.pending.length = 0;
    this.pendingHead = 0;
    this.pendingBytes = 0;
  }
}
