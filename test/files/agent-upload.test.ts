// The agent uploads a file from its upload folder when the hub asks it to
// (command `upload`): the command answers at once, the file is stored on the
// hub with its metadata and listed; a name with a path is refused.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../device-client/src/agent.js';
import { agentConfig, waitFor } from '../agent/helpers.js';
import { ADMIN_TOKEN, closeAll, registerDevice, startHub } from '../iot/helpers.js';

const agents: Agent[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await closeAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('agent uploads', () => {
  it('uploads a file of its upload folder on command, and refuses a name with a path', async () => {
    const hub = await startHub();
    const dev = await registerDevice(hub.api);
    dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-upload-'));
    mkdirSync(join(dir, 'out'));
    const snapshot = randomBytes(300_000);
    writeFileSync(join(dir, 'out', 'cam.jpg'), snapshot);
    const agent = new Agent(
      agentConfig({ hub: { url: hub.base, deviceId: dev.deviceId, token: dev.token, class: 'thermo' }, outbox: { path: join(dir, 'outbox.db') }, simulate: { sensors: 1, intervalMs: 1000, total: 0 }, files: { dir: join(dir, 'in'), uploadDir: join(dir, 'out') } }, true),
    );
    agents.push(agent);
    agent.start();
    await waitFor(async () => (await hub.api('GET', `/api/devices/${dev.deviceId}`)).body.online, 5000, 'agent online');
    const cmd = await hub.api('POST', '/api/commands', { deviceId: dev.deviceId, name: 'upload', params: { name: 'cam.jpg', kind: 'snapshot', contentType: 'image/jpeg' } });
    const done = await hub.api('GET', `/api/commands/${cmd.body.id}?waitMs=5000`);
    expect(done.body).toMatchObject({ status: 'acked', result: { name: 'cam.jpg', size: snapshot.length } });
    const listed = await waitFor(async () => (await hub.api('GET', `/api/files?direction=from_device&deviceId=${dev.deviceId}`)).body.items[0], 10_000, 'the upload stored');
    expect(listed).toMatchObject({ name: 'cam.jpg', kind: 'snapshot', contentType: 'image/jpeg', size: snapshot.length, sha256: createHash('sha256').update(snapshot).digest('hex') });
    const content = await fetch(`${hub.base}/api/files/${listed.id}/content`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(Buffer.from(await content.arrayBuffer()).equals(snapshot)).toBe(true);

    const bad = await hub.api('POST', '/api/commands', { deviceId: dev.deviceId, name: 'upload', params: { name: '../outbox.db' } });
    expect((await hub.api('GET', `/api/commands/${bad.body.id}?waitMs=5000`)).body).toMatchObject({ status: 'failed', error: expect.stringMatching(/no path/) });
  }, 30_000);
});
