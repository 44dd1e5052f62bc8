// Every device, loaded once and kept current by the live presence and state
// streams. Pages subscribe and re-render at most every 250 ms.
import { useEffect, useState } from 'preact/hooks';
import { allDevices, type Device } from './api';
import { live } from './live';

/** A device with what the console learns live. */
export interface DeviceRow extends Device {
  transport?: string;
  outboxDepth?: number;
}

const OUTBOX_ATTR = 'outbox.depth';

class DeviceStore {
  readonly byId = new Map<string, DeviceRow>();
  version = 0;
  loaded = false;
  error = '';
  private readonly listeners = new Set<() => void>();
  private dirty = false;
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    live.on('presence', (p) => {
      const d = this.byId.get(p.deviceId);
      if (!d) return void this.reload();
      d.online = p.online;
      d.lastSeen = p.ts;
      if (p.transport) d.transport = p.transport;
      this.touch();
    });
    live.on('state', (s) => {
      const d = this.byId.get(s.deviceId);
      if (!d) return;
      const depth = s.attrs[OUTBOX_ATTR];
      if (typeof depth === 'number') d.outboxDepth = depth;
      this.touch();
    });
    live.on('telemetry', (t) => {
      const d = this.byId.get(t.deviceId);
      const last = t.readings[t.readings.length - 1];
      if (d && last) {
        d.lastSeen = Math.max(d.lastSeen ?? 0, Date.now());
        this.touch();
      }
    });
    setInterval(() => {
      if (!this.dirty) return;
      this.dirty = false;
      this.version++;
      for (const l of this.listeners) l();
    }, 250);
    void this.reload();
  }

  /** Fetches the list again, keeping what was learnt live. */
  async reload(): Promise<void> {
    try {
      const items = await allDevices();
      const seen = new Set<string>();
      for (const item of items) {
        seen.add(item.id);
        const old = this.byId.get(item.id);
        this.byId.set(item.id, { ...item, transport: old?.transport, outboxDepth: old?.outboxDepth });
      }
      for (const id of [...this.byId.keys()]) if (!seen.has(id)) this.byId.delete(id);
      this.loaded = true;
      this.error = '';
    } catch (err) {
      this.error = (err as Error).message;
    }
    this.touch();
  }

  /** Records what a page learnt about a device (from its state or presence history). */
  learn(id: string, info: Partial<DeviceRow>): void {
    const d = this.byId.get(id);
    if (!d) return;
    Object.assign(d, info);
    this.touch();
  }

  private touch(): void {
    this.dirty = true;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export const deviceStore = new DeviceStore();

/** The store, re-rendering the caller when it changes. */
export function useDevices(): DeviceStore {
  const [, setVersion] = useState(0);
  useEffect(() => {
    deviceStore.start();
    return deviceStore.subscribe(() => setVersion(deviceStore.version));
  }, []);
  return deviceStore;
}
