// Pure parts of the client: backoff and URL parsing.
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../device-client/src/client/backoff.js';
import { parseUrl } from '../../device-client/src/client/url.js';

describe('Backoff', () => {
  it('doubles from min up to max without jitter', () => {
    const backoff = new Backoff({ min: 1000, max: 5000, jitter: 0 });
    expect([1, 2, 3, 4, 5].map(() => backoff.duration())).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoff.attempts).toBe(5);
    backoff.reset();
    expect(backoff.duration()).toBe(1000);
  });

  it('spreads each delay over base * (1 ± jitter), capped at max', () => {
    const low = new Backoff({ min: 1000, max: 5000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ min: 1000, max: 5000, jitter: 0.5, random: () => 0.999999 });
    expect([low.duration(), low.duration(), low.duration()]).toEqual([500, 1000, 2000]);
    expect([high.duration(), high.duration(), high.duration()]).toEqual([1499, 2999, 5000]);
  });

  it('never overflows after many attempts', () => {
    const backoff = new Backoff({ min: 1000, max: 5000, jitter: 0.5 });
    for (let i = 0; i < 2000; i++) backoff.duration();
    const d = backoff.duration();
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThanOrEqual(5000);
  });
});

describe('parseUrl', () => {
  it('splits server, namespace and query', () => {
    const url = parseUrl('http://example.com:3000/devices/sensor?token=a%20b', '/socket.io');
    expect(url).toMatchObject({
      protocol: 'http',
      hostname: 'example.com',
      port: '3000',
      secure: false,
      path: '/devices/sensor',
      query: 'token=a%20b',
      queryKey: { token: 'a b' },
      id: 'http://example.com:3000/socket.io',
    });
  });

  it('fills default ports and the root namespace', () => {
    expect(parseUrl('https://example.com')).toMatchObject({ port: '443', secure: true, path: '/' });
    expect(parseUrl('ws://example.com')).toMatchObject({ port: '80', secure: false });
    expect(parseUrl('wss://example.com').secure).toBe(true);
    expect(parseUrl('example.com:8080/admin')).toMatchObject({ protocol: 'https', port: '8080', path: '/admin' });
    // localhost:80 and localhost are the same server for the Manager cache
    expect(parseUrl('http://localhost:80').id).toBe(parseUrl('http://localhost').id);
  });

  it('keeps IPv6 brackets', () => {
    expect(parseUrl('http://[::1]:3000').hostname).toBe('[::1]');
  });

  it('refuses a relative URL outside a browser', () => {
    expect(() => parseUrl('/admin')).toThrow(/page location/);
    expect(() => parseUrl(undefined)).toThrow(/URL is required/);
  });
});
