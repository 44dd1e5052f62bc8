// parseQuery splits plain queries by hand; whatever the query, it must give
// exactly what URLSearchParams gives, a repeated key keeping its last value
// (as engine.io's Object.fromEntries of the search params).
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { parseQuery } from '../../hub/src/engine/verify.js';

function viaUrlSearchParams(url: string): [string, string][] {
  const at = url.indexOf('?');
  if (at === -1) return [];
  // A Map keeps a key where it first came, with its last value, as Object.fromEntries does.
  return [...new Map(new URLSearchParams(url.slice(at + 1)))];
}

function viaParseQuery(url: string): [string, string][] {
  const query = parseQuery({ url } as IncomingMessage)._query;
  const out: [string, string][] = [];
  for (const key in query) out.push([key, query[key]!]);
  return out;
}

// Pieces that exercise the separators, escapes, the leading `?` URLSearchParams drops, and inherited names.
const PIECES = ['EIO', '=', '4', '&', '&&', '==', 'transport', 'polling', 'sid', 'a', '?', '#', ';', '~', '%', '%41', '%zz', '+', ' ', 'é', '\t', '\x00', '\u00ff', '__proto__', 'constructor', 'toString', 't=', '=v'];

describe('parseQuery', () => {
  it('reads the queries clients send', () => {
    const url = '/socket.io/?EIO=4&transport=polling&t=PX1b2c3&sid=abc-_DEF123';
    expect(viaParseQuery(url)).toEqual([
      ['EIO', '4'],
      ['transport', 'polling'],
      ['t', 'PX1b2c3'],
      ['sid', 'abc-_DEF123'],
    ]);
  });

  it('agrees with URLSearchParams on hand-picked and generated queries', () => {
    const urls = ['/x', '/x?', '/x??a=1', '/x?&&a=1&&', '/x?a==b', '/x?=v', '/x?a&a=2', '/x?__proto__=1&constructor=2', '/x?a=%41+b', '/x?a=1?b=2'];
    // A fixed linear congruential sequence: the same inputs on every run.
    let seed = 12345;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let i = 0; i < 20_000; i++) {
      let url = next(10) === 0 ? '/x' : '/x?';
      for (let j = next(10); j > 0; j--) url += PIECES[next(PIECES.length)];
      urls.push(url);
    }
    for (const url of urls) expect(viaParseQuery(url), url).toEqual(viaUrlSearchParams(url));
  });
});
