// Limits on the HTTP server itself, below any Engine.IO session: TCP
// connections in total and per address, and how long a client may take to
// send a request's headers and body. They protect every route on the server
// (REST, /healthz, Engine.IO) from clients that open connections and then say
// nothing, or say it one byte at a time. Not applied by EngineServer.attach:
// the http server belongs to the application, which opts in.
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { normalizeAddress, type TrustFunction } from './client-address.js';
import type { EngineMetrics } from './metrics.js';

/** Limits of guardHttpServer; 0 leaves Node's behaviour for that one. */
export interface HttpGuardOptions {
  /** Most open TCP connections, on every address the server is handed connections from; further ones are closed at once. */
  maxConnections: number;
  /** Most open TCP connections from one peer address; trusted proxies are exempt. */
  maxConnectionsPerAddress: number;
  /** Milliseconds a client has to send a request's headers. */
  headersTimeoutMs: number;
  /** Milliseconds a client has to send a whole request, body included (slow bodies). */
  requestTimeoutMs: number;
  /** Milliseconds an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
  /** Milliseconds between two checks of the header and request deadlines (Node checks every 30 s by default). */
  checkIntervalMs: number;
}

/** Refusal reasons counted by the guard, in EngineMetrics.refused. */
export type HttpGuardRefusal = 'max_connections' | 'max_connections_per_address' | 'silent_connection' | 'request_timeout' | 'header_overflow' | 'bad_http';

function reasonOf(code: string | undefined): HttpGuardRefusal | undefined {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (code === 'HPE_HEADER_OVERFLOW') return 'header_overflow';
  if (code?.startsWith('HPE_')) return 'bad_http';
  // ECONNRESET and friends are a peer going away, not something refused.
  return undefined;
}

const CLIENT_ERROR_RESPONSES: Record<string, string> = {
  request_timeout: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
  header_overflow: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
};

/** Applies `opts` to `server` and counts every refusal in `metrics`. Call before listen(). */
export function guardHttpServer(server: HttpServer, opts: HttpGuardOptions, metrics: EngineMetrics, trust: TrustFunction): void {
  if (opts.maxConnections > 0) limitTotal(server, opts.maxConnections, metrics);
  if (opts.requestTimeoutMs > 0) server.requestTimeout = opts.requestTimeoutMs;
  // Node requires headersTimeout <= requestTimeout.
  if (opts.headersTimeoutMs > 0) server.headersTimeout = server.requestTimeout > 0 ? Math.min(opts.headersTimeoutMs, server.requestTimeout) : opts.headersTimeoutMs;
  if (opts.keepAliveTimeoutMs > 0) server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  // Read by Node when the server starts listening.
  if (opts.checkIntervalMs > 0) (server as HttpServer & { connectionsCheckingInterval: number }).connectionsCheckingInterval = opts.checkIntervalMs;

  if (opts.maxConnectionsPerAddress > 0) limitPerAddress(server, opts.maxConnectionsPerAddress, metrics, trust);
  if (opts.headersTimeoutMs > 0) closeSilentConnections(server, opts.headersTimeoutMs, metrics);

  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    const reason = reasonOf(err.code);
    if (reason) metrics.countRefusal(reason);
    // Another listener (fastify's) answers; alone, we must do what Node would have done.
    if (server.listenerCount('clientError') > 1) return;
    const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !pending?.headersSent) socket.write(CLIENT_ERROR_RESPONSES[reason ?? ''] ?? 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
}

const AWAITING_FIRST_REQUEST = Symbol('sitehub.awaitingFirstRequest');
type Watched = Socket & { [AWAITING_FIRST_REQUEST]?: boolean };

/**
 * Node's header deadline starts with a request's first byte: a connection
 * that never sends one is never checked, and would be held until the peer
 * goes away. Until its first request arrives, a connection gets the header
 * timeout as an inactivity timeout; from then on Node's own deadlines and
 * keep-alive timeout take over. Over TLS the clock starts once the TLS
 * handshake is done (the TLS server's handshakeTimeout bounds the handshake)
 * and watches the TLS socket, the one the HTTP parser reads.
 */
function closeSilentConnections(server: HttpServer, timeoutMs: number, metrics: EngineMetrics): void {
  const connectionEvent = server instanceof TlsServer ? 'secureConnection' : 'connection';
  server.prependListener(connectionEvent, (socket: Watched) => {
    socket[AWAITING_FIRST_REQUEST] = true;
    socket.setTimeout(timeoutMs);
    socket.once('timeout', () => {
      if (!socket[AWAITING_FIRST_REQUEST]) return;
      metrics.countRefusal('silent_connection');
      socket.destroy();
    });
  });
  const firstRequest = (req: { socket: Watched }) => {
    const socket = req.socket;
    if (socket[AWAITING_FIRST_REQUEST]) {
      socket[AWAITING_FIRST_REQUEST] = false;
      socket.setTimeout(0);
    }
  };
  server.prependListener('request', firstRequest);
  server.prependListener('upgrade', firstRequest);
}

/**
 * Counts 'connection' events rather than setting server.maxConnections: Node
 * applies that property only to connections its own listener accepted, and
 * the hub hands the connections of its other addresses (::1 beside
 * 127.0.0.1, http/listen.ts) to this server by emitting 'connection'.
 */
function limitTotal(server: HttpServer, max: number, metrics: EngineMetrics): void {
  let open = 0;
  server.prependListener('connection', (socket: Socket) => {
    if (open >= max) {
      metrics.countRefusal('max_connections');
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    open++;
    socket.once('close', () => open--);
  });
}

function limitPerAddress(server: HttpServer, max: number, metrics: EngineMetrics, trust: TrustFunction): void {
  const open = new Map<string, number>();
  // Runs before Node's own connection listener, so a refused socket never reaches the HTTP parser.
  server.prependListener('connection', (socket: Socket) => {
    const peer = socket.remoteAddress;
    // Behind a proxy every connection comes from the proxy: its clients are told apart per session instead.
    if (peer === undefined || trust(peer, 0)) return;
    const address = normalizeAddress(peer);
    const count = open.get(address) ?? 0;
    if (count >= max) {
      metrics.countRefusal('max_connections_per_address');
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
