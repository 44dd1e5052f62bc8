// Engine.IO client options, with engine.io-client's names and defaults.
import { DEFAULT_BINARY_TYPE } from './platform.js';

/** How received binary data is handed to the application. */
export type BinaryType = 'nodebuffer' | 'arraybuffer';

/** The transports this client implements. */
export type TransportName = 'polling' | 'websocket';

/** Options of the Engine.IO connection (also accepted by io() and Manager). */
export interface EngineOptions {
  /** Engine.IO path on the server; the Manager defaults it to '/socket.io'. Default '/engine.io'. */
  path: string;
  /** Append a '/' to `path`. Default true. */
  addTrailingSlash: boolean;
  /** Extra query parameters of every request. */
  query: Record<string, string | number | boolean> | string;
  /** Transports to use, in order; the first opens the session. Default ['polling', 'websocket']. */
  transports: TransportName[] | readonly TransportName[];
  /** Try to upgrade from polling to WebSocket. Default true. */
  upgrade: boolean;
  /** Open with WebSocket directly when a previous connection in this process upgraded. Default false. */
  rememberUpgrade: boolean;
  /** When the first transport fails while opening, try the next one. Default false. */
  tryAllTransports: boolean;
  /** Add a cache-busting parameter: polling unless false, WebSocket only when true. */
  timestampRequests: boolean | undefined;
  /** Name of the cache-busting parameter. Default 't'. */
  timestampParam: string;
  /** Headers sent with every request (Node; browsers only for polling). */
  extraHeaders: Record<string, string>;
  /** Browsers: send cookies cross-origin. Node: keep a cookie jar (sticky sessions). Default false. */
  withCredentials: boolean;
  /** Passed to `ws` in Node; false disables compression. Default { threshold: 1024 }. */
  perMessageDeflate: { threshold: number } | false;
  /** WebSocket sub-protocols. */
  protocols: string | string[] | undefined;
  /** Per-transport option overrides. */
  transportOptions: Partial<Record<TransportName, Partial<EngineOptions>>>;
  /** Node: let the process exit while only this connection is open. Default false. */
  autoUnref: boolean;
  /** Set the client's own timers with the setTimeout found when it was loaded, not a fake clock installed since. Default false. */
  useNativeTimers?: boolean;
  /** Received binary as Buffer ('nodebuffer', Node default) or ArrayBuffer (browser default). */
  binaryType: BinaryType;
  /** Use TLS; derived from the URL when one is given. */
  secure: boolean;
  /** Server host name; derived from the URL when one is given. */
  hostname: string;
  /** Server port; derived from the URL when one is given. */
  port: string | number;
  /** Other options are handed to `ws` in Node (agent, ca, cert, rejectUnauthorized...). */
  [wsOption: string]: unknown;
}

export const DEFAULT_TRANSPORTS: readonly TransportName[] = ['polling', 'websocket'];

/** Applies defaults; returns a new object. */
export function withEngineDefaults(opts: Partial<EngineOptions>): EngineOptions {
  const merged = {
    path: '/engine.io',
    addTrailingSlash: true,
    query: {},
    transports: DEFAULT_TRANSPORTS,
    upgrade: true,
    rememberUpgrade: false,
    tryAllTransports: false,
    timestampRequests: undefined,
    timestampParam: 't',
    extraHeaders: {},
    withCredentials: false,
    perMessageDeflate: { threshold: 1024 },
    protocols: undefined,
    transportOptions: {},
    autoUnref: false,
    binaryType: DEFAULT_BINARY_TYPE,
    secure: false,
    hostname: 'localhost',
    port: '',
    ...stripUndefined(opts),
  } as EngineOptions;
  merged.path = merged.path.replace(/\/$/, '') + (merged.addTrailingSlash ? '/' : '');
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] !== undefined) out[key] = o[key];
  return out;
}

let lastStamp = '';
let stampSeq = 0;

/** A short cache-busting value, unique within this process. */
export function timestamp(): string {
  const now = Date.now().toString(36);
  if (now === lastStamp) return `${now}.${(++stampSeq).toString(36)}`;
  lastStamp = now;
  stampSeq = 0;
  return now;
}
