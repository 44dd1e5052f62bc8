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
  #min: number;
  #max: number;
  readonly #factor: number;
  #jitter: number;
  readonly #random: () => number;

  constructor(opts: BackoffOptions) {
    this.#min = opts.min;
    this.#max = opts.max;
    this.#factor = opts.factor ?? 2;
    this.#jitter = clampJitter(opts.jitter ?? 0);
    this.#random = opts.random ?? Math.random;
  }

  /** The next delay in ms; counts one attempt. */
  duration(): number {
    let ms = this.#min * Math.pow(this.#factor, this.attempts++);
    if (this.#jitter > 0) {
      // Spread reconnecting clients uniformly over ms * (1 ± jitter), so that a
      // restarted server is not hit by every device in the same instant.
      ms = ms * (1 + this.#jitter * (2 * this.#random() - 1));
    }
    return Math.floor(Math.max(0, Math.min(ms, this.#max)));
  }

  /** Starts again from the first delay. */
  reset(): void {
    this.attempts = 0;
  }

  setMin(min: number): void {
    this.#min = min;
  }

  setMax(max: number): void {
    this.#max = max;
  }

  setJitter(jitter: number): void {
    this.#jitter = clampJitter(jitter);
  }
}

function clampJitter(jitter: number): number {
  return Number.isFinite(jitter) ? Math.min(Math.max(jitter, 0), 1) : 0;
}
