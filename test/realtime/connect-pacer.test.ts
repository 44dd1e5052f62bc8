// CONNECT storms are spread over event-loop laps: at most connectsPerTurn
// CONNECTs start per lap, the rest in arrival order on later laps, so that
// timers run between them (the 18,000-device reconnect storm's long lap).
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectPacer, type PacedConnect } from '../../hub/src/realtime/connect-pacer.js';
import { busyWait } from '../helpers/engine.js';
import { cleanup, RawSocket, startServer } from './helpers.js';

const nextLap = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function fakeClient(started: string[], id: string): PacedConnect & { isOpen: boolean } {
  return {
    isOpen: true,
    _startConnect: (name) => void started.push(`${id}${name}`),
  };
}

describe('ConnectPacer', () => {
  it('starts perTurn CONNECTs per lap, in arrival order, and lets timers run between turns', async () => {
    const started: string[] = [];
    const pacer = new ConnectPacer(2);
    const timerRuns: number[] = [];
    // A timer due at once: it runs in the next lap's timers phase, between two turns.
    setTimeout(() => timerRuns.push(started.length), 0);
    for (let i = 0; i < 7; i++) pacer.offer(fakeClient(started, String(i)), '/', {});
    expect(started).toEqual(['0/', '1/']);
    expect(pacer.waitingCount).toBe(5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['0/', '1/', '2/', '3/']);
    for (let i = 0; i < 4 && pacer.waitingCount > 0; i++) await nextLap();
    expect(started).toEqual(['0/', '1/', '2/', '3/', '4/', '5/', '6/']);
    expect(timerRuns[0]).toBeLessThan(7);
  });

  it('skips a waiting CONNECT whose connection closed', async () => {
    const started: string[] = [];
    const pacer = new ConnectPacer(1);
    const clients = [0, 1, 2].map((i) => fakeClient(started, String(i)));
    for (const c of clients) pacer.offer(c, '/x', {});
    clients[1]!.isOpen = false;
    for (let i = 0; i < 4; i++) await nextLap();
    expect(started).toEqual(['0/x', '2/x']);
    expect(pacer.waitingCount).toBe(0);
  });

  it('refuses a bound that would never start anything (negative, fractional, NaN)', () => {
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => new ConnectPacer(bad)).toThrow(RangeError);
  });

  it('with perTurn 0 starts every CONNECT at once', () => {
    const started: string[] = [];
    const pacer = new ConnectPacer(0);
    for (let i = 0; i < 1000; i++) pacer.offer(fakeClient(started, ''), '/', {});
    expect(started.length).toBe(1000);
  });
});

describe('connectsPerTurn on a real server', () => {
  afterEach(cleanup);

  /** Sends a CONNECT on every socket while the loop is held, so that the server reads them all in one poll phase; returns the lap each middleware ran in. */
  async function burst(connectsPerTurn: number, n: number): Promise<{ laps: number[]; answers: string[] }> {
    const { io, base } = await startServer({ connectsPerTurn });
    let lap = 0;
    let counting = true;
    // One increment per check phase: the lap number, as the middlewares see it.
    const tick = () => {
      lap++;
      if (counting) setImmediate(tick);
    };
    const laps: number[] = [];
    io.of('/devices').use((_socket, next) => {
      laps.push(lap);
      next();
    });
    const sockets = await Promise.all(Array.from({ length: n }, () => RawSocket.open(base)));
    setImmediate(tick);
    for (const s of sockets) s.send('40/devices,');
    busyWait(100);
    const answers = (await Promise.all(sockets.map((s) => s.next()))) as string[];
    counting = false;
    return { laps, answers };
  }

  it('starts at most connectsPerTurn of a burst of CONNECTs per lap, and accepts them all', async () => {
    const { laps, answers } = await burst(3, 10);
    expect(answers.every((a) => a.startsWith('40/devices,{"sid":'))).toBe(true);
    const perLap = new Map<number, number>();
    for (const l of laps) perLap.set(l, (perLap.get(l) ?? 0) + 1);
    expect(laps.length).toBe(10);
    expect(Math.max(...perLap.values())).toBeLessThanOrEqual(3);
  });

  it('with connectsPerTurn 0 starts the whole burst in one lap (as socket.io)', async () => {
    const { laps } = await burst(0, 10);
    expect(new Set(laps).size).toBe(1);
  });
});
