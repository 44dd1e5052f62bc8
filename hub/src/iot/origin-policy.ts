// Which browser pages may use the console session cookie. SameSite=Strict does
// not stop another port of the same host (same site, other origin), and a
// WebSocket is never subject to CORS, so the hub checks Origin itself wherever
// the cookie is accepted: /api (cookie-authenticated) and the /console handshake.
import type { IncomingHttpHeaders } from 'node:http';

/** The origins allowed besides the hub's own, as configured (`allowedOrigins`). */
export type AllowedOrigins = ReadonlySet<string>;

/**
 * Whether a request carrying the session cookie comes from a page allowed to use it:
 * its Origin names the hub itself (same host and port as the Host header) or an allowed origin.
 * Without an Origin header (non-browser clients, same-origin GETs), a browser's
 * Sec-Fetch-Site must not say another origin, and a state-changing request is refused
 * (browsers always send Origin on those).
 */
export function cookieOriginAllowed(headers: IncomingHttpHeaders, allowed: AllowedOrigins, stateChanging: boolean): boolean {
  const origin = headers.origin;
  if (typeof origin === 'string') {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // includes "null": sandboxed frames, file: pages
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (typeof headers.host === 'string' && url.host === headers.host.toLowerCase()) return true;
    return allowed.has(url.origin);
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  return !stateChanging;
}
