// Live streams to operators: everything devices do is pushed to /console and
// /bridge sockets that subscribed to the device, its site, its class, or all.
// Each payload carries the position the store gave the record, from which a
// bridge resumes (see stream-replay.ts). On a cluster, stored records do not
// go to bridges live: the nodes' publishes can arrive out of commit order,
// so a commit only wakes the bridges' followers, which read the store in
// position order (bridge-feed.ts, stream-follower.ts).
import type { Logger } from 'pino';
import type { BridgeFeed } from './bridge-feed.js';
import type { Namespace, Server } from '../realtime/index.js';
import type { IotMetrics } from './metrics.js';
import type { StreamEventName } from './store/types.js';

/** Where a device belongs, which decides who sees its stream. */
export interface DeviceScope {
  id: string;
  siteId: string;
  classId: string;
}

/** Stream event names pushed to operators. */
export type StreamEvent = StreamEventName;

/** Room names a subscription joins; a broadcast to all of a device's rooms reaches each subscriber once. */
export function scopeRooms(d: { id: string; siteId: string; classId: string }): string[] {
  return ['all', `site:${d.siteId}`, `class:${d.classId}`, `device:${d.id}`];
}

/** The payload of a stream event: the device's identity, the record's body, and its position when stored. */
export function streamPayload(device: DeviceScope, pos: number | undefined, body: Record<string, unknown>): Record<string, unknown> {
  const payload: Record<string, unknown> = { deviceId: device.id, siteId: device.siteId, classId: device.classId, ...body };
  if (pos !== undefined) payload.pos = pos;
  return payload;
}

/** Publishes device activity to the operator namespaces. */
export class Streams {
  readonly console: Namespace;
  readonly bridge: Namespace;
  /** One node of several: records go through the cluster adapter to the other nodes' operators. */
  readonly clustered: boolean;

  constructor(
    io: Server,
    private readonly metrics: IotMetrics,
    private readonly log?: Logger,
    /** In a cluster the watchers may be on other nodes: this says whether any node has one (watchers.ts). */
    private readonly anyoneWatching?: () => boolean,
    /** In a cluster: what wakes the bridge sessions, which follow the store instead of the live stream. */
    readonly feed?: BridgeFeed,
  ) {
    this.console = io.of('/console');
    this.bridge = io.of('/bridge');
    this.clustered = anyoneWatching !== undefined;
  }

  /**
   * Sends `event` to every operator subscribed to the device (encoded once per
   * namespace); `pos` is the record's stream position. Never throws: it runs
   * after a commit, and what is stored must not be reported as not stored.
   * Bridges get a record that failed here again when they resume.
   */
  publish(event: StreamEvent, device: DeviceScope, pos: number | undefined, body: Record<string, unknown>): void {
    // Most of the time nobody watches: skip the room lookup and encoding entirely.
    if (this.console.sockets.size === 0 && this.bridge.sockets.size === 0 && !this.anyoneWatching?.()) return;
    try {
      this.broadcast(event, device, pos, body);
    } catch (err) {
      this.metrics.eventsOut.inc(`stream|${event}_failed`);
      this.log?.error({ err, deviceId: device.id, event, pos }, 'stream publish failed (the record is stored)');
    }
  }

  private broadcast(event: StreamEvent, device: DeviceScope, pos: number | undefined, body: Record<string, unknown>): void {
    const rooms = scopeRooms(device);
    const payload = streamPayload(device, pos, body);
    if (this.clustered || this.console.sockets.size > 0) {
      this.console.to(rooms).emit(event, payload);
      this.metrics.eventsOut.inc(`console|${event}`);
    }
    if (this.feed && pos !== undefined) this.feed.committed(pos);
    else if (this.clustered || this.bridge.sockets.size > 0) {
      this.bridge.to(rooms).emit(event, payload);
      this.metrics.eventsOut.inc(`bridge|${event}`);
    }
  }
}
