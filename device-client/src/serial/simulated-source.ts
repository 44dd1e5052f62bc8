// Synthetic sensors for `--simulate`: a temperature, humidity and pressure
// walk per sensor, so the whole path can be tried without hardware.
import { EventEmitter } from 'node:events';
import type { SimulateConfig } from '../config.js';
import type { ReadingValue } from '../outbox.js';
import type { SourceInfo } from './port-source.js';

/** Emits `reading` (values, ts) per synthetic sensor each tick; `batch` when generating flat out. */
export class SimulatedSource extends EventEmitter {
  private timer: NodeJS.Timeout | null = null;
  private readings = 0;
  private tick = 0;
  private running = false;
  intervalMs: number;

  constructor(private readonly config: SimulateConfig) {
    super();
    this.intervalMs = config.intervalMs;
  }

  /** Starts ticking. */
  start(): void {
    this.running = true;
    this.schedule();
  }

  /** Stops ticking. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Like a serial source's info, for the state report. */
  info(): SourceInfo {
    return { name: 'simulated', path: null, status: this.running ? 'open' : 'closed', readings: this.readings, dropped: 0, reopens: 0, lastError: null, lastDataAt: null };
  }

  /** The readings of one tick. */
  sample(): Array<Record<string, ReadingValue>> {
    const t = this.tick++;
    const out: Array<Record<string, ReadingValue>> = [];
    for (let s = 0; s < this.config.sensors; s++) {
      out.push({
        sensor: s,
        temp: Math.round((20 + 3 * Math.sin((t + s * 7) / 50)) * 100) / 100,
        rh: Math.round((45 + 10 * Math.cos((t + s * 3) / 80)) * 10) / 10,
        pressure: Math.round((1013 + Math.sin(t / 500)) * 10) / 10,
      });
    }
    return out;
  }

  private schedule(): void {
    if (!this.running) return;
    // Flat out still yields to the event loop each tick so sends and acks get through.
    this.timer = setTimeout(() => {
      const now = Date.now();
      const samples = this.sample();
      this.readings += samples.length;
      this.emit('readings', samples, now);
      this.schedule();
    }, this.intervalMs);
  }
}
