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

/** What LifecycleTimers needs of each timer besides the public part. */
interface ManagedTimer extends LifecycleTimer {
  pause(): void;
  resume(): void;
}

/**
 * Starts one timer. Without `loop` it is a countdown (setTimeout, or
 * setInterval when `repeat`) that keeps its remaining time over a pause; with
 * `loop` the next run starts when the previous one has settled (setLoop).
 * Closures rather than a class hierarchy: the browser bundle pays per name.
 */
function startTimer(
  timers: Set<ManagedTimer>,
  fn: TimerCallback,
  paused: boolean,
  ms: number,
  repeat: boolean,
  loop?: LoopOptions,
): ManagedTimer {
  const controller = new AbortController();
  let handle: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  // Countdown: time left, and when the current wait began.
  let remaining = ms;
  let startedAt = 0;
  // Loop: whether a run has not settled yet, and when the last one began.
  let running = false;
  let lastStart = 0;

  const stop = (): void => {
    clearTimeout(handle);
    handle = undefined;
  };
  /** Ends the timer without aborting its signal (a timeout that fired). */
  const finish = (): void => {
    done = true;
    stop();
    timers.delete(timer);
  };
  const schedule = (): void => {
    if (loop) {
      const wait = Math.max(0, lastStart + Math.max(0, loop.minInterval ?? 0) - Date.now());
      // Always through the timer queue, so a synchronous fn cannot starve I/O.
      handle = setTimeout(run, wait);
    } else {
      startedAt = Date.now();
      handle = setTimeout(fire, remaining);
    }
  };
  const fire = (): void => {
    handle = undefined;
    if (repeat) {
      remaining = ms;
      schedule();
    } else {
      finish();
    }
    fn(controller.signal);
  };
  const report = (err: unknown): void => {
    if (loop!.onError) loop!.onError(err);
    else
      setTimeout(() => {
        throw err;
      }, 0);
  };
  const settled = (): void => {
    running = false;
    if (!done && !paused) schedule();
  };
  const run = (): void => {
    handle = undefined;
    if (done || paused) return;
    running = true;
    lastStart = Date.now();
    let result: unknown;
    try {
      result = fn(controller.signal);
    } catch (err) {
      report(err);
    }
    Promise.resolve(result).then(settled, (err: unknown) => {
      report(err);
      settled();
    });
  };

  const timer: ManagedTimer = {
    get active() {
      return !done;
    },
    clear() {
      if (done) return;
      controller.abort();
      finish();
    },
    pause() {
      if (paused || done) return;
      paused = true;
      stop();
      if (!loop) remaining = Math.max(0, remaining - (Date.now() - startedAt));
    },
    resume() {
      if (!paused || done) return;
      paused = false;
      if (!running) schedule();
    },
  };
  if (!paused) schedule();
  return timer;
}

const INERT: LifecycleTimer = Object.freeze({ clear() {}, active: false });

/** The lifecycle timers of one socket. */
export class LifecycleTimers {
  readonly #timers = new Set<ManagedTimer>();
  #connected = false;

  readonly #opts: TimerOptions;
  /** False once the socket is closed for good: new timers are born ended. */
  readonly #alive: () => boolean;

  constructor(opts: TimerOptions, alive: () => boolean) {
    this.#opts = opts;
    this.#alive = alive;
  }

  setTimeout(fn: TimerCallback, ms: number): LifecycleTimer {
    return this.#add(fn, toDelay(ms), false);
  }

  setInterval(fn: TimerCallback, ms: number): LifecycleTimer {
    return this.#add(fn, Math.max(1, toDelay(ms)), true);
  }

  setLoop(fn: TimerCallback, opts: LoopOptions = {}): LifecycleTimer {
    return this.#add(fn, 0, false, opts);
  }

  /** The socket connected: paused timers go on. */
  connected(): void {
    this.#connected = true;
    for (const timer of [...this.#timers]) timer.resume();
  }

  /** The socket lost its connection: timers pause when so configured. */
  disconnected(): void {
    this.#connected = false;
    if (!this.#opts.pauseWhileDisconnected) return;
    for (const timer of [...this.#timers]) timer.pause();
  }

  /** The socket is closed for good: every timer ends. */
  clearAll(): void {
    for (const timer of [...this.#timers]) timer.clear();
  }

  #add(fn: TimerCallback, ms: number, repeat: boolean, loop?: LoopOptions): LifecycleTimer {
    if (!this.#alive()) return INERT;
    const paused = !!this.#opts.pauseWhileDisconnected && !this.#connected;
    const timer = startTimer(this.#timers, fn, paused, ms, repeat, loop);
    this.#timers.add(timer);
    return timer;
  }
}

function toDelay(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
