// Upgrade storms are spread over event-loop laps: at most upgradesPerTurn
// upgrades per lap, the rest in arrival order on later laps, so that timers
// run between them.
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { UpgradePacer } from '../../hub/src/engine/upgrade-pacer.js';
import { WsClient, startEngine, type TestEngine } from '../helpers/engine.js';

const nextLap = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const fakeUpgrade = () => [{} as IncomingMessage, new PassThrough() as Duplex, Buffer.alloc(0), () => {}] as const;

describe('UpgradePacer', () => {
  it('takes perTurn upgrades per lap, in arrival order, and lets timers run between turns', async () => {
    const taken: number[] = [];
    const requests = new Map<IncomingMessage, number>();
    const pacer = new UpgradePacer(2, (req) => taken.push(requests.get(req)!));
    const timerRuns: number[] = [];
    // A timer due at once: it runs in the next lap's timers phase, between two turns.
    setTimeout(() => timerRuns.push(taken.length), 0);
    for (let i = 0; i < 7; i++) {
      const [req, socket, head, onError] = fakeUpgrade();
      requests.set(req, i);
      pacer.offer(req, socket, head, onError);
    }
    expect(taken).toEqual([0, 1]);
    expect(pacer.waitingCount).toBe(5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(taken).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < 4 && pacer.waitingCount > 0; i++) await nextLap();
    expect(taken).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // The timer ran before the last upgrades were taken.
    expect(timerRuns[0]).toBeLessThan(7);
  });

  it('skips a waiting upgrade whose client went away, and drops the waiting ones on close', async () => {
    let taken = 0;
    const pacer = new UpgradePacer(1, () => taken++);
    const ups = [fakeUpgrade(), fakeUpgrade(), fakeUpgrade(), fakeUpgrade()];
    for (const [req, socket, head, onError] of ups) pacer.offer(req, socket, head, onError);
    expect(taken).toBe(1);
    ups[1]![1].destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(taken).toBe(2);
    pacer.close();
    expect(ups[3]![1].destroyed).toBe(true);
    await nextLap();
    await nextLap();
    expect(taken).toBe(2);
    expect(pacer.waitingCount).toBe(0);
  });

  it('refuses a bound that would never take anything (negative, fractional, NaN)', () => {
    for (const bad of [-1, 0.5, Number.NaN]) expect(() => new UpgradePacer(bad, () => {})).toThrow(RangeError);
  });

  it('with perTurn 0 takes every upgrade at once', () => {
    let taken = 0;
    const pacer = new UpgradePacer(0, () => taken++);
    for (let i = 0; i < 1000; i++) pacer.offer(...fakeUpgrade());
    expect(taken).toBe(1000);
  });
});

describe('upgradesPerTurn on a real engine', () => {
  let t: TestEngine | undefined;
  const clients: WsClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await t?.close();
    t = undefined;
  });

  it('opens every session of a burst larger than one turn', async () => {
    t = await startEngine({ upgradesPerTurn: 3 });
    for (let i = 0; i < 20; i++) clients.push(new WsClient(t.url('websocket')));
    const opens = await Promise.all(clients.map((c) => c.nextText(5000)));
    expect(opens.every((o) => o.startsWith('0{'))).toBe(true);
    expect(t.engine.clientsCount).toBe(20);
  });
});
