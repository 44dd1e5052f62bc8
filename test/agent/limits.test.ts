// The agent against a real hub whose settings differ from its own: the hub
// tells it its limits on connect and the agent follows them; a reading the
// hub refuses as invalid is kept in the dead-letter table, counted, readable
// by command, and never holds up the readings after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../device-client/src/agent.js';
import { closeAll, connectClient, connected, registerDevice, startHub } from '../iot/helpers.js';
import { agentConfig, storedReadings, waitFor } from './helpers.js';

const dirs: string[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await closeAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function outboxPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'sitehub-agent-limits-'));
  dirs.push(d);
  return join(d, 'outbox.db');
}

describe('limits a device is told', () => {
  it('the hub sends its limits right after the connection, readable by any Socket.IO client', async () => {
    const hub = await startHub({ maxReadingsPerBatch: 100, maxRecordBytes: 4096 });
    const { deviceId, token } = await registerDevice(hub.api);
    const socket = connectClient(hub.base, '/devices/thermo', { deviceId, token });
    const limits = new Promise((resolve) => socket.once('limits', resolve));
    await connected(socket);
    expect(await limits).toMatchObject({ maxReadingsPerBatch: 100, maxRecordBytes: 4096, maxValuesPerReading: 64, maxMessageBytes: 1_000_000 });
  });

  it('a hub with maxReadingsPerBatch 100 and an agent configured for 1,000: every reading is stored', async () => {
    const hub = await startHub({ maxReadingsPerBatch: 100 });
    const { deviceId, token } = await registerDevice(hub.api);
    const total = 3000;
    const agent = new Agent(
      agentConfig(
        {
          hub: { url: hub.base, deviceId, token, class: 'thermo' },
          outbox: { path: outboxPath() },
          batch: { size: 1000, intervalMs: 50, ackTimeoutMs: 5000 },
          simulate: { sensors: 50, intervalMs: 5, total },
        },
        true,
      ),
    );
    agents.push(agent);
    agent.start();
    const stored = await waitFor(async () => {
      const r = await storedReadings(hub.api, deviceId);
      return r.length === total ? r : null;
    }, 30_000, `${total} readings stored`);
    expect(stored.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(agent.stats.rejected).toBe(0);
    expect(agent.stats.deadLetters).toBe(0);
    expect(agent.state()['batch.size']).toBe(100);
  }, 40_000);

  it('a reading the hub refuses as invalid goes to the dead-letter table, is counted, readable by command, and the readings after it are delivered', async () => {
    const hub = await startHub();
    const { deviceId, token } = await registerDevice(hub.api);
    const agent = new Agent(
      agentConfig({
        hub: { url: hub.base, deviceId, token, class: 'thermo' },
        outbox: { path: outboxPath() },
        batch: { size: 50, intervalMs: 50, ackTimeoutMs: 5000 },
        // A simulator that never ticks (an hour) and stops at seq 21: the readings come from ingest() below.
        simulate: { sensors: 1, intervalMs: 3_600_000, total: 21 },
      }),
    );
    agents.push(agent);
    // Queued before the connection, so that the bad reading travels inside a batch with good ones.
    const now = Date.now();
    agent.ingest(Array.from({ length: 10 }, (_, i) => ({ t: i })), now);
    agent.ingest([{ t: 999 }], now + 3_600_000); // an hour ahead: the hub refuses it (telemetry_ts)
    agent.ingest(Array.from({ length: 10 }, (_, i) => ({ t: 100 + i })), now);
    await new Promise((r) => setImmediate(r));
    agent.start();

    const stored = await waitFor(async () => {
      const r = await storedReadings(hub.api, deviceId);
      return r.length === 20 ? r : null;
    }, 10_000, '20 good readings stored');
    expect(stored.map((r) => r.seq)).toEqual([...Array.from({ length: 10 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => i + 12)]);
    await waitFor(() => agent.outbox.depth === 0, 5000, 'outbox empty');
    expect(agent.stats.deadLetters).toBe(1);
    expect(agent.state()['dropped.deadLetter']).toBe(1);

    // Counted in the state the hub keeps for the device, too.
    const attrs = await waitFor(async () => {
      const res = await hub.api('GET', `/api/devices/${deviceId}/state`);
      return res.body.attrs?.['dropped.deadLetter'] === 1 ? res.body.attrs : null;
    }, 5000, 'state with the dead letter');
    expect(attrs['dropped.deadLetter']).toBe(1);

    const created = await hub.api('POST', '/api/commands', { deviceId, name: 'dead-letters', params: { limit: 10 } });
    expect(created.status).toBe(201);
    const done = await hub.api('GET', `/api/commands/${created.body.id ?? created.body.command?.id}?waitMs=5000`);
    const command = done.body.command ?? done.body;
    expect(command.status).toBe('acked');
    expect(command.result.count).toBe(1);
    expect(command.result.items).toEqual([expect.objectContaining({ seq: 11, values: { t: 999 }, code: 'telemetry_ts', ts: now + 3_600_000 })]);
  });
});
