// Posts each alarm change to an operator's URL as JSON, one at a time and in
// order, retrying with a doubling back-off. The queue is bounded: when the
// receiver is down for long, the oldest changes are dropped (and counted)
// rather than growing the hub's memory. The store stays the record; the
// webhook is a notification.
import type { Logger } from 'pino';
import type { IotMetrics } from './metrics.js';

/** How the webhook delivers. */
export interface AlarmWebhookOptions {
  url: string;
  /** Tries per change, the first included. */
  attempts: number;
  /** Longest wait for an answer, ms. */
  timeoutMs: number;
  /** Most changes waiting. */
  queueMax: number;
  /** First back-off, ms (doubled per try, at most 30 s). */
  backoffMs?: number;
}

/** The alarm webhook's sender. */
export class AlarmWebhook {
  private readonly queue: string[] = [];
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: AlarmWebhookOptions,
    private readonly metrics: IotMetrics,
    private readonly log: Logger,
  ) {}

  /** Queues one alarm change (a JSON-able payload). */
  send(payload: Record<string, unknown>): void {
    if (this.stopped) return;
    if (this.queue.length >= this.opts.queueMax) {
      this.queue.shift();
      this.metrics.alarms.inc('webhook|dropped');
    }
    this.queue.push(JSON.stringify(payload));
    if (!this.running) {
      this.running = true;
      this.idle = this.drain();
    }
  }

  /** Stops sending; what is still queued is dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.idle;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const body = this.queue[0]!;
        let delivered = false;
        for (let attempt = 1; attempt <= this.opts.attempts && !this.stopped; attempt++) {
          if (await this.post(body)) {
            delivered = true;
            break;
          }
          if (attempt < this.opts.attempts) {
            this.metrics.alarms.inc('webhook|retried');
            await this.pause(Math.min(30_000, (this.opts.backoffMs ?? 500) * 2 ** (attempt - 1)));
          }
        }
        // A change dropped at the head while we retried is not the one we sent: only shift our own.
        if (this.queue[0] === body) this.queue.shift();
        this.metrics.alarms.inc(delivered ? 'webhook|sent' : 'webhook|dropped');
        if (!delivered && !this.stopped) this.log.warn({ url: this.opts.url }, 'alarm webhook gave up on a change');
      }
    } finally {
      this.running = false;
    }
  }

  private async post(body: string): Promise<boolean> {
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'sitehub-alarms' },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok;
    } catch {
      return false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
