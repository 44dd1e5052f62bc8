// Who the client is: the peer of the TCP connection, or, behind a trusted
// proxy, the address the proxy reports in X-Forwarded-For. Computed once per
// request and kept on it, so the per-address limits, `remoteAddress` and
// `socket.handshake.address` all see the same answer.
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/**
 * Which proxies to believe, with fastify's semantics: false (none, the
 * default), true (every hop), or the addresses / CIDR ranges of the proxies
 * (an array, or one comma-separated string; `loopback`, `linklocal` and
 * `uniquelocal` name the usual ranges). A hop count is not accepted: it cannot
 * tell a proxy from a client that reached the hub directly.
 */
export type TrustProxy = boolean | string | readonly string[];

/** Decides whether the hop `i` away (0 = the TCP peer) with `address` is a trusted proxy. */
export type TrustFunction = (address: string, hop: number) => boolean;

const trustNone: TrustFunction = () => false;
const trustAll: TrustFunction = () => true;

/** Turns a TrustProxy setting into the function proxy-addr walks the chain with. */
export function compileTrust(trust: TrustProxy | undefined): TrustFunction {
  if (trust === undefined || trust === false) return trustNone;
  if (trust === true) return trustAll;
  const list = typeof trust === 'string' ? trust.split(',') : [...trust];
  const entries = list.map((entry) => entry.trim()).filter((entry) => entry !== '');
  // An empty list trusts nobody; proxy-addr throws on malformed entries, which is what we want at start-up.
  return entries.length === 0 ? trustNone : proxyAddr.compile(entries);
}

const ADDRESS = Symbol('sitehub.clientAddress');
type WithAddress = IncomingMessage & { [ADDRESS]?: string };

/** IPv4 peers of a dual-stack socket appear as ::ffff:a.b.c.d; one client, one key. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The client's address for `req` under `trust`, computed on first use and then remembered on the request. */
export function clientAddress(req: IncomingMessage, trust: TrustFunction): string {
  const carrier = req as WithAddress;
  let address = carrier[ADDRESS];
  if (address === undefined) {
    const peer = req.socket?.remoteAddress;
    // A socket already closed has no address; it is nobody in particular, and proxy-addr must not see it.
    address = peer === undefined ? '' : trust === trustNone ? peer : proxyAddr(req, trust);
    carrier[ADDRESS] = address;
  }
  return address;
}

/** Whether the request arrived over TLS, counting a trusted proxy's X-Forwarded-Proto. */
export function isSecure(req: IncomingMessage, trust: TrustFunction): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted === true) return true;
  const peer = req.socket?.remoteAddress;
  if (peer === undefined || !trust(peer, 0)) return false;
  const header = req.headers['x-forwarded-proto'];
  const value = Array.isArray(header) ? header[header.length - 1] : header;
  // The proxy closest to us appends last; that is the one we trust.
  const last = value?.split(',').pop()?.trim().toLowerCase();
  return last === 'https' || last === 'wss';
}
