// Browser side of the client's platform switch (see platform.ts): fetch for
// polling, the global WebSocket, the browser's own cookie store.
import type { BinaryType } from './options.js';
import type { CookieStore, TransportOptions } from './transport.js';
import type { HttpOutcome, WebSocketFactory, WebSocketLike } from './platform.js';

export type { HttpOutcome, WebSocketFactory, WebSocketLike } from './platform.js';

/** Received binary as ArrayBuffer, as socket.io-client does in browsers. */
export const DEFAULT_BINARY_TYPE: BinaryType = 'arraybuffer';

/** Node only: a page has no process to keep alive. */
export function unrefIf(): void {}

/** Node only: a browser's WebSocket.send takes no options. */
export function frameOptions(): undefined {
  return undefined;
}

/** The browser keeps cookies itself. */
export function createCookieStore(): CookieStore | undefined {
  return undefined;
}

/** One polling request: GET when `body` is undefined, POST otherwise. */
export async function httpRequestText(
  uri: string,
  body: string | undefined,
  opts: TransportOptions,
  signal: AbortSignal,
): Promise<HttpOutcome> {
  const headers = new Headers(opts.extraHeaders);
  if (body !== undefined) headers.set('content-type', 'text/plain;charset=UTF-8');
  const response = await fetch(uri, {
    method: body === undefined ? 'GET' : 'POST',
    body,
    headers,
    // 'same-origin' rather than 'omit': like XHR without withCredentials,
    // a same-origin page keeps its cookies (sticky sessions).
    credentials: opts.withCredentials ? 'include' : 'same-origin',
    cache: 'no-store',
    signal,
  });
  return { status: response.status, text: await response.text(), response };
}

/** The global WebSocket. */
export async function webSocketFactory(): Promise<WebSocketFactory> {
  const Native = (globalThis as { WebSocket?: new (url: string, protocols?: string | string[]) => WebSocketLike })
    .WebSocket;
  if (!Native) throw new Error('no WebSocket');
  return {
    create: (uri, opts) => (opts.protocols === undefined ? new Native(uri) : new Native(uri, opts.protocols)),
    nativeOptions: false,
  };
}
