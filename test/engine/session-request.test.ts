// The request a session keeps (`socket.request`) reads as Node parsed it:
// the session swaps its common strings for shared equal ones
// (shared-strings.ts), which must change no name, value, order or field.
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import type { EngineSocket } from '@sitehub/hub';
import { rawExchange, startEngine, upgradeRequest, type TestEngine } from '../helpers/engine.js';

let t: TestEngine | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

const EXTRA = [
  'User-Agent: site-gateway/1.0',
  'Cookie: session=secret-one',
  'X-Tag: a',
  'x-tag: b',
  'Accept-Language: de',
  'Authorization: Bearer token-1',
];

async function sessionFrom(t: TestEngine, path: string, extra: string[]): Promise<EngineSocket> {
  const connection = new Promise<EngineSocket>((resolve) => t.engine.once('connection', resolve));
  void rawExchange(t.port, upgradeRequest(path, extra), { timeoutMs: 1500 });
  return connection;
}

describe('the request a session keeps', () => {
  it('has the headers, raw headers, URL, version and query that the client sent', async () => {
    t = await startEngine({ transports: ['websocket'] }, { withEcho: false });
    // Two sessions: the second one's strings come from the shared table.
    for (const [i, path] of ['/engine.io/?EIO=4&transport=websocket', '/engine.io/?EIO=4&transport=websocket&token=x1'].entries()) {
      const extra = [...EXTRA, `X-Client: client-${i}`];
      const req = (await sessionFrom(t, path, extra)).request as IncomingMessage & { _query: Record<string, string> };
      const sent = upgradeRequest(path, extra)
        .split('\r\n')
        .slice(1)
        .filter(Boolean)
        .flatMap((line) => {
          const at = line.indexOf(': ');
          return [line.slice(0, at), line.slice(at + 2)];
        });
      expect(req.rawHeaders).toEqual(sent);
      expect(req.headers).toEqual({
        host: '127.0.0.1',
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'user-agent': 'site-gateway/1.0',
        cookie: 'session=secret-one',
        'x-tag': 'a, b',
        'accept-language': 'de',
        authorization: 'Bearer token-1',
        'x-client': `client-${i}`,
      });
      // In the order the client sent them.
      expect(Object.keys(req.headers)).toEqual([...new Set(sent.filter((_, at) => at % 2 === 0).map((name) => name.toLowerCase()))]);
      expect(req.url).toBe(path);
      expect(req.httpVersion).toBe('1.1');
      expect(req.method).toBe('GET');
      expect({ ...req._query }).toEqual(i === 0 ? { EIO: '4', transport: 'websocket' } : { EIO: '4', transport: 'websocket', token: 'x1' });
    }
  });
});
