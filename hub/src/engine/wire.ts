// Which Engine.IO protocol revision a request speaks, and whether its client
// takes binary. v4 is the default; v3 (allowEIO3) differs in binary framing,
// polling payloads and the heartbeat direction (see protocol/src/engine/packet-v3.ts).
import type { IncomingMessage } from 'node:http';
import type { EngineRequest } from './verify.js';

/** The protocol revision of a session and how its transport encodes binary. */
export interface Wire {
  readonly protocol: 3 | 4;
  /** v3 only: false when the client asked for base64 (`b64=1`), e.g. JSONP or old browsers. */
  readonly supportsBinary: boolean;
}

/** The v4 wire: binary is raw over WebSocket and base64 inside polling payloads. */
export const WIRE_V4: Wire = Object.freeze({ protocol: 4, supportsBinary: true });
const WIRE_V3_BINARY: Wire = Object.freeze({ protocol: 3, supportsBinary: true });
const WIRE_V3_BASE64: Wire = Object.freeze({ protocol: 3, supportsBinary: false });

/** The wire of a verified handshake (its `EIO` and `b64` query parameters; no `EIO=4` is v3, as in engine.io). */
export function wireOf(req: IncomingMessage): Wire {
  const query = (req as EngineRequest)._query;
  if (query?.EIO === '4') return WIRE_V4;
  return query.b64 === undefined && query.j === undefined ? WIRE_V3_BINARY : WIRE_V3_BASE64;
}
