// The people part of the store contract (issue 20): accounts, personal API
// tokens, console sessions and the audit log.

/** A person's role: viewer reads, operator also commands and handles alarms, admin also changes everything. */
export type Role = 'viewer' | 'operator' | 'admin';

/** A person's account as the API shows it (never its password hash). */
export interface Account {
  id: string;
  /** The sign-in name. */
  name: string;
  role: Role;
  /** The sites the account may see and act on; null for all. */
  sites: string[] | null;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A personal API token as the API shows it (never the token). */
export interface ApiToken {
  id: string;
  accountId: string;
  name: string;
  createdAt: number;
}

/** A console sign-in session (kept as the hash of its cookie value). */
export interface SessionRecord {
  /** null: signed in with the admin token. */
  accountId: string | null;
  createdAt: number;
  expiresAt: number;
}

/** One line of the audit log: who did what, when, from where. */
export interface AuditEntry {
  id: number;
  ts: number;
  actor: string;
  /** `sign_in`, `sign_in_failed`, `command`, or the REST route (`POST /api/devices`). */
  action: string;
  /** What it was done to (ids), as given. */
  target: string;
  /** The outcome: an HTTP status, `ok`, or an error code. */
  outcome: string;
  address: string;
}

/** Accounts, personal tokens, console sessions and the audit log. */
export interface PeopleStore {
  createAccount(account: Account, passwordHash: string): Promise<void>;
  getAccount(id: string): Promise<Account | undefined>;
  /** An account and its password hash, by sign-in name. */
  findAccount(name: string): Promise<{ account: Account; passwordHash: string } | undefined>;
  listAccounts(): Promise<Account[]>;
  updateAccount(id: string, patch: Partial<Pick<Account, 'role' | 'sites' | 'disabled'>> & { passwordHash?: string }, now: number): Promise<Account | undefined>;
  deleteAccount(id: string): Promise<boolean>;
  createApiToken(token: ApiToken, tokenHash: Buffer): Promise<void>;
  listApiTokens(accountId: string): Promise<ApiToken[]>;
  /** The token with this hash and its account. */
  findApiToken(tokenHash: Buffer): Promise<{ token: ApiToken; account: Account } | undefined>;
  deleteApiToken(id: string, accountId: string): Promise<boolean>;
  /** Stores a session; sessions past their expiry go at the same time. */
  createSession(idHash: Buffer, session: SessionRecord, now: number): Promise<void>;
  getSession(idHash: Buffer): Promise<SessionRecord | undefined>;
  deleteSession(idHash: Buffer): Promise<boolean>;
  /** Ends every session of an account (disabled, deleted, new password). */
  deleteSessionsOf(accountId: string): Promise<number>;
  countSessions(): Promise<number>;
  /** Deletes the oldest sessions so that at most `keep` remain. */
  trimSessions(keep: number): Promise<number>;
  appendAudit(entry: Omit<AuditEntry, 'id'>): Promise<void>;
  /** Newest first. */
  listAudit(filter: { actor?: string; from?: number; to?: number; limit: number }): Promise<AuditEntry[]>;
}
