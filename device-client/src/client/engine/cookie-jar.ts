// Node has no cookie store behind fetch or ws. With `withCredentials` the
// client keeps the cookies the server sets (a load balancer's sticky-session
// cookie, the engine's `io` cookie) and sends them back, as a browser would.

interface StoredCookie {
  value: string;
  expires: number | undefined;
}

/** Cookies for one Engine.IO connection; name/value only, no domain or path matching. */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();

  /** Stores the cookies of `Set-Cookie` header values. */
  parse(setCookies: readonly string[]): void {
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let expires: number | undefined;
      for (const attribute of attributes) {
        const [key = '', attrValue = ''] = attribute.split('=', 2).map((s) => s.trim());
        const lower = key.toLowerCase();
        if (lower === 'max-age') expires = Date.now() + Number(attrValue) * 1000;
        else if (lower === 'expires' && expires === undefined) expires = Date.parse(attrValue);
      }
      if (expires !== undefined && !(expires > Date.now())) this.#cookies.delete(name);
      else this.#cookies.set(name, { value, expires });
    }
  }

  /** The `Cookie` header value, or undefined when there is none. */
  header(): string | undefined {
    const now = Date.now();
    const parts: string[] = [];
    for (const [name, cookie] of this.#cookies) {
      if (cookie.expires !== undefined && cookie.expires <= now) this.#cookies.delete(name);
      else parts.push(`${name}=${cookie.value}`);
    }
    return parts.length ? parts.join('; ') : undefined;
  }
}
