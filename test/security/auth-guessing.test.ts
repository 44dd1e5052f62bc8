// BAD-INPUTS edge row "credential guessing": 10,000 wrong device tokens,
// admin tokens, enrollment keys and bridge tokens from one address are
// throttled, then banned (address and device id), cheaply (only a handful are
// ever checked); the right credential from another loopback address still
// works, a well-behaved device keeps working, and /metrics counts it all.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, readings, registerDevice, startHub, ADMIN_TOKEN, type TestHub } from '../iot/helpers.js';
import { closeSockets, destroyAgents, metric, outcome, RawGuesser, requestFrom, socketFrom } from './helpers.js';

const GUESSES = 10_000;

afterEach(async () => {
  closeSockets();
  destroyAgents();
  await closeAll();
});

async function metrics(t: TestHub): Promise<string> {
  return (await fetch(t.base + '/metrics')).text();
}

/** Tallies the answers of `n` guesses, `lanes` of them in flight at a time. */
async function guessMany(n: number, guess: (i: number) => Promise<string | number>, lanes = 1): Promise<Map<string | number, number>> {
  const tally = new Map<string | number, number>();
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const answer = await guess(next++);
      tally.set(answer, (tally.get(answer) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return tally;
}

/** Seqs of the well-behaved devices' readings, never reused (a reconnected device goes on where it was). */
let seq = 1;

/** A device connected from 127.0.0.2 that streams acked telemetry; `check()` sends one more batch and expects its ack. */
async function wellBehavedDevice(t: TestHub, deviceId: string, token: string) {
  const socket = socketFrom('127.0.0.2', `${t.base}/devices/thermo`, { deviceId, token });
  expect(await outcome(socket)).toBe('connected');
  return {
    socket,
    async check() {
      expect(await socket.timeout(5000).emitWithAck('telemetry', readings(seq, 5))).toMatchObject({ ok: true, stored: 5 });
      seq += 5;
    },
  };
}

describe('credential guessing', () => {
  it('device tokens: throttled then banned for the address and the device id; the device from its own address and other devices still connect', async () => {
    const t = await startHub();
    const victim = await registerDevice(t.api, { deviceId: 'dev-1' });
    const other = await registerDevice(t.api, { deviceId: 'dev-2' });
    const device = await wellBehavedDevice(t, victim.deviceId, victim.token);
    await device.check();

    const attacker = new RawGuesser(t.hub.port, '127.0.0.11');
    const tally = await guessMany(GUESSES, (i) => attacker.guess('/devices/thermo', { deviceId: 'dev-1', token: `guess-${i}` }));
    expect(tally.get('connected')).toBeUndefined();
    // Only the first ten (authThrottleAfter) and about one a second after them were checked at all (one per second once throttled); every other one cost the hub no lookup.
    expect(tally.get('invalid_credentials')).toBeGreaterThanOrEqual(10);
    expect(tally.get('invalid_credentials')).toBeLessThan(50);
    expect(tally.get('too_many_failures')).toBe(GUESSES - tally.get('invalid_credentials')!);
    // Refusals say to wait, not which part was wrong: the right token from the banned address gets the same answer.
    expect(await attacker.guess('/devices/thermo', { deviceId: 'dev-1', token: victim.token })).toBe('too_many_failures');
    expect(await attacker.guess('/devices/thermo', { deviceId: 'dev-2', token: other.token })).toBe('too_many_failures');
    attacker.close();

    // The real device was never disturbed, and reconnects from its known address despite the device id ban.
    await device.check();
    device.socket.disconnect();
    const again = await wellBehavedDevice(t, victim.deviceId, victim.token);
    await again.check();
    // From an address it never used, the banned device id is refused even with the right token (docs/security.md says why).
    expect(await outcome(socketFrom('127.0.0.3', `${t.base}/devices/thermo`, { deviceId: 'dev-1', token: victim.token }))).toBe('too_many_failures');
    // Another device from that address is not affected.
    expect(await outcome(socketFrom('127.0.0.3', `${t.base}/devices/thermo`, { deviceId: 'dev-2', token: other.token }))).toBe('connected');

    const m = await metrics(t);
    expect(metric(m, 'sitehub_auth_failures_total{kind="device"}')).toBe(tally.get('invalid_credentials'));
    expect(metric(m, 'sitehub_auth_throttled_total{kind="device",reason="throttled"}')).toBeGreaterThanOrEqual(1);
    expect(metric(m, 'sitehub_auth_throttled_total{kind="device",reason="banned"}')).toBeGreaterThan(GUESSES - 100);
    expect(metric(m, 'sitehub_auth_bans_total{scope="address"}')).toBe(1);
    expect(metric(m, 'sitehub_auth_bans_total{scope="device"}')).toBe(1);
    expect(metric(m, 'sitehub_auth_bans_active{scope="address"}')).toBe(1);
    expect(metric(m, 'sitehub_auth_bans_active{scope="device"}')).toBe(1);
    expect(metric(m, 'sitehub_refused_connections_total{namespace="device",code="banned"}')).toBeGreaterThan(GUESSES - 100);
    expect((await fetch(t.base + '/healthz')).status).toBe(200);
  });

  it('admin tokens on REST, POST /auth/session and /console: throttled (429) then banned; the right token from another address still works', async () => {
    const t = await startHub();
    const { deviceId, token } = await registerDevice(t.api);
    const device = await wellBehavedDevice(t, deviceId, token);

    const attacker = new RawGuesser(t.hub.port, '127.0.0.12');
    const wrong = (i: number) => `wrong-admin-token-${i}`;
    const rest = await guessMany(4000, async (i) => (await requestFrom('127.0.0.12', t.base, 'GET', '/api/devices', { authorization: `Bearer ${wrong(i)}` })).status, 8);
    const signIn = await guessMany(3000, async (i) => (await requestFrom('127.0.0.12', t.base, 'POST', '/auth/session', {}, { token: wrong(i) })).status, 8);
    const socket = await guessMany(3000, (i) => attacker.guess('/console', { token: wrong(i) }));
    attacker.close();
    expect(rest.get(200)).toBeUndefined();
    expect(rest.get(401)).toBeGreaterThanOrEqual(10);
    expect(rest.get(401)).toBeLessThan(50);
    expect(rest.get(429)).toBe(4000 - rest.get(401)!);
    expect(signIn.get(429)).toBe(3000);
    expect(socket.get('too_many_failures')).toBe(3000);
    // Banned: even the right token from this address.
    expect((await requestFrom('127.0.0.12', t.base, 'GET', '/api/devices', { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(429);

    // From another address the right token works everywhere (lower-case scheme too).
    expect((await requestFrom('127.0.0.2', t.base, 'GET', '/api/devices', { authorization: `bearer ${ADMIN_TOKEN}` })).status).toBe(200);
    expect((await requestFrom('127.0.0.2', t.base, 'POST', '/auth/session', {}, { token: ADMIN_TOKEN })).status).toBe(200);
    expect(await outcome(socketFrom('127.0.0.2', `${t.base}/console`, { token: ADMIN_TOKEN }))).toBe('connected');
    await device.check();

    const m = await metrics(t);
    expect(metric(m, 'sitehub_auth_failures_total{kind="admin"}')).toBe(rest.get(401));
    expect(metric(m, 'sitehub_auth_throttled_total{kind="admin",reason="banned"}')).toBeGreaterThan(GUESSES - 100);
    expect(metric(m, 'sitehub_auth_bans_total{scope="address"}')).toBe(1);
    expect(metric(m, 'sitehub_http_refused_total{reason="banned"}')).toBeGreaterThan(3900);
    expect(metric(m, 'sitehub_refused_connections_total{namespace="console",code="banned"}')).toBe(3000);
    expect((await fetch(t.base + '/healthz')).status).toBe(200);
  });

  it('parallel sign-ins whose bodies come late: only the first authThrottleAfter are checked', async () => {
    const t = await startHub();
    // 300 requests send their headers, and only then (all of them waiting) their bodies.
    const sockets = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const body = JSON.stringify({ token: `wrong-${i}` });
        return new Promise<{ socket: Socket; body: string; status: Promise<number> }>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port: t.hub.port, localAddress: '127.0.0.15' }, () => {
            socket.write(`POST /auth/session HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`);
            resolve({ socket, body, status });
          });
          let text = '';
          socket.on('data', (c) => (text += c));
          const status = new Promise<number>((done) => socket.on('close', () => done(Number(text.slice(9, 12)))));
        });
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const { socket, body } of sockets) socket.end(body);
    const answers = new Map<number, number>();
    for (const { status } of sockets) {
      const code = await status;
      answers.set(code, (answers.get(code) ?? 0) + 1);
    }
    expect(answers.get(200)).toBeUndefined();
    expect(answers.get(401)).toBe(10);
    expect(answers.get(429)).toBe(290);
    expect(metric(await metrics(t), 'sitehub_auth_failures_total{kind="admin"}')).toBe(10);
  });

  it('enrollment keys and bridge tokens: throttled then banned; the right key and token from another address still work', async () => {
    const enrollmentKey = 'the-enrollment-key-0123456789';
    const t = await startHub({ enrollmentKey });
    const { deviceId, token } = await registerDevice(t.api);
    const device = await wellBehavedDevice(t, deviceId, token);
    const bridgeToken = (await t.api('POST', '/api/bridge-tokens', { name: 'mqtt' })).body.token as string;

    const attacker = new RawGuesser(t.hub.port, '127.0.0.13');
    const keys = await guessMany(GUESSES, (i) => attacker.guess('/devices/thermo', { deviceId: `new-${i % 100}`, enrollmentKey: `wrong-key-${i}`, siteId: 'site-a' }));
    expect(keys.get('connected')).toBeUndefined();
    expect(keys.get('invalid_credentials')).toBeLessThan(50);
    expect(keys.get('too_many_failures')).toBe(GUESSES - keys.get('invalid_credentials')!);
    expect(await attacker.guess('/devices/thermo', { deviceId: 'new-x', enrollmentKey, siteId: 'site-a' })).toBe('too_many_failures');
    attacker.close();

    const bridgeAttacker = new RawGuesser(t.hub.port, '127.0.0.14');
    const tokens = await guessMany(GUESSES, (i) => bridgeAttacker.guess('/bridge', { token: `wrong-bridge-token-${i}` }));
    expect(tokens.get('connected')).toBeUndefined();
    expect(tokens.get('invalid_credentials')).toBeLessThan(50);
    expect(tokens.get('too_many_failures')).toBe(GUESSES - tokens.get('invalid_credentials')!);
    bridgeAttacker.close();

    const enrolling = socketFrom('127.0.0.2', `${t.base}/devices/thermo`, { deviceId: 'new-ok', enrollmentKey, siteId: 'site-a' });
    const enrolled = new Promise<{ deviceId: string }>((resolve) => enrolling.once('enrolled', resolve));
    expect(await outcome(enrolling)).toBe('connected');
    expect((await enrolled).deviceId).toBe('new-ok');
    expect(await outcome(socketFrom('127.0.0.2', `${t.base}/bridge`, { token: bridgeToken }))).toBe('connected');
    await device.check();

    const m = await metrics(t);
    expect(metric(m, 'sitehub_auth_failures_total{kind="enrollment"}')).toBe(keys.get('invalid_credentials'));
    expect(metric(m, 'sitehub_auth_failures_total{kind="bridge"}')).toBe(tokens.get('invalid_credentials'));
    expect(metric(m, 'sitehub_auth_throttled_total{kind="enrollment",reason="banned"}')).toBeGreaterThan(GUESSES - 100);
    expect(metric(m, 'sitehub_auth_throttled_total{kind="bridge",reason="banned"}')).toBeGreaterThan(GUESSES - 100);
    expect(metric(m, 'sitehub_auth_bans_total{scope="address"}')).toBe(2);
    expect((await t.api('GET', '/api/devices/new-ok')).status).toBe(200);
    expect((await fetch(t.base + '/healthz')).status).toBe(200);
  });
});
