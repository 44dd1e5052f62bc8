// Helpers for the agent tests: kernel pty pairs through socat, agent configs,
// reading a device's telemetry back from the hub's REST API.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { validateConfig, type AgentConfig } from '../../device-client/src/config.js';
import type { Api } from '../iot/helpers.js';

/** A pty pair: the agent opens `device`, the test writes to `sensor` as the sensor would. */
export interface PtyPair {
  device: string;
  sensor: string;
  child: ChildProcess;
  /** Writes bytes to the sensor end (async: a pty holds only a few KiB until the agent reads). */
  write(data: string | Buffer): Promise<void>;
  /** Kills socat (the "unplug") and waits for it to exit. */
  kill(): Promise<void>;
}

const pairs = new Set<PtyPair>();

/** Starts socat with two linked ptys under `dir`/`name`-{device,sensor}. */
export async function startPty(dir: string, name: string): Promise<PtyPair> {
  const device = `${dir}/${name}-device`;
  const sensor = `${dir}/${name}-sensor`;
  const child = spawn('/usr/bin/socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${sensor}`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pair: PtyPair = {
    device,
    sensor,
    child,
    async write(data) {
      const file = await open(sensor, 'w');
      try {
        await file.write(typeof data === 'string' ? Buffer.from(data) : data);
      } finally {
        await file.close();
      }
    },
    async kill() {
      pairs.delete(pair);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  pairs.add(pair);
  for (let i = 0; i < 200 && !(existsSync(device) && existsSync(sensor)); i++) await sleep(10);
  if (!existsSync(device)) throw new Error('socat did not create the ptys');
  return pair;
}

/** Kills every socat still running. */
export async function killPtys(): Promise<void> {
  await Promise.all([...pairs].map((p) => p.kill()));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 20 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Every stored reading of a device, seq order (pages through the REST API). */
export async function storedReadings(api: Api, deviceId: string): Promise<Array<{ seq: number; ts: number; values: Record<string, unknown> }>> {
  const out: Array<{ seq: number; ts: number; values: Record<string, unknown> }> = [];
  let after = 0;
  for (let page = 0; page < 1000; page++) {
    const res = await api('GET', `/api/devices/${deviceId}/telemetry?afterSeq=${after}&limit=10000`);
    if (res.status !== 200) throw new Error(`telemetry: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.body.items.length === 0) break;
    out.push(...res.body.items);
    after = res.body.items[res.body.items.length - 1].seq;
  }
  return out;
}

/** A validated agent config with fast test timings. */
export function agentConfig(raw: { hub: Record<string, unknown>; sources?: unknown[]; [key: string]: unknown }, simulate = false): AgentConfig {
  return validateConfig(
    {
      batch: { size: 50, intervalMs: 50, ackTimeoutMs: 3000 },
      reconnect: { delayMs: 50, delayMaxMs: 500 },
      logLevel: 'silent',
      ...raw,
    },
    { simulate },
  );
}
