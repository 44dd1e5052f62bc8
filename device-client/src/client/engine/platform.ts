// Node side of the client's platform switch. Bundlers building for browsers
// take platform.browser.ts instead (package.json "browser" field), so none of
// this reaches the browser bundle. Polling goes over node:http / node:https
// rather than fetch: fetch in Node loads undici, which costs an idle device
// more memory than the connection itself.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CookieJar } from './cookie-jar.js';
import type { BinaryType } from './options.js';
import type { CookieStore, TransportOptions } from './transport.js';

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

/** Opens WebSockets; `nativeOptions` when it honours headers, TLS options and 'nodebuffer'. */
export interface WebSocketFactory {
  create(uri: string, opts: TransportOptions): WebSocketLike;
  nativeOptions: boolean;
}

/** The answer to one polling request. */
export interface HttpOutcome {
  status: number;
  text: string;
  /** The platform's response object, handed to errors as their context. */
  response: unknown;
}

/** Received binary as Buffer, as socket.io-client does in Node. */
export const DEFAULT_BINARY_TYPE: BinaryType = 'nodebuffer';

/** Node has no cookie store: with `withCredentials` the connection keeps its own (sticky sessions). */
export function createCookieStore(withCredentials: boolean): CookieStore | undefined {
  return withCredentials ? new CookieJar() : undefined;
}

/** TLS and socket options of node:https and `ws` that the client passes through. */
const TLS_OPTION_NAMES = [
  'agent',
  'pfx',
  'key',
  'passphrase',
  'cert',
  'ca',
  'ciphers',
  'rejectUnauthorized',
  'localAddress',
  'family',
  'checkServerIdentity',
] as const;

/** With `autoUnref`, lets the process exit while only `handle` (a timer or a socket) is left. */
export function unrefIf(opts: { autoUnref?: boolean }, handle: unknown): void {
  if (opts.autoUnref) (handle as { unref?(): void } | undefined)?.unref?.();
}

/**
 * `ws`'s send options for one frame: no compression when the message asked
 * for none or is under perMessageDeflate's threshold.
 */
export function frameOptions(
  frame: string | Uint8Array,
  message: { compress?: boolean } | undefined,
  opts: TransportOptions,
): { compress?: boolean } {
  const options: { compress?: boolean } = {};
  if (message?.compress === false) options.compress = false;
  const deflate = opts.perMessageDeflate;
  if (deflate && (typeof frame === 'string' ? frame.length : frame.byteLength) < deflate.threshold) {
    options.compress = false;
  }
  return options;
}

/** Options of `ws` only. */
const WS_ONLY_OPTION_NAMES = ['perMessageDeflate', 'protocolVersion', 'origin', 'maxPayload'] as const;

function pick(opts: TransportOptions, names: readonly string[], into: Record<string, unknown>): Record<string, unknown> {
  for (const name of names) if (opts[name] !== undefined) into[name] = opts[name];
  return into;
}

/** extraHeaders plus the cookie jar's cookies. */
function headersOf(opts: TransportOptions): Record<string, string> {
  const headers: Record<string, string> = { ...opts.extraHeaders };
  const cookie = opts.cookieJar?.header();
  if (cookie) headers.cookie = cookie;
  return headers;
}

/** One polling request: GET when `body` is undefined, POST otherwise. */
export function httpRequestText(
  uri: string,
  body: string | undefined,
  opts: TransportOptions,
  signal: AbortSignal,
): Promise<HttpOutcome> {
  return new Promise((resolve, reject) => {
    const headers = headersOf(opts);
    if (body !== undefined) {
      headers['content-type'] = 'text/plain;charset=UTF-8';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const options = pick(opts, TLS_OPTION_NAMES, { method: body === undefined ? 'GET' : 'POST', headers, signal });
    const onResponse = (res: IncomingMessage): void => {
      opts.cookieJar?.parse(res.headers['set-cookie'] ?? []);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, response: res }));
      res.on('error', reject);
    };
    const req = (opts.secure ? httpsRequest : httpRequest)(uri, options, onResponse);
    // With autoUnref a pending poll must not keep the process alive either.
    if (opts.autoUnref) req.once('socket', (socket) => socket.unref());
    req.on('error', reject);
    req.end(body);
  });
}

type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: object) => WebSocketLike;

let wsPackage: Promise<WebSocketConstructor | undefined> | undefined;

async function loadWs(): Promise<WebSocketConstructor | undefined> {
  try {
    const mod = (await import('ws')) as unknown as { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor };
    return mod.WebSocket ?? mod.default;
  } catch {
    return undefined;
  }
}

/** `ws` (it can send headers, cookies and TLS options), else the global WebSocket. */
export async function webSocketFactory(): Promise<WebSocketFactory> {
  wsPackage ??= loadWs();
  const Ws = await wsPackage;
  if (Ws) {
    return {
      create(uri, opts) {
        const options = pick(opts, [...TLS_OPTION_NAMES, ...WS_ONLY_OPTION_NAMES], {});
        const headers = headersOf(opts);
        if (Object.keys(headers).length) options.headers = headers;
        return new Ws(uri, opts.protocols, options);
      },
      nativeOptions: true,
    };
  }
  return globalWebSocketFactory();
}

/** The platform's standard WebSocket: no headers, no TLS options. */
export function globalWebSocketFactory(): WebSocketFactory {
  const Native = (globalThis as { WebSocket?: new (url: string, protocols?: string | string[]) => WebSocketLike })
    .WebSocket;
  if (!Native) throw new Error('no WebSocket implementation available');
  return {
    create: (uri, opts) => (opts.protocols === undefined ? new Native(uri) : new Native(uri, opts.protocols)),
    nativeOptions: false,
  };
}
