// Web console sign-in sessions: a random id in an httpOnly cookie, kept only
// in memory (a hub restart signs everyone out), so that the browser never
// holds the admin token and sign-out really ends the session.
import { randomBytes } from 'node:crypto';

/** The session cookie's name. */
export const CONSOLE_SESSION_COOKIE = 'sitehub_session';

/** Limits of the session table. */
export interface ConsoleSessionOptions {
  /** Lifetime of a session from sign-in, ms (default 12 h). */
  ttlMs?: number;
  /** Most live sessions; the oldest is dropped beyond it (default 1000). */
  maxSessions?: number;
}

/** Reads one cookie's value from a Cookie header. */
export function cookieValue(header: unknown, name: string): string | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The live console sessions. */
export class ConsoleSessions {
  readonly ttlMs: number;
  private readonly maxSessions: number;
  /** id -> expiry (ms); a Map keeps insertion order, so the first key is the oldest. */
  private readonly sessions = new Map<string, number>();
  private readonly onEnd = new Set<(id: string) => void>();

  constructor(opts: ConsoleSessionOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 12 * 3600_000;
    this.maxSessions = opts.maxSessions ?? 1000;
  }

  /** Starts a session and returns its id (the cookie value). */
  create(now = Date.now()): string {
    while (this.sessions.size >= this.maxSessions) this.end(this.sessions.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, now + this.ttlMs);
    return id;
  }

  /** The session id named by a Cookie header, if it is live. */
  fromCookieHeader(header: unknown, now = Date.now()): string | undefined {
    const id = cookieValue(header, CONSOLE_SESSION_COOKIE);
    if (!id) return undefined;
    const expires = this.sessions.get(id);
    if (expires === undefined) return undefined;
    if (expires <= now) {
      this.end(id);
      return undefined;
    }
    return id;
  }

  /** Ends a session (sign-out); listeners close its sockets. */
  end(id: string): void {
    if (!this.sessions.delete(id)) return;
    for (const listener of this.onEnd) listener(id);
  }

  /** Calls `listener` with each session id that ends. */
  onSessionEnd(listener: (id: string) => void): void {
    this.onEnd.add(listener);
  }
}
