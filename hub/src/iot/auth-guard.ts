// Credential guessing: failed authentications are counted per client address
// and per device id over a window (EMQX's flapping detection is the model).
// Past `throttleAfter` failures a key gets one credential check per
// `throttleIntervalMs`; attempts in between are refused without any check and
// count as failures; past `banAfter` failures the key is banned for `banMs`.
// Refusing before the check is what makes guessing cheap for the hub: no
// hashing, no database lookup.
//
// Rules this module keeps:
// - A stranger must not lock a real device out. The address a device last
//   authenticated from is its "known-good" address: attempts naming that device
//   from that address are limited by their own (address, device) pair instead
//   of by the address and the device id, so neither a guesser elsewhere (device
//   id ban) nor a broken neighbour behind the same NAT (address ban) stops it.
// - Memory is bounded: only failing keys take an entry, and at most
//   `maxTracked` of them (and of known-good addresses) are kept; the least
//   recently failing key is forgotten first.
// - IPv6 addresses are counted by /64 (one host usually owns a whole /64).
// - Checks that wait for the store (device, enrollment and bridge tokens) are
//   in flight for a while: once a key is throttled, it gets one check in
//   flight at a time, so a burst of parallel guesses cannot slip past the
//   throttle before the first failures are recorded. Every admitted attempt
//   is settled by failure(), success() or abandon() with its ticket.
// - A ban ends into a throttled window, not a clean slate.
import { LabelledCounter } from './metrics.js';

/** The settings of the guard (see hub/src/config/schema.ts for the defaults). */
export interface AuthGuardOptions {
  windowMs: number;
  throttleAfter: number;
  throttleIntervalMs: number;
  banAfter: number;
  banMs: number;
  maxTracked: number;
}

/** Which credential an attempt presented, for metrics. */
export type CredentialKind = 'admin' | 'device' | 'enrollment' | 'bridge';

/** Whether an attempt may be checked: `open`, or refused without a check. */
export type Gate = 'open' | 'throttled' | 'banned';

/** Which keys an attempt is counted under. */
type Scope = 'address' | 'device' | 'pair';

/** What the guard keeps per failing key. */
export interface Entry {
  scope: Scope;
  windowStart: number;
  failures: number;
  /** When a credential of this key was last admitted for a check. */
  lastCheck: number;
  bannedUntil: number;
  /** Admitted checks not settled yet. */
  inflight: number;
}

/** An admitted attempt must be settled by failure(), success() or abandon(); a refused one needs nothing. */
export interface Ticket {
  readonly gate: Gate;
  readonly attempt: Attempt;
  /** The keys the attempt is counted under, fixed at admission (the known-good address may change meanwhile). */
  readonly keys: readonly string[];
  /** Entries whose in-flight count this attempt raised. */
  readonly held: Entry[];
}

/** An unsettled check older than this no longer holds a throttled key (a safety net: every path settles). */
const INFLIGHT_GRACE_MS = 10_000;

/** One authentication attempt: who presented what. */
export interface Attempt {
  kind: CredentialKind;
  /** The client address (req.ip, socket.handshake.address). */
  address: string;
  /** The device id the attempt names, if any. */
  deviceId?: string;
}

/** The key an address is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function addressKey(address: string): string {
  let a = address.trim().toLowerCase();
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice(7);
  if (!a.includes(':')) return a;
  const [head = '', tail] = a.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':') + '::/64';
}

/** Failure counts, throttles and bans for every credential the hub checks. */
export class AuthGuard {
  /** Credentials checked and found wrong, by kind. */
  readonly failures = new LabelledCounter();
  /** Attempts refused without a check, by `kind|reason` (reason `throttled` or `banned`). */
  readonly refused = new LabelledCounter();
  /** Bans started, by scope (`address`, `device`, `pair`). */
  readonly bansTotal = new LabelledCounter();
  /** Keys forgotten to keep the tables within maxTracked. */
  evictions = 0;

  /** Failing keys, least recently failing first (a Map keeps insertion order; a failure re-inserts). */
  private readonly entries = new Map<string, Entry>();
  /** device id -> address key it last authenticated from, least recently first. */
  private readonly knownGood = new Map<string, string>();

  constructor(private readonly opts: AuthGuardOptions) {}

  /** How long a ban lasts, ms. */
  get banMs(): number {
    return this.opts.banMs;
  }

  /** Least time between two checks of a throttled key, ms. */
  get throttleIntervalMs(): number {
    return this.opts.throttleIntervalMs;
  }

  /** Whether `attempt` may be checked now (ticket.gate); a refusal is counted (and counts as a failure while throttled). */
  admit(attempt: Attempt, now = Date.now()): Ticket {
    const keys = this.keysOf(attempt);
    const gate = this.gateOf(keys, now);
    if (gate === 'open') {
      const held: Entry[] = [];
      for (const key of keys) {
        const entry = this.entries.get(key);
        if (!entry) continue;
        entry.lastCheck = now;
        entry.inflight++;
        held.push(entry);
      }
      return { gate, attempt, keys, held };
    }
    this.refused.inc(`${attempt.kind}|${gate}`);
    // Ignoring the throttle is itself a failed attempt: it leads to the ban. A ban is not extended by more attempts.
    if (gate === 'throttled') for (const key of keys) this.count(key, now);
    return { gate, attempt, keys, held: [] };
  }

  /** Whether `attempt` is banned now, counted as a refusal if so; nothing else changes (for refusing before any work). */
  refuseIfBanned(attempt: Attempt, now = Date.now()): boolean {
    for (const key of this.keysOf(attempt)) {
      const entry = this.live(key, now);
      if (entry && entry.bannedUntil > now) {
        this.refused.inc(`${attempt.kind}|banned`);
        return true;
      }
    }
    return false;
  }

  /** Settles an admitted attempt whose credential was wrong. */
  failure(ticket: Ticket, now = Date.now()): void {
    this.settle(ticket);
    this.failures.inc(ticket.attempt.kind);
    for (const key of ticket.keys) this.count(key, now);
  }

  /** Settles an admitted attempt whose check could not finish (the store failed): nothing is counted. */
  abandon(ticket: Ticket): void {
    this.settle(ticket);
  }

  /** Settles an admitted attempt whose credential was right: a device's known-good address becomes this one. */
  success(ticket: Ticket): void {
    this.settle(ticket);
    const { deviceId } = ticket.attempt;
    if (deviceId === undefined) return;
    const address = addressKey(ticket.attempt.address);
    this.entries.delete(`p:${address}|${deviceId}`);
    this.knownGood.delete(deviceId);
    this.knownGood.set(deviceId, address);
    if (this.knownGood.size > this.opts.maxTracked) {
      this.knownGood.delete(this.knownGood.keys().next().value as string);
      this.evictions++;
    }
  }

  /** Bans in force now, by scope. */
  activeBans(now = Date.now()): Map<string, number> {
    const out = new Map<string, number>([
      ['address', 0],
      ['device', 0],
      ['pair', 0],
    ]);
    for (const entry of this.entries.values()) if (entry.bannedUntil > now) out.set(entry.scope, out.get(entry.scope)! + 1);
    return out;
  }

  /** Keys tracked now (failing keys and known-good addresses). */
  get tracked(): number {
    return this.entries.size + this.knownGood.size;
  }

  private gateOf(keys: readonly string[], now: number): Gate {
    let gate: Gate = 'open';
    for (const key of keys) {
      const entry = this.live(key, now);
      if (!entry) continue;
      if (entry.bannedUntil > now) return 'banned';
      if (entry.failures < this.opts.throttleAfter) continue;
      const sinceCheck = now - entry.lastCheck;
      if (sinceCheck < this.opts.throttleIntervalMs || (entry.inflight > 0 && sinceCheck < INFLIGHT_GRACE_MS)) gate = 'throttled';
    }
    return gate;
  }

  private settle(ticket: Ticket): void {
    for (const entry of ticket.held) if (entry.inflight > 0) entry.inflight--;
    ticket.held.length = 0;
  }

  private keysOf({ address, deviceId }: Attempt): string[] {
    const a = addressKey(address);
    if (deviceId === undefined) return [`a:${a}`];
    if (this.knownGood.get(deviceId) === a) return [`p:${a}|${deviceId}`];
    return [`a:${a}`, `d:${deviceId}`];
  }

  /** The entry of `key` with its window rolled over if it ended; undefined if the key has none. */
  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.bannedUntil <= now && now - entry.windowStart >= this.opts.windowMs) {
      entry.windowStart = now;
      entry.failures = 0;
      entry.bannedUntil = 0;
    }
    return entry;
  }

  private count(key: string, now: number): void {
    let entry = this.live(key, now);
    if (entry) this.entries.delete(key);
    else {
      if (this.entries.size >= this.opts.maxTracked) this.evictOne(now);
      entry = { scope: key[0] === 'a' ? 'address' : key[0] === 'd' ? 'device' : 'pair', windowStart: now, failures: 0, lastCheck: 0, bannedUntil: 0, inflight: 0 };
    }
    this.entries.set(key, entry);
    if (entry.bannedUntil > now) return;
    entry.failures++;
    if (entry.failures >= this.opts.banAfter) {
      entry.bannedUntil = now + this.opts.banMs;
      // The ban ends into a throttled window: a returning guesser gets one check a second, not a fresh burst.
      entry.failures = this.opts.throttleAfter;
      entry.windowStart = entry.bannedUntil;
      this.bansTotal.inc(entry.scope);
    }
  }

  /** Forgets the least recently failing key, preferring one that is not banned among the oldest few. */
  private evictOne(now: number): void {
    let victim: string | undefined;
    let looked = 0;
    for (const [key, entry] of this.entries) {
      victim ??= key;
      if (entry.bannedUntil <= now) {
        victim = key;
        break;
      }
      if (++looked >= 16) break;
    }
    if (victim !== undefined) {
      this.entries.delete(victim);
      this.evictions++;
    }
  }
}

/** The connect_error a throttled or banned namespace CONNECT gets: it says to wait, not which part was wrong. */
export function tooManyFailuresError(): Error & { data: { code: string } } {
  return Object.assign(new Error('too many failed authentications, retry later'), { data: { code: 'too_many_failures' } });
}
