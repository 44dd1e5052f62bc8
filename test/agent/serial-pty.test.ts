// Serial input through real kernel ptys (socat): each parser's format, with
// noise, goes from the "sensor" end through the agent into a running hub;
// unplugging (killing socat) and replugging the port is survived.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { Agent } from '../../device-client/src/agent.js';
import { hangupAwareBinding } from '../../device-client/src/serial/hangup-binding.js';
import { encodeSds011, nmeaChecksum } from '../../device-client/src/serial/parsers/index.js';
import { closeAll, registerDevice, startHub, type TestHub } from '../iot/helpers.js';
import { agentConfig, killPtys, sleep, startPty, storedReadings, waitFor } from './helpers.js';

let dir: string;
const agents: Agent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await killPtys();
  await closeAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function setup(hub: TestHub, sources: unknown[], extra: Record<string, unknown> = {}) {
  dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-pty-'));
  const { deviceId, token } = await registerDevice(hub.api);
  const config = agentConfig({ hub: { url: hub.base, deviceId, token, class: 'thermo' }, sources, outbox: { path: join(dir, 'outbox.db') }, ...extra });
  return { deviceId, config };
}

const nmea = (body: string) => `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}\r\n`;

describe('serial sources over ptys', () => {
  it('feeds every format, noise included, into the hub; noise is dropped and counted', async () => {
    const hub = await startHub();
    dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-pty-'));
    const ptys = {
      json: await startPty(dir, 'json'),
      kv: await startPty(dir, 'kv'),
      csv: await startPty(dir, 'csv'),
      gps: await startPty(dir, 'gps'),
      pm: await startPty(dir, 'pm'),
    };
    const { deviceId, token } = await registerDevice(hub.api);
    const config = agentConfig({
      hub: { url: hub.base, deviceId, token, class: 'thermo' },
      outbox: { path: join(dir, 'outbox.db') },
      sources: [
        { name: 'arduino', path: ptys.json.device, baudRate: 115200, parser: { type: 'json-lines', maxLineBytes: 1024 }, map: { t: 'temp', h: 'rh' } },
        { name: 'kv', path: ptys.kv.device, parser: { type: 'key-value' }, prefix: 'kv.' },
        { name: 'logger', path: ptys.csv.device, parser: { type: 'csv' }, prefix: 'csv.' },
        { name: 'gps', path: ptys.gps.device, baudRate: 4800, parser: { type: 'nmea' }, prefix: 'gps.' },
        { name: 'sds011', path: ptys.pm.device, parser: { type: 'sds011' } },
      ],
    });
    const agent = new Agent(config);
    agents.push(agent);
    agent.start();
    await waitFor(() => agent.sourceInfos().filter((s) => s.status === 'open').length === 5, 5000, 'ports open');

    // JSON lines: a partial line first (as after opening mid-line), garbage, a 1 MB line, then good lines.
    await ptys.json.write('5, "h": 41}\n');
    await ptys.json.write(Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x0a]));
    await ptys.json.write('{"t": 21.5, "h": 40, "ignored": 1}\n');
    await ptys.json.write('x'.repeat(1 << 20) + '\n');
    await ptys.json.write('{"t": 22.0, "h": 39}\n');
    // key=value with a corrupt line.
    await ptys.kv.write('co2=412 voc=0.3\nco2 4@@\n\x01\x02\nco2=415 voc=0.2\n');
    // CSV: header, rows, a short row.
    await ptys.csv.write('volts,amps\n12.1,0.5\n12.2\n12.0,0.6\n');
    // NMEA: a GGA and an RMC with good checksums, one with a bad checksum, one unsupported type.
    await ptys.gps.write(nmea('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'));
    await ptys.gps.write('$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*00\r\n');
    await ptys.gps.write(nmea('GPGSV,2,1,08,01,40,083,46'));
    await ptys.gps.write(nmea('GPRMC,123520,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W'));
    // SDS011: garbage, a frame split across writes, a frame with a bad checksum, a good one.
    const good = encodeSds011(12.3, 45.6);
    const bad = Buffer.from(encodeSds011(1, 2));
    bad[8] ^= 0xff;
    await ptys.pm.write(Buffer.concat([Buffer.from([0x0a, 0xab, 0x0d, 0x00]), good.subarray(0, 4)]));
    await sleep(30);
    await ptys.pm.write(Buffer.concat([good.subarray(4), bad, encodeSds011(7, 8)]));

    const readings = await waitFor(async () => {
      const r = await storedReadings(hub.api, deviceId);
      return r.length >= 10 ? r : null;
    }, 8000, '10 readings in the hub');
    await sleep(200);
    const values = (await storedReadings(hub.api, deviceId)).map((r) => r.values);
    expect(values).toHaveLength(10);
    expect(readings.map((r) => r.seq)).toEqual(readings.map((_, i) => i + 1));
    expect(values).toEqual(
      expect.arrayContaining([
        { temp: 21.5, rh: 40 },
        { temp: 22, rh: 39 },
        { 'kv.co2': 412, 'kv.voc': 0.3 },
        { 'kv.co2': 415, 'kv.voc': 0.2 },
        { 'csv.volts': 12.1, 'csv.amps': 0.5 },
        { 'csv.volts': 12, 'csv.amps': 0.6 },
        { 'gps.fix': 1, 'gps.sats': 8, 'gps.lat': 48.1173, 'gps.lon': 11.5166667, 'gps.hdop': 0.9, 'gps.alt': 545.4 },
        { 'gps.valid': true, 'gps.lat': 48.1173, 'gps.lon': 11.5166667, 'gps.speed_kn': 22.4, 'gps.course': 84.4 },
        { pm25: 12.3, pm10: 45.6 },
        { pm25: 7, pm10: 8 },
      ]),
    );
    const info = Object.fromEntries(agent.sourceInfos().map((s) => [s.name, s]));
    expect(info.arduino.dropped).toBe(3); // partial line, garbage, 1 MB line
    expect(info.kv.dropped).toBe(2);
    expect(info.logger.dropped).toBe(1);
    expect(info.gps.dropped).toBe(1);
    expect(info.sds011.dropped).toBe(2); // the leading garbage and the bad frame
    expect(agent.state()['dropped.noise']).toBe(9);
    expect(agent.outbox.depth).toBe(0);
  });

  it('reopens a port after it is unplugged and replugged', async () => {
    const hub = await startHub();
    dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-pty-'));
    let pty = await startPty(dir, 'usb');
    const { deviceId, config } = await (async () => {
      const { deviceId, token } = await registerDevice(hub.api);
      return {
        deviceId,
        config: agentConfig({
          hub: { url: hub.base, deviceId, token, class: 'thermo' },
          outbox: { path: join(dir, 'outbox.db') },
          sources: [{ name: 'arduino', path: pty.device, parser: { type: 'json-lines' }, reopenDelayMs: 50, reopenDelayMaxMs: 200 }],
        }),
      };
    })();
    const agent = new Agent(config);
    agents.push(agent);
    agent.start();
    await waitFor(() => agent.sourceInfos()[0].status === 'open', 5000, 'port open');
    await pty.write('{"n": 1}\n');
    await waitFor(async () => (await storedReadings(hub.api, deviceId)).length === 1, 5000, 'first reading');

    await pty.kill();
    await waitFor(() => agent.sourceInfos()[0].status === 'waiting', 5000, 'port seen as unplugged');
    await sleep(300); // several reopen attempts fail while the device is away
    expect(agent.sourceInfos()[0].status).not.toBe('open');

    pty = await startPty(dir, 'usb');
    await waitFor(() => agent.sourceInfos()[0].status === 'open', 5000, 'port reopened');
    await pty.write('{"n": 2}\n');
    const stored = await waitFor(async () => {
      const r = await storedReadings(hub.api, deviceId);
      return r.length === 2 ? r : null;
    }, 5000, 'second reading');
    expect(stored.map((r) => r.values.n)).toEqual([1, 2]);
    expect(agent.sourceInfos()[0].reopens).toBe(1);
  });

  // The cause of a flaky unplug: when the read that follows the poller's
  // wake-up runs after the kernel hung the tty up, read() returns 0 bytes, and
  // the library's read retried that forever. Here the read runs after the
  // hang-up every time.
  it('reports a hang-up to a read that starts after the other end closed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-pty-'));
    const race = <T,>(p: Promise<T>, ms: number) => Promise.race([p.then((v) => ({ v }), (err: Error & { disconnect?: boolean }) => ({ err })), sleep(ms).then(() => 'still reading' as const)]);
    for (const [name, binding] of [['library', SerialPort.binding], ['hangup-aware', await hangupAwareBinding(SerialPort.binding)]] as const) {
      const pty = await startPty(dir, name);
      const port = await binding.open({ path: pty.device, baudRate: 9600 });
      await pty.kill(); // closes the master: the kernel hangs up our end
      const outcome = await race(port.read(Buffer.alloc(64), 0, 64), 500);
      await port.close();
      if (name === 'library') expect(outcome).toBe('still reading');
      else expect(outcome).toMatchObject({ err: { disconnect: true, code: 'EHANGUP' } });
    }
  });

  it('reopens a silent port when the watchdog fires', async () => {
    const hub = await startHub();
    dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-pty-'));
    const pty = await startPty(dir, 'quiet');
    const { deviceId, token } = await registerDevice(hub.api);
    const agent = new Agent(
      agentConfig({
        hub: { url: hub.base, deviceId, token, class: 'thermo' },
        outbox: { path: join(dir, 'outbox.db') },
        sources: [{ name: 'quiet', path: pty.device, parser: { type: 'json-lines' }, watchdogMs: 300, reopenDelayMs: 50 }],
      }),
    );
    agents.push(agent);
    agent.start();
    await waitFor(() => agent.sourceInfos()[0].reopens >= 1, 5000, 'watchdog reopen');
    await pty.write('{"alive": true}\n');
    await waitFor(async () => (await storedReadings(hub.api, deviceId)).length === 1, 5000, 'reading after reopen');
  });

  it('finds a port by vendorId/productId and several ports run at once', async () => {
    const hub = await startHub();
    dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-pty-'));
    const one = await startPty(dir, 'one');
    const two = await startPty(dir, 'two');
    const { deviceId, token } = await registerDevice(hub.api);
    const listed = [
      { path: two.device, vendorId: '1A86', productId: '7523' },
      { path: one.device, vendorId: '2341', productId: '0043', serialNumber: 'A1' },
    ];
    const agent = new Agent(
      agentConfig({
        hub: { url: hub.base, deviceId, token, class: 'thermo' },
        outbox: { path: join(dir, 'outbox.db') },
        sources: [
          { name: 'uno', match: { vendorId: '2341', serialNumber: 'A1' }, parser: { type: 'json-lines' } },
          { name: 'other', match: { vendorId: '1a86', productId: '7523' }, parser: { type: 'key-value' } },
        ],
      }),
      { listPorts: async () => listed },
    );
    agents.push(agent);
    agent.start();
    await waitFor(() => agent.sourceInfos().every((s) => s.status === 'open'), 5000, 'both ports open');
    expect(agent.sourceInfos().map((s) => s.path)).toEqual([one.device, two.device]);
    await one.write('{"a": 1}\n');
    await two.write('b=2\n');
    const stored = await waitFor(async () => {
      const r = await storedReadings(hub.api, deviceId);
      return r.length === 2 ? r : null;
    }, 5000, 'a reading from each port');
    expect(stored.map((r) => r.values)).toEqual(expect.arrayContaining([{ a: 1 }, { b: 2 }]));
  });
});
