// The failure tracker on its own: windows, throttle, ban and its end, the
// known-good exemption, IPv6 by /64, and memory that stays bounded whatever
// number of addresses and device ids an attacker uses.
import { describe, expect, it } from 'vitest';
import { addressKey, AuthGuard, type Attempt } from '../../hub/src/iot/auth-guard.js';

const OPTS = { windowMs: 60_000, throttleAfter: 3, throttleIntervalMs: 1000, banAfter: 6, banMs: 300_000, maxTracked: 100 };

function fail(guard: AuthGuard, attempt: Attempt, now: number): string {
  const ticket = guard.admit(attempt, now);
  if (ticket.gate === 'open') guard.failure(ticket, now);
  return ticket.gate;
}

function succeed(guard: AuthGuard, attempt: Attempt, now = 0): void {
  const ticket = guard.admit(attempt, now);
  expect(ticket.gate).toBe('open');
  guard.success(ticket);
}

/** The gate an attempt meets now, settled at once (a check that ends in the same tick). */
function gate(guard: AuthGuard, attempt: Attempt, now: number): string {
  const ticket = guard.admit(attempt, now);
  if (ticket.gate === 'open') guard.abandon(ticket);
  return ticket.gate;
}

describe('auth guard', () => {
  it('throttles after throttleAfter failures, bans after banAfter, and lets the key in again when the ban ends', () => {
    const guard = new AuthGuard(OPTS);
    const a: Attempt = { kind: 'admin', address: '10.0.0.1' };
    const gates = Array.from({ length: 8 }, () => fail(guard, a, 1000));
    expect(gates).toEqual(['open', 'open', 'open', 'throttled', 'throttled', 'throttled', 'banned', 'banned']);
    expect(guard.bansTotal.get('address')).toBe(1);
    expect(guard.activeBans(1000).get('address')).toBe(1);
    expect(gate(guard, { kind: 'admin', address: '10.0.0.2' }, 1000)).toBe('open');
    expect(gate(guard, a, 1000 + OPTS.banMs - 1)).toBe('banned');
    expect(gate(guard, a, 1000 + OPTS.banMs)).toBe('open');
    expect(guard.activeBans(1000 + OPTS.banMs).get('address')).toBe(0);
  });

  it('allows one check per throttleIntervalMs while throttled, and forgets failures after the window', () => {
    const guard = new AuthGuard({ ...OPTS, banAfter: 100 });
    const a: Attempt = { kind: 'device', address: '10.0.0.1' };
    for (let i = 0; i < 3; i++) fail(guard, a, 0);
    expect(gate(guard, a, 500)).toBe('throttled');
    expect(gate(guard, a, 1000)).toBe('open');
    expect(gate(guard, a, 1500)).toBe('throttled');
    expect(gate(guard, a, 61_000)).toBe('open');
    expect(gate(guard, a, 61_001)).toBe('open');
  });

  it('holds a throttled key to one check in flight, so parallel guesses cannot slip past before failures are counted', () => {
    const guard = new AuthGuard({ ...OPTS, banAfter: 100 });
    const a: Attempt = { kind: 'enrollment', address: '10.0.0.1' };
    for (let i = 0; i < 3; i++) fail(guard, a, 0);
    const slow = guard.admit(a, 2000); // e.g. waiting for the store
    expect(slow.gate).toBe('open');
    expect(gate(guard, a, 3500)).toBe('throttled');
    guard.failure(slow, 3600);
    expect(gate(guard, a, 3600)).toBe('open');
    // A check never settled (a bug) stops holding the key after a grace period.
    const lost = guard.admit(a, 5000);
    expect(lost.gate).toBe('open');
    expect(gate(guard, a, 14_000)).toBe('throttled');
    expect(gate(guard, a, 15_001)).toBe('open');
  });

  it('ends a ban into a throttled window', () => {
    const guard = new AuthGuard(OPTS);
    const a: Attempt = { kind: 'admin', address: '10.0.0.1' };
    for (let i = 0; i < 8; i++) fail(guard, a, 0);
    expect(gate(guard, a, OPTS.banMs)).toBe('open');
    expect(fail(guard, a, OPTS.banMs + 1)).toBe('throttled');
    expect(gate(guard, a, OPTS.banMs + OPTS.windowMs + 1)).toBe('open');
    expect(gate(guard, a, OPTS.banMs + OPTS.windowMs + 2)).toBe('open');
  });

  it('keeps a device reachable from its known-good address while its id is banned elsewhere', () => {
    const guard = new AuthGuard(OPTS);
    succeed(guard, { kind: 'device', address: '10.0.0.5', deviceId: 'd1' });
    for (let i = 0; i < 10; i++) fail(guard, { kind: 'device', address: '10.0.0.66', deviceId: 'd1' }, 0);
    expect(gate(guard, { kind: 'device', address: '10.0.0.77', deviceId: 'd1' }, 1)).toBe('banned');
    expect(gate(guard, { kind: 'device', address: '10.0.0.5', deviceId: 'd1' }, 1)).toBe('open');
    // A broken neighbour behind the same address bans that address, not its known-good devices.
    for (let i = 0; i < 10; i++) fail(guard, { kind: 'device', address: '10.0.0.5', deviceId: 'stale' }, 2);
    expect(gate(guard, { kind: 'device', address: '10.0.0.5', deviceId: 'other' }, 3)).toBe('banned');
    expect(gate(guard, { kind: 'device', address: '10.0.0.5', deviceId: 'd1' }, 3)).toBe('open');
  });

  it('counts IPv6 clients by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8::1%eth0')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
    const guard = new AuthGuard(OPTS);
    for (let i = 0; i < 10; i++) fail(guard, { kind: 'admin', address: `2001:db8:1:2::${i.toString(16)}` }, 0);
    expect(gate(guard, { kind: 'admin', address: '2001:db8:1:2:dead:beef::1' }, 1)).toBe('banned');
    expect(gate(guard, { kind: 'admin', address: '2001:db8:1:3::1' }, 1)).toBe('open');
  });

  it('stays within maxTracked entries whatever the number of addresses and device ids', () => {
    const guard = new AuthGuard(OPTS);
    for (let i = 0; i < 100_000; i++) {
      fail(guard, { kind: 'device', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, deviceId: `id-${i}` }, i);
      if (i % 1000 === 0) succeed(guard, { kind: 'device', address: '10.9.9.9', deviceId: `good-${i}` }, i);
    }
    expect(guard.tracked).toBeLessThanOrEqual(2 * OPTS.maxTracked);
    expect(guard.evictions).toBeGreaterThan(100_000);
    // The most recent attacker is still remembered.
    for (let i = 0; i < 10; i++) fail(guard, { kind: 'admin', address: '10.1.134.159' }, 100_000);
    expect(gate(guard, { kind: 'admin', address: '10.1.134.159' }, 100_001)).toBe('banned');
  });
});
