// EngineServer options: Engine.IO's names and defaults, plus the limits the
// hub adds. Every limit has a safe default so a server built with `{}` is
// already protected.
import type { IncomingMessage } from 'node:http';
import type { PerMessageDeflateOptions } from 'ws';
import type { CorsOptions } from './cors.js';
import type { CookieOptions } from './cookie.js';
import type { TrustProxy } from './client-address.js';

export type TransportName = 'polling' | 'websocket';

/** Options accepted by `new EngineServer(opts)`. */
export interface EngineServerOptions {
  /** Milliseconds between two pings sent by the server. */
  pingInterval: number;
  /** Milliseconds the client has to answer a ping before the session closes. */
  pingTimeout: number;
  /** Milliseconds a started polling -> WebSocket upgrade may take. */
  upgradeTimeout: number;
  /** Largest POST body / WebSocket message accepted, in bytes. */
  maxHttpBufferSize: number;
  /** Transports clients may use. */
  transports: TransportName[];
  /** Whether polling sessions may upgrade to WebSocket. */
  allowUpgrades: boolean;
  /** Accept Engine.IO v3 clients (socket.io-client 2.x, many embedded libraries); refused with code 5 otherwise (default false). */
  allowEIO3: boolean;
  /** WebSocket permessage-deflate (see ws); off by default. */
  perMessageDeflate: boolean | PerMessageDeflateOptions;
  /** gzip/deflate of polling responses of at least `threshold` bytes. */
  httpCompression: boolean | HttpCompressionOptions;
  /** CORS headers for polling requests; none are sent when unset. */
  cors?: CorsOptions;
  /** Decides whether a handshake may proceed; refusal answers 403. */
  allowRequest?: (req: IncomingMessage, cb: (err: string | null | undefined, ok: boolean) => void) => void;
  /** Sets a cookie holding the sid on the handshake response (sticky sessions). */
  cookie: boolean | CookieOptions;
  /**
   * Bytes a session may have waiting to be written before it is closed as a
   * slow consumer (checked as each packet is queued, on what was waiting
   * before it). Default: twice maxHttpBufferSize, at least 1 MiB, so that a
   * message as large as a client may send, header and attachments, goes
   * through as in engine.io.
   */
  maxBufferedBytes: number;
  /** Most WebSocket fragments one message may be split into (flood guard). */
  maxWebSocketFragments: number;
  /** Most unparsed network chunks a WebSocket may hold (flood guard). */
  maxWebSocketBufferedChunks: number;
  /** Most open sessions; further handshakes get 503 (0: no limit, the default). */
  maxSessions: number;
  /** Most open sessions from one client address; further handshakes get 429 (0: no limit, the default). */
  maxSessionsPerAddress: number;
  /** Handshakes per second one client address may sustain; above it 429 (0: no limit, the default). */
  handshakeRatePerAddress: number;
  /** Handshakes one client address may make in a burst before the rate applies (default 20). */
  handshakeBurstPerAddress: number;
  /**
   * Most WebSocket upgrades taken in one event-loop lap; more wait for later
   * laps, so that a reconnect storm does not hold timers and heartbeats for
   * seconds (default 256; 0: every upgrade at once).
   */
  upgradesPerTurn: number;
  /** Proxies whose X-Forwarded-For / -Proto to believe (fastify's trustProxy; default false). */
  trustProxy: TrustProxy;
  /** Custom session id generator. */
  generateId?: (req: IncomingMessage) => string | PromiseLike<string>;
  /** A message sent right after the open packet. */
  initialPacket?: string | Uint8Array;
}

export interface HttpCompressionOptions {
  /** Smallest response, in bytes, worth compressing. */
  threshold?: number;
  /** zlib compression level. */
  level?: number;
}

/** Options with every default applied and compound options normalised. */
export interface ResolvedEngineOptions extends EngineServerOptions {
  httpCompression: false | (HttpCompressionOptions & { threshold: number });
  perMessageDeflate: false | PerMessageDeflateOptions;
  cookie: false | CookieOptions;
}

const DEFAULTS = {
  pingInterval: 25_000,
  pingTimeout: 20_000,
  upgradeTimeout: 10_000,
  maxHttpBufferSize: 1e6,
  transports: ['polling', 'websocket'] as TransportName[],
  allowUpgrades: true,
  allowEIO3: false,
  perMessageDeflate: false,
  httpCompression: true,
  cookie: false,
  // Real clients fragment rarely and coarsely (a 1 MB message in 1 KiB frames
  // is under 1000 fragments); a flood of tiny fragments is stopped long before
  // the per-fragment bookkeeping matters.
  maxWebSocketFragments: 2048,
  maxWebSocketBufferedChunks: 4096,
  // Off by default, as in engine.io, whose users may count on any number of
  // sessions; the hub sets its own safe values.
  maxSessions: 0,
  maxSessionsPerAddress: 0,
  handshakeRatePerAddress: 0,
  handshakeBurstPerAddress: 20,
  upgradesPerTurn: 256,
  trustProxy: false,
} satisfies Partial<EngineServerOptions>;

/** Applies defaults and normalises compound options. */
export function resolveOptions(opts: Partial<EngineServerOptions> = {}): ResolvedEngineOptions {
  const merged = { ...DEFAULTS, ...stripUndefined(opts) } as EngineServerOptions;
  merged.maxBufferedBytes ??= Math.max(1024 * 1024, 2 * merged.maxHttpBufferSize);
  const compression = merged.httpCompression;
  const deflate = merged.perMessageDeflate;
  const cookie = merged.cookie;
  return {
    ...merged,
    transports: [...merged.transports],
    httpCompression: compression === false ? false : { threshold: 1024, ...(compression === true ? {} : compression) },
    perMessageDeflate: deflate === false ? false : { threshold: 1024, ...(deflate === true ? {} : deflate) },
    cookie: cookie === false ? false : { name: 'io', path: '/', httpOnly: true, sameSite: 'lax', ...(cookie === true ? {} : cookie) },
  };
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(obj) as Array<keyof T>) {
    if (obj[key] !== undefined) out[key] = obj[key];
  }
  return out;
}
