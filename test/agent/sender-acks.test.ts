// How the agent's batch sender reads the hub's telemetry acks: a refusal on
// content is narrowed down to the reading at fault, which moves to the
// dead-letter table (it would be refused forever); a size refusal splits the
// batch; a failed commit is resent. Only `retryable` and `code` decide, never
// the wording of `error`.
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

type Answer = Parameters<Parameters<EmitTelemetry>[2]>[1];

/** A sender on a fresh outbox; `answer` plays the hub (default: the next of `answers`, then ok). */
function setup(answers: Answer[], answer?: (batch: Reading[]) => Answer, batchSize = 2) {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-sender-'));
  dirs.push(dir);
  const outbox = new Outbox(join(dir, 'outbox.db'));
  const sent: number[][] = [];
  const emit: EmitTelemetry = (batch: Reading[], _timeout, done) => {
    sent.push(batch.map((r) => r.seq));
    const reply = answer?.(batch) ?? answers.shift() ?? { ok: true, stored: batch.length, duplicates: 0 };
    queueMicrotask(() => done(null, reply));
  };
  const sender = new BatchSender(outbox, emit, { batchSize, maxInFlight: 1, ackTimeoutMs: 1000, ratePerSec: 1e6, retryDelayMs: 10 }, quiet);
  // Partial batches go out on the batch interval, as in the agent.
  sender.setIntervalMs(10);
  return { outbox, sender, sent };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('agent batch sender and hub acks', () => {
  it('moves the one reading the hub refused on content to the dead-letter table and delivers the others', async () => {
    // The hub refuses any batch holding seq 2 (its ts is too far ahead), as a real hub would.
    const { outbox, sender, sent } = setup([], (batch) =>
      batch.some((r) => r.seq === 2) ? { ok: false, error: 'ts too far ahead; do not retry', code: 'telemetry_ts', retryable: false } : undefined,
    );
    outbox.append([{ ts: 1, values: { t: 1 } }, { ts: 2, values: { t: 2 } }, { ts: 3, values: { t: 3 } }]);
    sender.connected();
    sender.pump(true);
    await until(() => outbox.depth === 0);
    expect(sent).toEqual([[1, 2], [1], [2], [3]]);
    expect(sender.stats.rejected).toBe(1);
    expect(sender.stats.ackedReadings).toBe(2);
    expect(outbox.deadLetterCount).toBe(1);
    expect(outbox.deadLetters(0, 10)).toEqual([expect.objectContaining({ seq: 2, ts: 2, values: { t: 2 }, code: 'telemetry_ts' })]);
    sender.stop();
    outbox.close();
  });

  it('moves the reading the hub names (index) to the dead-letter table at once and resends the others', async () => {
    const { outbox, sender, sent } = setup([], (batch) => {
      const index = batch.findIndex((r) => r.seq === 2);
      return index >= 0 ? { ok: false, error: 'bad ts', code: 'telemetry_ts', retryable: false, index } : undefined;
    }, 3);
    outbox.append([{ ts: 1, values: { t: 1 } }, { ts: 2, values: { t: 2 } }, { ts: 3, values: { t: 3 } }]);
    sender.connected();
    await until(() => outbox.depth === 0);
    expect(sent).toEqual([[1, 2, 3], [1, 3]]);
    expect(outbox.deadLetters(0, 10).map((d) => d.seq)).toEqual([2]);
    expect(sender.stats.ackedReadings).toBe(2);
    sender.stop();
    outbox.close();
  });

  it('splits a batch refused for its size and sends every reading', async () => {
    // A hub that takes at most 3 readings per batch but never said so.
    const { outbox, sender, sent } = setup([], (batch) => (batch.length > 3 ? { ok: false, error: 'too many', code: 'telemetry_size', retryable: false } : undefined), 10);
    outbox.append(Array.from({ length: 10 }, (_, i) => ({ ts: i + 1, values: { t: i } })));
    sender.connected();
    sender.pump(true);
    await until(() => outbox.depth === 0);
    expect(sent.slice(0, 3)).toEqual([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 5], [1, 2]]);
    expect(sent.flat().filter((s, i, all) => all.indexOf(s) === i).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sender.stats.ackedReadings).toBe(10);
    expect(sender.stats.splits).toBe(2);
    expect(outbox.deadLetterCount).toBe(0);
    sender.stop();
    outbox.close();
  });

  it('sizes batches by the limits the hub announced', async () => {
    const { outbox, sender, sent } = setup([], undefined, 10);
    sender.setLimits({ maxReadingsPerBatch: 4 });
    outbox.append(Array.from({ length: 10 }, (_, i) => ({ ts: i + 1, values: { t: i } })));
    sender.connected();
    sender.pump(true);
    await until(() => outbox.depth === 0);
    expect(sent.map((b) => b.length)).toEqual([4, 4, 2]);
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
