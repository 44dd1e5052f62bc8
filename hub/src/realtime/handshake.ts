import type { IncomingMessage } from 'node:http';
import type { Handshake } from './types.js';

/** Builds `socket.handshake` from the request that opened the Engine.IO session and the CONNECT payload. */
export function buildHandshake(request: IncomingMessage, address: string, secure: boolean, auth: Record<string, any>): Handshake {
  const url = request.url ?? '/';
  return {
    headers: request.headers,
    time: timeString(),
    address,
    xdomain: Boolean(request.headers.origin),
    secure,
    issued: Date.now(),
    url,
    query: parseQuery(url, (request as { _query?: Query })._query),
    auth,
  };
}

// Date#toString has a resolution of one second: the handshakes of the same
// second share one string (some 80 bytes per socket, and the formatting).
let timeSecond = -1;
let timeText = '';

/** `new Date().toString()`, computed once per second. */
function timeString(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== timeSecond) {
    timeSecond = second;
    timeText = new Date(now).toString();
  }
  return timeText;
}

type Query = Record<string, string | string[]>;

// Inherits nothing, like Object.create(null), but stays a fast object instead
// of a ~160-byte hash table: every socket keeps one (Node's querystring does the same).
const QueryObject = function QueryObject() {} as unknown as new () => Query;
QueryObject.prototype = Object.create(null);

/**
 * The query string as an object; a repeated key gives an array, as Node's
 * querystring does. A value equal to the engine's parse of it (`req._query`)
 * is taken from there: one string for both.
 */
function parseQuery(url: string, engineQuery: Query | undefined): Query {
  const query = new QueryObject();
  const start = url.indexOf('?');
  if (start === -1) return query;
  for (const [key, value] of new URLSearchParams(url.slice(start + 1))) {
    const previous = query[key];
    const known = engineQuery?.[key];
    if (previous === undefined) query[key] = known === value ? known : value;
    else if (Array.isArray(previous)) previous.push(value);
    else query[key] = [previous, value];
  }
  return query;
}
