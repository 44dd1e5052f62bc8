// Engine.IO's request errors and how they are written: JSON over HTTP, a
// plain HTTP response before any 101 on a failed WebSocket upgrade.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Error codes of the Engine.IO handshake and request checks. */
export const EngineErrorCode = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const;

export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

/** The message each code carries in the error body. */
export const ENGINE_ERROR_MESSAGES: Readonly<Record<EngineErrorCode, string>> = {
  0: 'Transport unknown',
  1: 'Session ID unknown',
  2: 'Bad handshake method',
  3: 'Bad request',
  4: 'Forbidden',
  5: 'Unsupported protocol version',
};

/** A refused request: code, the message to send, and details for `connection_error` listeners. */
export interface RequestRejection {
  code: EngineErrorCode;
  message?: string;
  context?: Record<string, unknown>;
  /** HTTP status when it is not the code's own (429 and 503 for limits). */
  status?: number;
  /** Extra response headers (Retry-After). */
  headers?: Record<string, string>;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' };

function statusOf(rejection: RequestRejection): number {
  return rejection.status ?? (rejection.code === EngineErrorCode.FORBIDDEN ? 403 : 400);
}

function body(rejection: RequestRejection): string {
  return JSON.stringify({ code: rejection.code, message: rejection.message ?? ENGINE_ERROR_MESSAGES[rejection.code] });
}

/**
 * Answers an HTTP request with the Engine.IO error JSON (403 for Forbidden,
 * 400 otherwise); `closeConnection` when the request body must not be read.
 */
export function writeHttpError(res: ServerResponse, rejection: RequestRejection, closeConnection = false): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = body(rejection);
  res.writeHead(statusOf(rejection), {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...rejection.headers,
    ...(closeConnection ? { Connection: 'close' } : {}),
  });
  res.end(text);
}

/**
 * Refuses a WebSocket upgrade before anything else was written: a plain
 * `400 Bad Request` (or the rejection's status), then the socket is destroyed.
 */
export function writeUpgradeError(socket: Duplex, rejection: RequestRejection): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  const text = body(rejection);
  // end() flushes the answer before the FIN; the timer bounds how long a
  // peer that does not read can keep the socket.
  const timer = setTimeout(() => socket.destroy(), 1000);
  timer.unref?.();
  // engine.io answers every refused upgrade with 400, Forbidden included; only limits say more.
  const status = rejection.status ?? 400;
  let extra = '';
  for (const [name, value] of Object.entries(rejection.headers ?? {})) extra += `${name}: ${value}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      extra +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      '\r\n' +
      text,
    () => {
      clearTimeout(timer);
      socket.destroy();
    },
  );
}
