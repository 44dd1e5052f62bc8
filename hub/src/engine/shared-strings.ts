// A session keeps the request that opened it (`socket.request`, and
// `handshake.headers` in Socket.IO), and Node's HTTP parser makes a string of
// its own for every header name and value of every request: some 400 bytes
// of text per session that is the same in nearly all of them ("Host",
// "Upgrade", "websocket", "permessage-deflate; client_max_window_bits"...).
// Here a session's request swaps those strings for equal ones that every
// session shares. Strings are values in JavaScript: nothing can tell the
// difference, only the heap is smaller.
//
// Header names are shared whatever they are, and the values of headers that
// carry no secret and are usually the same for many clients; a value outside
// that list (a cookie, a token, a WebSocket key) is never added to the table.
// The table is bounded: when full it starts over, so hostile requests with
// ever new names cost a bounded amount and only make sharing less effective.
import type { IncomingMessage } from 'node:http';

const MAX_ENTRIES = 1024;
const MAX_LENGTH = 256;

let table = new Map<string, string>();

/** The shared string equal to `text` (`text` itself the first time it is seen). */
export function sharedString(text: string): string {
  if (text.length > MAX_LENGTH) return text;
  const found = table.get(text);
  if (found !== undefined) return found;
  if (table.size >= MAX_ENTRIES) table = new Map();
  table.set(text, text);
  return text;
}

// Headers whose values are shared: no secrets, and the same for many clients.
const SHARED_VALUES: readonly string[] = [
  'host',
  'connection',
  'upgrade',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'user-agent',
  'accept',
  'accept-encoding',
  'accept-language',
  'origin',
  'pragma',
  'cache-control',
  'sec-fetch-dest',
  'sec-fetch-mode',
  'sec-fetch-site',
  'x-forwarded-proto',
];

// Query parameters of an Engine.IO request whose values are shared.
const SHARED_QUERY_KEYS = new Set(['EIO', 'transport']);

/** Whether `url`'s query has only Engine.IO's own parameters (nothing per client in it). */
function isPlainEngineUrl(url: string): boolean {
  const at = url.indexOf('?');
  if (at === -1) return true;
  for (const pair of url.slice(at + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (!SHARED_QUERY_KEYS.has(eq === -1 ? pair : pair.slice(0, eq))) return false;
  }
  return true;
}

/** Whether a query parameter's value is shared (see sharedString). */
export function isSharedQueryKey(key: string): boolean {
  return SHARED_QUERY_KEYS.has(key);
}

/** Swaps the request's header names, common header values, version and plain URL for shared equal strings. */
export function shareRequestStrings(req: IncomingMessage): void {
  // Requests made by hand (framework adapters, tests) may lack parts.
  const headers = req.headers ?? {};
  for (const name of SHARED_VALUES) {
    const value = headers[name];
    if (typeof value === 'string') headers[name] = sharedString(value);
  }
  const raw = Array.isArray(req.rawHeaders) ? req.rawHeaders : [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (typeof raw[i] === 'string') raw[i] = sharedString(raw[i]!);
    // A value shared above (the raw value of a header seen once is the
    // string in `headers`); anything else is left as it is.
    const value = raw[i + 1]!;
    const found = table.get(value);
    if (found !== undefined) raw[i + 1] = found;
  }
  if (req.httpVersion === '1.1') req.httpVersion = '1.1';
  else if (req.httpVersion === '1.0') req.httpVersion = '1.0';
  const url = req.url;
  if (typeof url !== 'string') return;
  // A URL already in the table is swapped for its equal (the common case,
  // and no parsing); one not seen yet is added only if it is plain.
  const known = table.get(url);
  if (known !== undefined) req.url = known;
  else if (isPlainEngineUrl(url)) req.url = sharedString(url);
}
