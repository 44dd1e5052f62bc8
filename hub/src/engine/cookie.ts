// The optional sid cookie set on handshake responses, used by load balancers
// for sticky sessions.

/** Attributes of the sid cookie; `name` defaults to `io`. */
export interface CookieOptions {
  name?: string;
  /** Path attribute (default '/'); `false` leaves it out. */
  path?: string | false;
  domain?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: boolean | 'lax' | 'strict' | 'none' | 'Lax' | 'Strict' | 'None';
  /** Lifetime in seconds. */
  maxAge?: number;
  expires?: Date;
  partitioned?: boolean;
}

// RFC 6265 token characters; anything else in a name would let a caller
// inject attributes.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ATTRIBUTE_VALUE = /^[\x21-\x3a\x3c-\x7e]*$/; // printable, no ';'

/** Serialises a Set-Cookie value; throws on names or attributes that would break the header. */
export function serializeCookie(value: string, opts: CookieOptions): string {
  const name = opts.name ?? 'io';
  if (!TOKEN.test(name)) throw new TypeError(`invalid cookie name ${JSON.stringify(name)}`);
  let out = `${name}=${encodeURIComponent(value)}`;
  if (opts.maxAge !== undefined) {
    if (!Number.isFinite(opts.maxAge)) throw new TypeError('cookie maxAge must be a finite number');
    out += `; Max-Age=${Math.floor(opts.maxAge)}`;
  }
  if (opts.domain !== undefined) out += `; Domain=${checked(opts.domain)}`;
  if (opts.path !== undefined && opts.path !== false) out += `; Path=${checked(opts.path)}`;
  if (opts.expires !== undefined) out += `; Expires=${opts.expires.toUTCString()}`;
  if (opts.httpOnly) out += '; HttpOnly';
  if (opts.secure) out += '; Secure';
  if (opts.partitioned) out += '; Partitioned';
  const sameSite = opts.sameSite === true ? 'strict' : opts.sameSite;
  if (sameSite) {
    const lower = sameSite.toLowerCase();
    if (lower !== 'lax' && lower !== 'strict' && lower !== 'none') throw new TypeError(`invalid cookie sameSite ${sameSite}`);
    out += `; SameSite=${lower[0]!.toUpperCase()}${lower.slice(1)}`;
  }
  return out;
}

function checked(value: string): string {
  if (!ATTRIBUTE_VALUE.test(value)) throw new TypeError(`invalid cookie attribute ${JSON.stringify(value)}`);
  return value;
}
