// Observers of what devices report, told after each commit (alarm rules
// listen here). The handlers that store readings and events own them; an
// observer cannot delay an ack or fail a write: it runs after both, and what
// it throws is logged and dropped.
import type { Logger } from 'pino';
import type { DeviceEvent, Reading } from './store/types.js';
import type { DeviceScope } from './streams.js';

/** Something that wants to see readings and device events as they are stored. */
export interface IngestObserver {
  /** New readings of `device`, in the order stored; `now` is when the hub received them. */
  readings(device: DeviceScope, readings: readonly Reading[], now: number): void;
  /** A stored device event. */
  event(device: DeviceScope, event: DeviceEvent): void;
}

/** The observers of ingest, called in the order added. */
export class IngestHooks {
  private observers: IngestObserver[] = [];

  constructor(private readonly log?: Logger) {}

  /** Adds an observer. */
  add(observer: IngestObserver): void {
    this.observers = [...this.observers, observer];
  }

  /** Tells every observer about stored readings. */
  readings(device: DeviceScope, readings: readonly Reading[], now: number): void {
    for (const o of this.observers) {
      try {
        o.readings(device, readings, now);
      } catch (err) {
        this.log?.error({ err, deviceId: device.id }, 'ingest observer failed on readings');
      }
    }
  }

  /** Tells every observer about a stored device event. */
  event(device: DeviceScope, event: DeviceEvent): void {
    for (const o of this.observers) {
      try {
        o.event(device, event);
      } catch (err) {
        this.log?.error({ err, deviceId: device.id }, 'ingest observer failed on an event');
      }
    }
  }
}
