// Retention: history older than the configured number of days is pruned, at
// start and then periodically.
import type { IotContext } from './context.js';

/** Prunes old history on a timer. */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly ctx: IotContext) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.ctx.config.pruneIntervalMs);
    this.timer.unref();
    void this.runOnce();
  }

  /** One pass; concurrent calls share it. Resolves with nothing, logs what went. */
  runOnce(): Promise<void> {
    this.running ??= (async () => {
      try {
        const now = Date.now();
        const cutoff = now - this.ctx.config.retentionDays * 86_400_000;
        const removed = await this.ctx.store.prune(cutoff);
        if (removed) this.ctx.log.info({ removed, cutoff }, 'retention pruned old records');
        // The replay log may be kept shorter than the data: it only serves bridges that were away.
        const streamCutoff = this.ctx.config.streamRetentionMs > 0 ? now - this.ctx.config.streamRetentionMs : cutoff;
        const replayRemoved = await this.ctx.store.stream.prune(Math.max(cutoff, streamCutoff));
        if (replayRemoved) this.ctx.log.info({ removed: replayRemoved, cutoff: streamCutoff }, 'retention pruned the stream replay log');
      } catch (err) {
        this.ctx.log.warn({ err }, 'retention pass failed');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
