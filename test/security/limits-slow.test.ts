// BAD-INPUTS.md edge rows "slow body" and "slow attachments": a client that
// sends a request, or a binary packet's attachments, a trickle at a time is
// cut off after the configured timeout, and the defaults are the documented ones.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../hub/src/config/index.js';
import { closeAll, readings, startHub } from '../iot/helpers.js';
import { metric, openRawSession, pollingHandshake, wellBehavedDevice } from './limits-helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

afterEach(closeAll);

/**
 * Writes `head` at once, then `body` one byte every `everyMs`; resolves with what the
 * server answered and when it closed the connection (ms after the start).
 */
function trickle(port: number, head: string, body: string, everyMs: number): Promise<{ answer: string; closedAfterMs: number; bytesSent: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = tcpConnect({ host: '127.0.0.1', port });
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < body.length && socket.writable) socket.write(body[sent++]!);
      }, everyMs);
    });
    socket.once('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: performance.now() - started, bytesSent: sent });
    });
  });
}

describe('slow body', () => {
  const config = { requestTimeoutMs: 2000, headersTimeoutMs: 1000 };

  it('closes a polling POST that sends its body a byte at a time, and its session', async () => {
    const t = await startHub(config);
    const device = await wellBehavedDevice(t, '127.0.0.2');
    const open = await pollingHandshake(t.base);
    const sid = JSON.parse(open.body.slice(1)).sid as string;
    const body = '4' + 'x'.repeat(99);
    const head = `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: hub\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n`;
    const result = await trickle(t.hub.port, head, body, 500);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408 /);
    // The request timeout (2 s) plus at most one deadline check (1 s), with room for a loaded machine.
    expect(result.closedAfterMs).toBeGreaterThan(1900);
    expect(result.closedAfterMs).toBeLessThan(5000);
    expect(result.bytesSent).toBeLessThan(body.length);
    expect(Object.hasOwn(t.hub.io.engine.clients, sid)).toBe(false);
    expect(await metric(t.base, 'sitehub_engine_refused_total{reason="request_timeout"}')).toBe(1);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(10, 1))).toMatchObject({ ok: true });
  });

  it('closes a POST /auth/session that sends its body a byte at a time', async () => {
    const t = await startHub(config);
    const device = await wellBehavedDevice(t, '127.0.0.2');
    const body = JSON.stringify({ token: 'x'.repeat(40) });
    const head = `POST /auth/session HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const result = await trickle(t.hub.port, head, body, 500);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.closedAfterMs).toBeLessThan(5000);
    expect(result.bytesSent).toBeLessThan(body.length);
    expect(await metric(t.base, 'sitehub_engine_refused_total{reason="request_timeout"}')).toBe(1);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(10, 1))).toMatchObject({ ok: true });
  });

  it('closes a request whose headers come a byte at a time', async () => {
    const t = await startHub(config);
    const headers = 'X-Slow: ' + 'y'.repeat(100) + '\r\n\r\n';
    const result = await trickle(t.hub.port, 'GET /healthz HTTP/1.1\r\nHost: hub\r\n', headers, 200);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.closedAfterMs).toBeLessThan(4000);
    expect(await metric(t.base, 'sitehub_engine_refused_total{reason="request_timeout"}')).toBe(1);
  });

  it('has the documented defaults, well under a minute', () => {
    expect(DEFAULT_CONFIG.requestTimeoutMs).toBeLessThanOrEqual(30_000);
    expect(DEFAULT_CONFIG.headersTimeoutMs).toBeLessThanOrEqual(DEFAULT_CONFIG.requestTimeoutMs);
    expect(DEFAULT_CONFIG.attachmentTimeoutMs).toBeLessThanOrEqual(30_000);
    expect(DEFAULT_CONFIG.connectTimeoutMs).toBeLessThanOrEqual(30_000);
    // docs/security.md lists every limit with its default: the table and the code agree.
    const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    const keys = [
      'trustProxy', 'maxConnections', 'maxConnectionsPerAddress', 'maxSessions', 'maxSessionsPerAddress', 'handshakeRatePerAddress',
      'handshakeBurstPerAddress', 'connectTimeoutMs', 'attachmentTimeoutMs', 'headersTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs', 'maxMessageBytes',
    ] as const;
    for (const key of keys) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, `docs/security.md has a row for ${key}`).toBeDefined();
      expect(row!.split('|')[2]!.trim()).toBe('`' + JSON.stringify(DEFAULT_CONFIG[key]) + '`');
    }
  });
});

describe('slow attachments', () => {
  it('closes a session whose binary packet never gets its attachments, or gets them too slowly, and frees them', async () => {
    const t = await startHub({ attachmentTimeoutMs: 500, connectTimeoutMs: 30_000 });
    const device = await wellBehavedDevice(t, '127.0.0.2');
    const placeholders = '["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]';

    // Never: the header alone.
    const never = await openRawSession(t.base);
    const started = performance.now();
    never.ws.send('452-' + placeholders);
    await never.closed;
    const neverMs = performance.now() - started;

    // Too slowly: one big attachment now, the second one later (or never); twenty such sessions.
    // Attachments are Buffers: outside the V8 heap, in arrayBuffers.
    const held = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    gc();
    const heapBefore = held();
    const slow = await Promise.all(Array.from({ length: 20 }, () => openRawSession(t.base)));
    for (const s of slow) {
      s.ws.send('452-' + placeholders);
      s.ws.send(Buffer.alloc(500_000, 7));
    }
    const late = setTimeout(() => {
      for (const s of slow) if (s.ws.readyState === s.ws.OPEN) s.ws.send(Buffer.alloc(1, 1));
    }, 5000);
    await Promise.all(slow.map((s) => s.closed));
    clearTimeout(late);
    const slowMs = performance.now() - started;
    gc();
    gc();
    const heapGrowthMb = (held() - heapBefore) / 1e6;

    expect(neverMs).toBeGreaterThan(450);
    expect(neverMs).toBeLessThan(2500);
    expect(slowMs).toBeLessThan(4500);
    expect(await metric(t.base, 'sitehub_realtime_attachment_timeouts_total')).toBe(21);
    // 20 x 500 kB were held while the packets waited; nothing of them is left.
    expect(heapGrowthMb).toBeLessThan(5);
    expect(t.hub.io.engine.clientsCount).toBe(1);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(10, 1))).toMatchObject({ ok: true });
  });
});
