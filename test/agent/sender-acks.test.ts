// How the agent's batch sender reads the hub's telemetry acks: a refusal on
// content is dropped (it would be refused forever), a failed commit is resent.
// Only the `retryable` flag decides, never the wording of `error`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type Reading } from '../../device-client/src/outbox.js';
import { BatchSender, type EmitTelemetry } from '../../device-client/src/agent/sender.js';

const quiet = { info() {}, warn() {}, error() {} };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(answers: Array<Parameters<Parameters<EmitTelemetry>[2]>[1]>) {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-sender-'));
  dirs.push(dir);
  const outbox = new Outbox(join(dir, 'outbox.db'));
  const sent: number[][] = [];
  const emit: EmitTelemetry = (batch: Reading[], _timeout, done) => {
    sent.push(batch.map((r) => r.seq));
    const answer = answers.shift() ?? { ok: true, stored: batch.length, duplicates: 0 };
    queueMicrotask(() => done(null, answer));
  };
  const sender = new BatchSender(outbox, emit, { batchSize: 2, maxInFlight: 1, ackTimeoutMs: 1000, ratePerSec: 1e6, retryDelayMs: 10 }, quiet);
  return { outbox, sender, sent };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('agent batch sender and hub acks', () => {
  it('drops a batch the hub refused on content (retryable: false) and counts it', async () => {
    const { outbox, sender, sent } = setup([{ ok: false, error: 'ts too far ahead; do not retry', code: 'telemetry_ts', retryable: false }]);
    outbox.append([{ ts: 1, values: { t: 1 } }, { ts: 2, values: { t: 2 } }]);
    sender.connected();
    await until(() => outbox.depth === 0);
    expect(sent).toEqual([[1, 2]]);
    expect(sender.stats.rejected).toBe(2);
    sender.stop();
    outbox.close();
  });

  it('keeps and resends a batch whose commit failed (retryable: true)', async () => {
    const { outbox, sender, sent } = setup([{ ok: false, error: 'commit failed', code: 'store_unavailable', retryable: true }]);
    outbox.append([{ ts: 1, values: { t: 1 } }, { ts: 2, values: { t: 2 } }]);
    sender.connected();
    await until(() => outbox.depth === 0);
    expect(sent).toEqual([[1, 2], [1, 2]]);
    expect(sender.stats.rejected).toBe(0);
    expect(sender.stats.ackedReadings).toBe(2);
    sender.stop();
    outbox.close();
  });
});
