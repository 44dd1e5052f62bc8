import type { IncomingMessage } from 'node:http';
import type { EngineRequest } from '../engine/index.js';
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
    // The engine's parse of the request (it parses every request it takes), the same object, as socket.io.
    query: (request as EngineRequest)._query,
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
