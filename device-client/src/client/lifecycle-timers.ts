// Timers bound to a socket's life. Periodic work (sampling a sensor, a status
// report) is started next to the socket it feeds; these timers end with the
// socket, so no sampling keeps running after its connection is gone for good.

/** How lifecycle timers behave while the socket is disconnected. */
export interface TimerOptions {
  /**
   * Pause while the socket is not connected (reconnecting, or not yet
   * connected) and resume on the next 'connect'. A paused timeout keeps its
   * remaining time; a paused interval resumes where its period stood; a
   * paused loop lets a run in progress finish and starts no new one.
   * Default false: timers run through reconnections.
   */
  pauseWhileDisconnected?: boolean;
}

/** Options of `socket.setLoop`. */
export interface LoopOptions {
  /** Minimum time between the starts of two runs, ms. Default 0. */
  minInterval?: number;
  /**
   * Receives what a run threw or rejected with; the loop goes on. Without it
   * the error is rethrown outside the loop (like an error in a native timer
   * callback) and the loop still goes on.
   */
  onError?: (err: unknown) => void;
}

/** A running lifecycle timer. */
export interface LifecycleTimer {
  /** Stops the timer; a loop run in progress sees its signal aborted. */
  clear(): void;
  /** False once cleared, fired (timeouts), or ended with the socket. */
  readonly active: boolean;
}

/** What every timer callback receives: aborted when the timer ends. */
export type TimerCallback = (signal: AbortSignal) => unknown;

abstract class ManagedTimer implements LifecycleTimer {
  readonly #controller = new AbortController();
  #done = false;
  protected paused: boolean;
  protected handle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    protected readonly owner: LifecycleTimers,
    protected readonly fn: TimerCallback,
    paused: boolean,
  ) {
    this.paused = paused;
  }

  get active(): boolean {
    return !this.#done;
  }

  protected get signal(): AbortSignal {
    return this.#controller.signal;
  }

  clear(): void {
    if (this.#done) return;
    this.#controller.abort();
    this.finish();
  }

  /** Ends the timer without aborting its signal (a timeout that fired). */
  protected finish(): void {
    this.#done = true;
    clearTimeout(this.handle);
    this.handle = undefined;
    this.owner.forget(this);
  }

  pause(): void {
    if (this.paused || !this.active) return;
    this.paused = true;
    this.onPause();
  }

  resume(): void {
    if (!this.paused || !this.active) return;
    this.paused = false;
    this.onResume();
  }

  protected abstract onPause(): void;
  protected abstract onResume(): void;
}

/** setTimeout and setInterval: a countdown that can stop and go on. */
class CountdownTimer extends ManagedTimer {
  #remaining: number;
  #startedAt = 0;

  constructor(
    owner: LifecycleTimers,
    fn: TimerCallback,
    paused: boolean,
    private readonly ms: number,
    private readonly repeat: boolean,
  ) {
    super(owner, fn, paused);
    this.#remaining = ms;
    if (!paused) this.#schedule();
  }

  #schedule(): void {
    this.#startedAt = Date.now();
    this.handle = setTimeout(() => this.#fire(), this.#remaining);
  }

  #fire(): void {
    this.handle = undefined;
    if (this.repeat) {
      this.#remaining = this.ms;
      this.#schedule();
    } else {
      this.finish();
    }
    this.fn(this.signal);
  }

  protected onPause(): void {
    clearTimeout(this.handle);
    this.handle = undefined;
    this.#remaining = Math.max(0, this.#remaining - (Date.now() - this.#startedAt));
  }

  protected onResume(): void {
    this.#schedule();
  }
}

/** setLoop: the next run starts when the previous one has settled. */
class LoopTimer extends ManagedTimer {
  #running = false;
  #lastStart = 0;

  constructor(
    owner: LifecycleTimers,
    fn: TimerCallback,
    paused: boolean,
    private readonly opts: LoopOptions,
  ) {
    super(owner, fn, paused);
    if (!paused) this.#scheduleNext();
  }

  #scheduleNext(): void {
    const spacing = Math.max(0, this.opts.minInterval ?? 0);
    const wait = Math.max(0, this.#lastStart + spacing - Date.now());
    // Always through the timer queue, so a synchronous fn cannot starve I/O.
    this.handle = setTimeout(() => this.#run(), wait);
  }

  #run(): void {
    this.handle = undefined;
    if (!this.active || this.paused) return;
    this.#running = true;
    this.#lastStart = Date.now();
    let result: unknown;
    try {
      result = this.fn(this.signal);
    } catch (err) {
      this.#report(err);
    }
    Promise.resolve(result).then(
      () => this.#settled(),
      (err: unknown) => {
        this.#report(err);
        this.#settled();
      },
    );
  }

  #settled(): void {
    this.#running = false;
    if (this.active && !this.paused) this.#scheduleNext();
  }

  #report(err: unknown): void {
    if (this.opts.onError) this.opts.onError(err);
    else
      setTimeout(() => {
        throw err;
      }, 0);
  }

  protected onPause(): void {
    clearTimeout(this.handle);
    this.handle = undefined;
  }

  protected onResume(): void {
    if (!this.#running) this.#scheduleNext();
  }
}

const INERT: LifecycleTimer = Object.freeze({ clear() {}, active: false });

/** The lifecycle timers of one socket. */
export class LifecycleTimers {
  readonly #timers = new Set<ManagedTimer>();
  #connected = false;

  constructor(
    private readonly opts: TimerOptions,
    /** False once the socket is closed for good: new timers are born ended. */
    private readonly alive: () => boolean,
  ) {}

  setTimeout(fn: TimerCallback, ms: number): LifecycleTimer {
    return this.#add((paused) => new CountdownTimer(this, fn, paused, toDelay(ms), false));
  }

  setInterval(fn: TimerCallback, ms: number): LifecycleTimer {
    return this.#add((paused) => new CountdownTimer(this, fn, paused, Math.max(1, toDelay(ms)), true));
  }

  setLoop(fn: TimerCallback, opts: LoopOptions = {}): LifecycleTimer {
    return this.#add((paused) => new LoopTimer(this, fn, paused, opts));
  }

  /** The socket connected: paused timers go on. */
  connected(): void {
    this.#connected = true;
    for (const timer of [...this.#timers]) timer.resume();
  }

  /** The socket lost its connection: timers pause when so configured. */
  disconnected(): void {
    this.#connected = false;
    if (!this.opts.pauseWhileDisconnected) return;
    for (const timer of [...this.#timers]) timer.pause();
  }

  /** The socket is closed for good: every timer ends. */
  clearAll(): void {
    for (const timer of [...this.#timers]) timer.clear();
  }

  /** @internal */
  forget(timer: ManagedTimer): void {
    this.#timers.delete(timer);
  }

  #add(create: (paused: boolean) => ManagedTimer): LifecycleTimer {
    if (!this.alive()) return INERT;
    const timer = create(!!this.opts.pauseWhileDisconnected && !this.#connected);
    this.#timers.add(timer);
    return timer;
  }
}

function toDelay(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
