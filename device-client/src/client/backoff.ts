// Exponential backoff with jitter for reconnection delays.

/** Backoff settings, with socket.io-client's defaults applied by the Manager. */
export interface BackoffOptions {
  /** First delay, ms. */
  min: number;
  /** Largest delay, ms. */
  max: number;
  /** Growth per attempt. */
  factor?: number;
  /** Randomisation factor in [0, 1]: each delay is moved by up to this fraction. */
  jitter?: number;
  /** Source of randomness in [0, 1), replaceable in tests. */
  random?: () => number;
}

/** Computes the delay before each reconnection attempt. */
export class Backoff {
  /** Attempts made since the last reset. */
  attempts = 0;
  /** First delay, ms; the Manager changes it through reconnectionDelay(). */
  declare min: number;
  /** Largest delay, ms; the Manager changes it through reconnectionDelayMax(). */
  declare max: number;
  /** Randomisation factor, clamped to [0, 1] when used; the Manager changes it through randomizationFactor(). */
  declare jitter: number;
  readonly #factor: number;
  readonly #random: () => number;

  constructor(opts: BackoffOptions) {
    this.min = opts.min;
    this.max = opts.max;
    this.jitter = opts.jitter ?? 0;
    this.#factor = opts.factor ?? 2;
    this.#random = opts.random ?? Math.random;
  }

  /** The next delay, ms; counts an attempt. */
  duration(): number {
    let ms = this.min * Math.pow(this.#factor, this.attempts++);
    const jitter = Number.isFinite(this.jitter) ? Math.min(Math.max(this.jitter, 0), 1) : 0;
    // Spread reconnecting clients uniformly over ms * (1 ± jitter), so that a
    // restarted server is not hit by every device in the same instant.
    if (jitter > 0) ms *= 1 + jitter * (2 * this.#random() - 1);
    return Math.floor(Math.max(0, Math.min(ms, this.max)));
  }

  /** Back to the first delay (after a successful connection). */
  reset(): void {
    this.attempts = 0;
  }
}
