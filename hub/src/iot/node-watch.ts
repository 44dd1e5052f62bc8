// Which hub nodes sharing the store are alive, and cleaning up after one
// that is not. Every node counts heartbeats in the store (one small write a
// second per node, never one per device or per ping). A node whose counter
// stops moving while this node's own beats keep succeeding is gone: whoever
// notices first marks its devices offline (the store's release is one
// statement, so two noticing nodes release each device once). Watching the
// store rather than Redis means a Redis outage kills nobody, and a database
// outage stops every node's beats and every watch together. A node that was
// only paused (a long GC, SIGSTOP) finds its row gone at its next beat and
// records its still-connected sessions online again, each under its epoch.
import type { IotContext } from './context.js';
import type { LocalSessions } from './presence.js';
import type { Presence } from './presence.js';
import type { DeviceSession } from './iot-events.js';

/** Timing of the node watch. */
export interface NodeWatchOptions {
  /** Milliseconds between heartbeats (default 1000). */
  intervalMs?: number;
  /** Own successful beats without a peer's counter moving before the peer counts as gone (default 5). */
  missedBeats?: number;
  /** Beats between two checks that no local session was replaced elsewhere unnoticed (default 5). */
  sessionCheckBeats?: number;
  /** The URL other nodes reach this one at (forwarded polling requests), kept with its heartbeat. */
  url?: string;
}

/** This node's heartbeat and the release of nodes that stopped beating. */
export class NodeWatch {
  private timer: NodeJS.Timeout | undefined;
  /** Per peer: its last counter seen and how many of our beats it has not moved for. */
  private readonly peers = new Map<string, { beats: number; still: number }>();
  private beating = false;
  private beatenOnce = false;
  private readonly intervalMs: number;
  private readonly missedBeats: number;
  private readonly sessionCheckBeats: number;
  private beats = 0;
  /** The URL each live node gave, from the store. */
  private readonly urls = new Map<string, string>();
  private readonly url: string | undefined;
  private lookup: Promise<void> | undefined;
  private lookedUpAt = 0;

  constructor(
    private readonly ctx: IotContext,
    private readonly nodeId: string,
    private readonly presence: Presence,
    private readonly sessions: LocalSessions & { allSessions(): Iterable<DeviceSession> },
    opts: NodeWatchOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.missedBeats = opts.missedBeats ?? 5;
    this.sessionCheckBeats = opts.sessionCheckBeats ?? 5;
    this.url = opts.url;
  }

  /** Releases what this node held before it (re)started, then beats. */
  async start(): Promise<void> {
    await this.releaseDevicesOf(this.nodeId, 'hub restarted');
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // A clean stop: the others need not wait for the missed beats (the sessions were closed, each recorded offline).
    await this.ctx.store.presence.forgetNode(this.nodeId).catch(() => {});
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const known = await this.ctx.store.presence.heartbeat(this.nodeId, Date.now(), this.url);
      if (!known && this.beatenOnce) await this.restore();
      this.beatenOnce = true;
      // The node bus keeps nothing: a takeover announced while Redis was away is found here instead.
      if (++this.beats % this.sessionCheckBeats === 0) await this.presence.endReplaced([...this.sessions.allSessions()]);
      const nodes = await this.ctx.store.presence.nodes();
      // A node that left cleanly removed its row: forget what was kept about it.
      const present = new Set(nodes.map((n) => n.node));
      for (const node of this.peers.keys()) if (!present.has(node)) this.peers.delete(node), this.urls.delete(node);
      for (const { node, beats, url } of nodes) {
        if (node === this.nodeId) continue;
        if (url !== undefined) this.urls.set(node, url);
        const peer = this.peers.get(node);
        if (!peer || peer.beats !== beats) {
          this.peers.set(node, { beats, still: 0 });
          continue;
        }
        if (++peer.still < this.missedBeats) continue;
        this.peers.delete(node);
        this.urls.delete(node);
        this.ctx.log.warn({ node }, 'hub node stopped beating; releasing its devices');
        await this.releaseDevicesOf(node, 'hub node lost');
        await this.ctx.store.presence.forgetNode(node);
      }
    } catch (err) {
      // The database is away: nobody's beats move, and nobody is declared gone for it.
      this.ctx.log.warn({ err }, 'node heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  /**
   * The URL a live node gave, if any. A node not known yet (it started a moment
   * ago) is looked up in the store, at most once per half second whatever
   * asks: a flood of made-up session ids costs no more than that.
   */
  async urlOf(node: string): Promise<string | undefined> {
    const known = this.urls.get(node);
    if (known !== undefined || node === this.nodeId) return known;
    if (Date.now() - this.lookedUpAt >= 500) {
      this.lookedUpAt = Date.now();
      this.lookup ??= this.ctx.store.presence.nodes().then(
        (nodes) => {
          for (const n of nodes) if (n.url !== undefined && n.node !== this.nodeId) this.urls.set(n.node, n.url);
        },
        () => {},
      );
    }
    await this.lookup;
    this.lookup = undefined;
    return this.urls.get(node);
  }

  private async releaseDevicesOf(node: string, reason: string): Promise<void> {
    const ts = Date.now();
    const released = await this.ctx.store.presence.releaseNode(node, ts, reason);
    this.ctx.metrics.eventsOut.inc(`presence|released`, released.length);
    for (const { deviceId, pos } of released) {
      const device = await this.ctx.store.registry.getDevice(deviceId);
      if (device) this.presence.publish(device, pos, false, ts, reason, '');
    }
  }

  /** Another node declared this one gone (it was paused): what is still connected is online again. */
  private async restore(): Promise<void> {
    this.ctx.log.warn({ node: this.nodeId }, 'this node was declared gone while it was paused; recording its sessions online again');
    for (const session of this.sessions.allSessions()) {
      if (session.epoch !== undefined && session.socket.connected) await this.presence.restore(session);
    }
  }
}
