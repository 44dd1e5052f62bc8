// Bridge test helpers: a bridge wired to a test hub and a test broker,
// mosquitto_sub/mosquitto_pub as child processes, bounded waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createBridge, type Bridge, type BridgeConfig } from '@sitehub/bridge';
import type { Api } from '../iot/helpers.js';

const bridges = new Set<{ bridge: Bridge; dir: string }>();
const children = new Set<ChildProcess>();

/** Creates a bridge token on the hub and starts a bridge with a temp queue file. */
export async function startBridge(api: Api, hubUrl: string, mqttUrl: string, config: Partial<BridgeConfig> = {}): Promise<Bridge> {
  const created = await api('POST', '/api/bridge-tokens', { name: 'mqtt-' + Math.random().toString(36).slice(2, 8) });
  if (created.status !== 201) throw new Error(`bridge token: ${created.status}`);
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-bridge-test-'));
  const bridge = createBridge(
    { bridgeId: 'test-' + Math.random().toString(36).slice(2, 8), hubUrl, hubToken: created.body.token, mqttUrl, queueFile: join(dir, 'queue.db'), mqttReconnectMs: 200, hubReconnectDelayMaxMs: 500, ...config },
    { logger: pino({ level: process.env.BRIDGE_TEST_LOG ?? 'silent' }) },
  );
  await bridge.start();
  bridges.add({ bridge, dir });
  return bridge;
}

/** Closes every bridge and child process started by these helpers. */
export async function closeBridges(): Promise<void> {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  await Promise.all(
    [...bridges].map(async ({ bridge, dir }) => {
      await Promise.race([bridge.close().catch(() => {}), new Promise((r) => setTimeout(r, 3000))]);
      rmSync(dir, { recursive: true, force: true });
    }),
  );
  bridges.clear();
}

/** Polls `check` every 20 ms until it is true, failing after `timeoutMs`; a function `what` describes the state at the timeout. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A running mosquitto_sub: the `topic payload` lines it printed, and its exit. */
export interface SubProcess {
  lines: string[];
  /** Resolves once the broker confirmed the subscription. */
  subscribed: Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Runs `mosquitto_sub -v` on `topic` for at most `count` messages and `seconds`. */
export function mosquittoSub(port: number, topic: string, count: number, seconds: number, extra: string[] = []): SubProcess {
  // stdbuf: mosquitto_sub's debug lines (the SUBACK) are block-buffered on a pipe.
  const proc = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(port), '-t', topic, '-v', '-d', '-C', String(count), '-W', String(seconds), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const lines: string[] = [];
  let onSubscribed!: () => void;
  const subscribed = new Promise<void>((r) => (onSubscribed = r));
  let buffer = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.includes('received SUBACK')) onSubscribed();
      else if (!line.startsWith('Client ') && !line.startsWith('Subscribed ')) lines.push(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { lines, subscribed, exited };
}

/** Runs `mosquitto_pub` and resolves with its exit code. */
export function mosquittoPub(port: number, topic: string, message: string, extra: string[] = []): Promise<number | null> {
  const proc = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-m', message, '-q', '1', ...extra], { stdio: 'ignore' });
  children.add(proc);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

/** Splits a `mosquitto_sub -v` line into topic and JSON payload. */
export function parseLine(line: string): { topic: string; payload: any } {
  const space = line.indexOf(' ');
  const text = line.slice(space + 1);
  let payload: unknown = text;
  try {
    payload = JSON.parse(text);
  } catch {
    /* a plain string payload such as online/offline */
  }
  return { topic: line.slice(0, space), payload };
}
