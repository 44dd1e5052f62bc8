// Web console sign-in sessions: a random id in an httpOnly cookie; the store
// keeps only its SHA-256 hash, with the account it belongs to (none: the admin
// token) and its expiry. Kept in the store (SQLite or PostgreSQL) so that
// every hub node sharing the database accepts the cookie, and a restart signs
// nobody out. Sign-out deletes the row: the cookie is dead everywhere.
import { randomBytes } from 'node:crypto';
import type { PeopleStore } from './store/types.js';
import { hashToken } from './tokens.js';

/** The session cookie's name. */
export const CONSOLE_SESSION_COOKIE = 'sitehub_session';

/** Limits of the session table. */
export interface ConsoleSessionOptions {
  /** Lifetime of a session from sign-in, ms (default 12 h). */
  ttlMs?: number;
  /** Most live sessions; the oldest are dropped beyond it (default 1000). */
  maxSessions?: number;
}

/** A live session: its id (the cookie value) and its account (null: the admin token). */
export interface ConsoleSession {
  id: string;
  accountId: string | null;
}

/** What ended: one session, every session of an account, or a personal API token (its sockets end too). */
export type SessionEnd = { sessionId: string } | { accountId: string } | { tokenId: string };

/** Longest cookie value looked up (ours are 43 characters). */
const MAX_ID_LENGTH = 128;

/** Reads one cookie's value from a Cookie header. */
export function cookieValue(header: unknown, name: string): string | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The console sessions, in the store. */
export class ConsoleSessions {
  readonly ttlMs: number;
  private readonly maxSessions: number;
  private readonly onEnd = new Set<(end: SessionEnd) => void>();

  constructor(
    private readonly store: PeopleStore,
    opts: ConsoleSessionOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 12 * 3600_000;
    this.maxSessions = opts.maxSessions ?? 1000;
  }

  /** Starts a session for an account (null: the admin token) and returns its id (the cookie value). */
  async create(accountId: string | null, now = Date.now()): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.store.createSession(hashToken(id), { accountId, createdAt: now, expiresAt: now + this.ttlMs }, now);
    await this.store.trimSessions(this.maxSessions);
    return id;
  }

  /** The live session named by a Cookie header, if any. */
  async fromCookieHeader(header: unknown, now = Date.now()): Promise<ConsoleSession | undefined> {
    const id = cookieValue(header, CONSOLE_SESSION_COOKIE);
    if (!id || id.length > MAX_ID_LENGTH) return undefined;
    const session = await this.store.getSession(hashToken(id));
    if (!session) return undefined;
    if (session.expiresAt <= now) {
      await this.end(id);
      return undefined;
    }
    return { id, accountId: session.accountId };
  }

  /** Ends a session (sign-out); listeners close its sockets. */
  async end(id: string): Promise<void> {
    await this.store.deleteSession(hashToken(id));
    for (const listener of this.onEnd) listener({ sessionId: id });
  }

  /** Ends every session of an account (disabled, deleted, password changed). */
  async endAllOf(accountId: string): Promise<void> {
    await this.store.deleteSessionsOf(accountId);
    for (const listener of this.onEnd) listener({ accountId });
  }

  /** Tells the listeners that a personal API token was deleted (its live sockets end). */
  tokenRevoked(tokenId: string): void {
    for (const listener of this.onEnd) listener({ tokenId });
  }

  /** Calls `listener` with each session (or account's sessions) that ends on this node. */
  onSessionEnd(listener: (end: SessionEnd) => void): void {
    this.onEnd.add(listener);
  }
}
