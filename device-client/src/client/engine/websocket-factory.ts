// Where the WebSocket implementation comes from. In Node the `ws` package is
// used (it can send headers, cookies and TLS options, which the standard API
// cannot); it is loaded with a dynamic import whose specifier is not a
// literal, so browser bundlers neither include nor try to resolve it.
// Elsewhere the platform's global WebSocket is used.
import { isNode } from './options.js';

/** The part of the WebSocket API the transport uses; `ws` and browsers both provide it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string | Uint8Array, options?: { compress?: boolean }): void;
  close(code?: number, reason?: string): void;
}

type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: object) => WebSocketLike;

let nodeWebSocket: Promise<WebSocketConstructor | undefined> | undefined;

function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

async function loadWs(): Promise<WebSocketConstructor | undefined> {
  const specifier = 'ws';
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as {
      WebSocket?: WebSocketConstructor;
      default?: WebSocketConstructor;
    };
    return mod.WebSocket ?? mod.default;
  } catch {
    return undefined;
  }
}

/** Whether the WebSocket in use accepts a third options argument (headers, TLS...). */
export interface WebSocketFactoryResult {
  create(url: string, protocols: string | string[] | undefined, options: object): WebSocketLike;
  acceptsOptions: boolean;
}

/** Resolves the WebSocket implementation for this platform. */
export async function webSocketFactory(): Promise<WebSocketFactoryResult> {
  if (isNode) {
    nodeWebSocket ??= loadWs();
    const Ws = await nodeWebSocket;
    if (Ws) return { create: (url, protocols, options) => new Ws(url, protocols, options), acceptsOptions: true };
  }
  const Native = globalWebSocket();
  if (!Native) throw new Error('no WebSocket implementation available');
  return {
    create: (url, protocols) => (protocols === undefined ? new Native(url) : new Native(url, protocols)),
    acceptsOptions: false,
  };
}
