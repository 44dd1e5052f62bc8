// Live streams to operators: everything devices do is pushed to /console and
// /bridge sockets that subscribed to the device, its site, its class, or all.
import type { Namespace, Server } from '../realtime/index.js';
import type { IotMetrics } from './metrics.js';

/** Where a device belongs, which decides who sees its stream. */
export interface DeviceScope {
  id: string;
  siteId: string;
  classId: string;
}

/** Stream event names pushed to operators. */
export type StreamEvent = 'presence' | 'telemetry' | 'state' | 'event' | 'command';

/** Room names a subscription joins; a broadcast to all of a device's rooms reaches each subscriber once. */
export function scopeRooms(d: DeviceScope): string[] {
  return ['all', `site:${d.siteId}`, `class:${d.classId}`, `device:${d.id}`];
}

/** Publishes device activity to the operator namespaces. */
export class Streams {
  readonly console: Namespace;
  readonly bridge: Namespace;

  constructor(
    io: Server,
    private readonly metrics: IotMetrics,
  ) {
    this.console = io.of('/console');
    this.bridge = io.of('/bridge');
  }

  /** Sends `event` with `payload` to every operator subscribed to the device (encoded once per namespace). */
  publish(event: StreamEvent, device: DeviceScope, payload: unknown): void {
    // Most of the time nobody watches: skip the room lookup and encoding entirely.
    if (this.console.sockets.size === 0 && this.bridge.sockets.size === 0) return;
    const rooms = scopeRooms(device);
    if (this.console.sockets.size > 0) {
      this.console.to(rooms).emit(event, payload);
      this.metrics.eventsOut.inc(`console|${event}`);
    }
    if (this.bridge.sockets.size > 0) {
      this.bridge.to(rooms).emit(event, payload);
      this.metrics.eventsOut.inc(`bridge|${event}`);
    }
  }
}
