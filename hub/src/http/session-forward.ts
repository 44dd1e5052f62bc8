// Polling without affinity: a cluster node's Engine.IO session ids start with
// its node id (`node-1~…`), and a polling request that reaches another node
// is forwarded there, so a plain round-robin balancer works. Only requests
// for the Engine.IO path carrying a session id of a live node that gave its
// URL are forwarded; anything else goes on as if this were not here. A
// WebSocket upgrade is not forwarded: it fails on the wrong node and the
// client stays on polling (socket.io's clients do that by themselves).
import { request as httpRequest, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { LabelledCounter } from '../iot/metrics.js';

/** Separates the node id from the random part of a session id. */
const SEPARATOR = '~';

/** A session id generator for `node`: its id, the separator, 20 random characters. */
export function nodeSessionIds(node: string): () => string {
  return () => `${node}${SEPARATOR}${randomBytes(15).toString('base64url')}`;
}

/** The node a session id names, if it is one of ours. */
export function nodeOfSession(sid: string): string | undefined {
  const at = sid.lastIndexOf(SEPARATOR);
  return at > 0 ? sid.slice(0, at) : undefined;
}

/** How forwarding is set up. */
export interface ForwardOptions {
  /** The Engine.IO path (`/socket.io/`). */
  path: string;
  /** This node's id. */
  self: string;
  /** The URL of a live node, from the store. */
  urlOf(node: string): Promise<string | undefined>;
  /** Longest a forwarded request may take (a long poll waits up to pingInterval). */
  timeoutMs: number;
  /** Counts forwards and their failures (`polling|forwarded`, `polling|owner_unreachable`). */
  counter: LabelledCounter;
}

/** Wraps `server`'s request listeners (after the Engine.IO server attached) to forward other nodes' polling requests. */
export function forwardForeignSessions(server: HttpServer, opts: ForwardOptions): void {
  const previous = server.listeners('request').slice() as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  const pass = (req: IncomingMessage, res: ServerResponse) => {
    for (const listener of previous) listener.call(server, req, res);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const node = foreignNode(req.url, opts);
    if (node === undefined) return pass(req, res);
    // Nothing reads the body yet: it stays buffered while the owner's URL is looked up (usually known already).
    opts.urlOf(node).then(
      (target) => (target === undefined ? pass(req, res) : forward(req, res, target, opts)),
      () => pass(req, res),
    );
  });
}

/** The other node a request's session id names, if any. */
function foreignNode(url: string | undefined, opts: ForwardOptions): string | undefined {
  if (url === undefined || !url.startsWith(opts.path)) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const sid = new URLSearchParams(url.slice(q + 1)).get('sid');
  const node = sid === null ? undefined : nodeOfSession(sid);
  return node === undefined || node === opts.self ? undefined : node;
}

function forward(req: IncomingMessage, res: ServerResponse, target: string, opts: ForwardOptions): void {
  const to = new URL(req.url!, target);
  const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
  const upstream = httpRequest(
    to,
    { method: req.method, headers: { ...req.headers, host: to.host, 'x-forwarded-for': forwardedFor }, timeout: opts.timeoutMs },
    (answer) => {
      opts.counter.inc('polling|forwarded');
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  const fail = () => {
    opts.counter.inc('polling|owner_unreachable');
    upstream.destroy();
    // As for any session this node does not know: the client starts a new one.
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 1, message: 'Session ID unknown' }));
    else res.destroy();
  };
  upstream.on('timeout', fail);
  upstream.on('error', fail);
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}
