// The checks every Engine.IO request goes through before it reaches a
// session or opens one. Pure: reads the request, the options and the session
// table, answers with a rejection or a route.
import type { IncomingMessage } from 'node:http';
import { EngineErrorCode, type RequestRejection } from './errors.js';
import type { ResolvedEngineOptions, TransportName } from './options.js';
import { isSharedQueryKey, sharedString } from './shared-strings.js';
import type { EngineSocket } from './socket.js';

/** The parsed query of an Engine.IO request. */
export type EngineQuery = Record<string, string>;

/** An IncomingMessage with its parsed query, as engine.io exposes it (`req._query`). */
export type EngineRequest = IncomingMessage & { _query: EngineQuery };

/** Where a verified request goes. */
export type RequestRoute =
  | { kind: 'rejected'; rejection: RequestRejection; badInput: string | undefined }
  | { kind: 'session'; session: EngineSocket; transport: TransportName }
  | { kind: 'handshake'; transport: TransportName };

// A query object inherits nothing (its prototype is an empty object without
// prototype, as Node's querystring does it), so keys like `__proto__` or
// `constructor` are plain data. Unlike Object.create(null), which V8 keeps as a
// hash table of some 160 bytes, these are ordinary fast objects; every session
// keeps one.
const QueryObject = function QueryObject() {} as unknown as new () => EngineQuery;
QueryObject.prototype = Object.create(null);

// A query URLSearchParams would return unchanged: printable ASCII without
// `%` (escapes) and `+` (spaces), not starting with the `?` it would drop.
const PLAIN_QUERY = /^(?!\?)[\x21-\x24\x26-\x2a\x2c-\x7e]*$/;

/**
 * Parses `req.url`'s query once and keeps it as `req._query` (see QueryObject);
 * a repeated key keeps its last value, as engine.io's parse does.
 */
export function parseQuery(req: IncomingMessage): EngineRequest {
  const engineReq = req as EngineRequest;
  if (engineReq._query === undefined) {
    const url = req.url ?? '';
    const at = url.indexOf('?');
    const query = new QueryObject();
    if (at !== -1) {
      const search = url.slice(at + 1);
      if (PLAIN_QUERY.test(search)) {
        // Nothing to decode (what every client sends on every poll): split by
        // hand, as URLSearchParams would, without its iterator and entries.
        let start = 0;
        while (start <= search.length) {
          let end = search.indexOf('&', start);
          if (end === -1) end = search.length;
          if (end > start) {
            const eq = search.indexOf('=', start);
            const key = eq === -1 || eq > end ? search.slice(start, end) : search.slice(start, eq);
            const value = eq === -1 || eq > end ? '' : search.slice(eq + 1, end);
            query[key] = isSharedQueryKey(key) ? sharedString(value) : value;
          }
          start = end + 1;
        }
      } else {
        for (const [key, value] of new URLSearchParams(search)) {
          query[key] = isSharedQueryKey(key) ? sharedString(value) : value;
        }
      }
    }
    engineReq._query = query;
  }
  return engineReq;
}

// Bad-input kind counted for each rejection code (Forbidden is policy, not bad input).
const BAD_INPUT_BY_CODE: Record<EngineErrorCode, string | undefined> = {
  0: 'transport_unknown',
  1: 'session_id_unknown',
  2: 'bad_handshake_method',
  3: 'bad_request',
  4: undefined,
  5: 'unsupported_protocol_version',
};

function reject(code: EngineErrorCode, context: Record<string, unknown>): RequestRoute {
  return { kind: 'rejected', rejection: { code, context }, badInput: BAD_INPUT_BY_CODE[code] };
}

// Characters allowed in a header value (RFC 7230 field-vchar, SP, HTAB, obs-text).
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Decides where a request goes. `upgrade` is true for WebSocket upgrade
 * requests. Sessions are looked up as own properties only, so `sid=__proto__` and
 * friends are simply unknown.
 */
export function verifyRequest(
  req: EngineRequest,
  opts: ResolvedEngineOptions,
  sessions: { get(sid: string): EngineSocket | undefined },
  upgrade: boolean,
): RequestRoute {
  const query = req._query;
  const transport = query.transport as TransportName | undefined;
  if (transport === undefined || !opts.transports.includes(transport)) {
    return reject(EngineErrorCode.UNKNOWN_TRANSPORT, { transport });
  }
  const origin = req.headers.origin;
  if (origin !== undefined && INVALID_HEADER_CHAR.test(origin)) {
    return reject(EngineErrorCode.BAD_REQUEST, { name: 'INVALID_ORIGIN', origin });
  }
  if (upgrade && transport !== 'websocket') {
    return reject(EngineErrorCode.BAD_REQUEST, { name: 'TRANSPORT_MISMATCH', transport });
  }

  const sid = query.sid;
  if (sid !== undefined) {
    const session = sessions.get(sid);
    if (session === undefined) return reject(EngineErrorCode.UNKNOWN_SID, { sid });
    if (upgrade) {
      // An upgrade speaks the revision of the session's handshake
      // (CVE-2026-102599: another EIO, or none, is refused before any 101).
      if (query.EIO !== String(session.protocol)) return reject(EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION, { protocol: query.EIO });
      if (!opts.allowUpgrades) return reject(EngineErrorCode.BAD_REQUEST, { name: 'UPGRADES_DISABLED' });
      // A session already on (or moving to) WebSocket is refused after the
      // 101, by closing the new WebSocket, as the protocol asks.
      return { kind: 'session', session, transport };
    }
    const previousTransport = session.transport.name;
    if (transport !== 'polling' || previousTransport !== 'polling') {
      return reject(EngineErrorCode.BAD_REQUEST, { name: 'TRANSPORT_MISMATCH', transport, previousTransport });
    }
    // A poll or POST is read with the session's own framing whatever its EIO says, as in engine.io.
    return { kind: 'session', session, transport };
  }

  if (req.method !== 'GET') {
    return reject(EngineErrorCode.BAD_HANDSHAKE_METHOD, { method: req.method });
  }
  if (!upgrade && transport === 'websocket') {
    return reject(EngineErrorCode.BAD_REQUEST, { name: 'TRANSPORT_HANDSHAKE_ERROR' });
  }
  // As engine.io: a handshake without `EIO=4` is a v3 client (old ones sent
  // no EIO), let in only with allowEIO3.
  if (query.EIO !== '4' && !opts.allowEIO3) {
    return reject(EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION, { protocol: 3 });
  }
  return { kind: 'handshake', transport };
}
