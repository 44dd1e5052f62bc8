// Splits the URL given to io() into what the Manager cache and the Engine.IO
// connection need: the server (scheme, host, port), the namespace (the URL's
// path) and the query.

/** A URL as io() understands it. */
export interface ParsedUrl {
  /** The full URL, absolute. */
  source: string;
  /** 'http', 'https', 'ws' or 'wss'. */
  protocol: string;
  /** Host name; IPv6 addresses keep their brackets. */
  hostname: string;
  /** Port, always present ('80' / '443' when the URL has none). */
  port: string;
  /** Whether TLS is used (https or wss). */
  secure: boolean;
  /** The URL's path: the Socket.IO namespace. */
  path: string;
  /** The query string without '?', '' when absent. */
  query: string;
  /** The query as key/value pairs. */
  queryKey: Record<string, string>;
  /** Manager cache key: one Engine.IO connection per server and engine path. */
  id: string;
}

interface LocationLike {
  protocol: string;
  host: string;
  href: string;
}

function currentLocation(): LocationLike | undefined {
  const loc = (globalThis as { location?: LocationLike }).location;
  return loc && typeof loc.protocol === 'string' && typeof loc.host === 'string' ? loc : undefined;
}

/**
 * Parses `uri` (absolute, protocol-relative, host-only, or a path resolved
 * against the page location in a browser). `enginePath` joins the cache key,
 * so two servers on one host with different paths get different Managers.
 */
export function parseUrl(uri: string | undefined, enginePath = ''): ParsedUrl {
  const loc = currentLocation();
  let text = uri ?? (loc ? `${loc.protocol}//${loc.host}` : undefined);
  if (text === undefined) throw new TypeError('io(): a URL is required outside a browser');
  if (text.startsWith('//')) {
    text = (loc?.protocol ?? 'https:') + text;
  } else if (text.startsWith('/')) {
    if (!loc) throw new TypeError(`io(): relative URL "${text}" needs a page location`);
    text = `${loc.protocol}//${loc.host}${text}`;
  } else if (!/^(https?|wss?):\/\//i.test(text)) {
    text = `${loc?.protocol ?? 'https:'}//${text}`;
  }
  const url = new URL(text);
  const protocol = url.protocol.slice(0, -1).toLowerCase();
  const secure = protocol === 'https' || protocol === 'wss';
  const port = url.port || (secure ? '443' : '80');
  return {
    source: url.href,
    protocol,
    hostname: url.hostname,
    port,
    secure,
    path: url.pathname || '/',
    query: url.search.slice(1),
    queryKey: decodeQuery(url.search),
    id: `${protocol}://${url.hostname}:${port}${enginePath}`,
  };
}

/** Encodes a query object as `a=1&b=2`. */
export function encodeQuery(query: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (value === undefined) continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.join('&');
}

/** Decodes `a=1&b=2` (or `?a=1&b=2`) into an object; of a repeated key the last value counts. */
export function decodeQuery(query: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(query));
}
