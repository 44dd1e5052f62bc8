// Admission of new Engine.IO sessions: a cap on open sessions, a cap per
// client address, and a token bucket of handshakes per address. A handshake
// that passes holds a Reservation until its session closes (or the handshake
// fails), so sessions still being set up count too and a burst of concurrent
// handshakes cannot slip past the caps.

/** Why a handshake was refused; also the label of the refusal metric. */
export type AdmissionRefusal = 'max_sessions' | 'max_sessions_per_address' | 'handshake_rate';

/** The admission limits; 0 or Infinity means no limit. */
export interface AdmissionLimits {
  /** Most open sessions. */
  maxSessions: number;
  /** Most open sessions from one client address. */
  maxSessionsPerAddress: number;
  /** Handshakes per second one address may sustain (the bucket's refill rate). */
  handshakeRatePerAddress: number;
  /** Handshakes one address may make in a burst (the bucket's size). */
  handshakeBurstPerAddress: number;
}

/** A place taken by one admitted handshake; release() it exactly when its session ends or never starts. */
export interface Reservation {
  release(): void;
}

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
}

/** What admit() hands out when no limit is set: nothing to release. */
export const NO_RESERVATION: Reservation = { release() {} };

/** Buckets are swept at most this often; a full bucket is the same as no bucket. */
const SWEEP_INTERVAL_MS = 10_000;
/** Most buckets kept between sweeps (an address spray); past it the oldest is dropped, which only gives it a fresh burst. */
const MAX_BUCKETS = 100_000;

function limited(n: number): boolean {
  return Number.isFinite(n) && n > 0;
}

/** Counts sessions and handshake tokens per address; one per EngineServer. */
export class SessionAdmission {
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = performance.now();
  private readonly active: boolean;

  constructor(private readonly limits: AdmissionLimits) {
    this.active = limited(limits.maxSessions) || limited(limits.maxSessionsPerAddress) || limited(limits.handshakeRatePerAddress);
  }

  /** Sessions admitted and not yet released. */
  get admitted(): number {
    return this.total;
  }

  /** Admits one handshake from `address`, or says which limit refused it. */
  admit(address: string): Reservation | AdmissionRefusal {
    if (!this.active) return NO_RESERVATION;
    const { maxSessions, maxSessionsPerAddress } = this.limits;
    // The rate is checked first: a refused handshake still spends a token, so
    // hammering a full server does not earn an address a burst for later.
    if (!this.takeToken(address)) return 'handshake_rate';
    if (limited(maxSessions) && this.total >= maxSessions) return 'max_sessions';
    const mine = this.perAddress.get(address) ?? 0;
    if (limited(maxSessionsPerAddress) && mine >= maxSessionsPerAddress) return 'max_sessions_per_address';
    this.total++;
    this.perAddress.set(address, mine + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left <= 0) this.perAddress.delete(address);
        else this.perAddress.set(address, left);
      },
    };
  }

  private takeToken(address: string): boolean {
    const rate = this.limits.handshakeRatePerAddress;
    if (!limited(rate)) return true;
    const burst = Math.max(1, this.limits.handshakeBurstPerAddress || 1);
    const now = performance.now();
    this.sweep(now, rate, burst);
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = { tokens: burst, at: now };
      this.buckets.set(address, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets buckets that have refilled: memory follows recent handshakers, not every address ever seen. */
  private sweep(now: number, rate: number, burst: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    const fullAfterMs = (burst * 1000) / rate;
    for (const [address, bucket] of this.buckets) {
      if (now - bucket.at >= fullAfterMs) this.buckets.delete(address);
    }
  }
}
