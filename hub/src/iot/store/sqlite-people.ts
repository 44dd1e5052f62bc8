// SQLite implementation of accounts, personal tokens, console sessions and
// the audit log.
import type { SqliteDb } from './db.js';
import { ACCOUNT_COLUMNS, auditWhere, toAccount, toApiToken, type AccountRow, type ApiTokenRow, type AuditRow } from './people-rows.js';
import type { Account, ApiToken, AuditEntry, PeopleStore, SessionRecord } from './types.js';
import type { GroupCommitWriter } from './writer.js';

/** People in SQLite. */
export class SqlitePeople implements PeopleStore {
  private readonly stmt;

  constructor(
    private readonly db: SqliteDb,
    private readonly writer: GroupCommitWriter,
  ) {
    this.stmt = {
      insertAccount: db.prepare(`INSERT INTO accounts (${ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      account: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`),
      accountByName: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE name = ?`),
      accounts: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY name`),
      deleteAccount: db.prepare('DELETE FROM accounts WHERE id = ?'),
      insertToken: db.prepare('INSERT INTO api_tokens (id, account_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
      tokens: db.prepare('SELECT id, account_id, name, created_at FROM api_tokens WHERE account_id = ? ORDER BY created_at, id'),
      tokenByHash: db.prepare('SELECT id, account_id, name, created_at FROM api_tokens WHERE token_hash = ?'),
      deleteToken: db.prepare('DELETE FROM api_tokens WHERE id = ? AND account_id = ?'),
      insertSession: db.prepare('INSERT INTO console_sessions (id_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)'),
      expireSessions: db.prepare('DELETE FROM console_sessions WHERE expires_at <= ?'),
      session: db.prepare('SELECT account_id, created_at, expires_at FROM console_sessions WHERE id_hash = ?'),
      deleteSession: db.prepare('DELETE FROM console_sessions WHERE id_hash = ?'),
      deleteSessionsOf: db.prepare('DELETE FROM console_sessions WHERE account_id = ?'),
      countSessions: db.prepare('SELECT count(*) FROM console_sessions').pluck(),
      trimSessions: db.prepare('DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions ORDER BY created_at LIMIT ?)'),
      audit: db.prepare('INSERT INTO audit_log (ts, actor, action, target, outcome, address) VALUES (?, ?, ?, ?, ?, ?)'),
    };
  }

  createAccount(a: Account, passwordHash: string): Promise<void> {
    return this.writer.submit(() => {
      this.stmt.insertAccount.run(a.id, a.name, passwordHash, a.role, a.sites === null ? null : JSON.stringify(a.sites), a.disabled ? 1 : 0, a.createdAt, a.updatedAt);
    });
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = this.stmt.account.get(id) as AccountRow | undefined;
    return row && toAccount(row);
  }

  async findAccount(name: string): Promise<{ account: Account; passwordHash: string } | undefined> {
    const row = this.stmt.accountByName.get(name) as AccountRow | undefined;
    return row && { account: toAccount(row), passwordHash: row.password_hash };
  }

  async listAccounts(): Promise<Account[]> {
    return (this.stmt.accounts.all() as AccountRow[]).map(toAccount);
  }

  updateAccount(id: string, patch: Partial<Pick<Account, 'role' | 'sites' | 'disabled'>> & { passwordHash?: string }, now: number): Promise<Account | undefined> {
    return this.writer.submit(() => {
      const sets = ['updated_at = ?'];
      const args: unknown[] = [now];
      if (patch.role !== undefined) sets.push('role = ?'), args.push(patch.role);
      if (patch.sites !== undefined) sets.push('sites = ?'), args.push(patch.sites === null ? null : JSON.stringify(patch.sites));
      if (patch.disabled !== undefined) sets.push('disabled = ?'), args.push(patch.disabled ? 1 : 0);
      if (patch.passwordHash !== undefined) sets.push('password_hash = ?'), args.push(patch.passwordHash);
      if (this.db.prepare(`UPDATE accounts SET ${sets.join(', ')} WHERE id = ?`).run(...args, id).changes === 0) return undefined;
      return toAccount(this.stmt.account.get(id) as AccountRow);
    });
  }

  deleteAccount(id: string): Promise<boolean> {
    return this.writer.submit(() => {
      this.stmt.deleteSessionsOf.run(id);
      return this.stmt.deleteAccount.run(id).changes > 0;
    });
  }

  createApiToken(t: ApiToken, tokenHash: Buffer): Promise<void> {
    return this.writer.submit(() => void this.stmt.insertToken.run(t.id, t.accountId, t.name, tokenHash, t.createdAt));
  }

  async listApiTokens(accountId: string): Promise<ApiToken[]> {
    return (this.stmt.tokens.all(accountId) as ApiTokenRow[]).map(toApiToken);
  }

  async findApiToken(tokenHash: Buffer): Promise<{ token: ApiToken; account: Account } | undefined> {
    const row = this.stmt.tokenByHash.get(tokenHash) as ApiTokenRow | undefined;
    if (!row) return undefined;
    const account = await this.getAccount(row.account_id);
    return account && { token: toApiToken(row), account };
  }

  deleteApiToken(id: string, accountId: string): Promise<boolean> {
    return this.writer.submit(() => this.stmt.deleteToken.run(id, accountId).changes > 0);
  }

  createSession(idHash: Buffer, s: SessionRecord, now: number): Promise<void> {
    return this.writer.submit(() => {
      this.stmt.expireSessions.run(now);
      this.stmt.insertSession.run(idHash, s.accountId, s.createdAt, s.expiresAt);
    });
  }

  async getSession(idHash: Buffer): Promise<SessionRecord | undefined> {
    const row = this.stmt.session.get(idHash) as { account_id: string | null; created_at: number; expires_at: number } | undefined;
    return row && { accountId: row.account_id, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  deleteSession(idHash: Buffer): Promise<boolean> {
    return this.writer.submit(() => this.stmt.deleteSession.run(idHash).changes > 0);
  }

  deleteSessionsOf(accountId: string): Promise<number> {
    return this.writer.submit(() => this.stmt.deleteSessionsOf.run(accountId).changes);
  }

  async countSessions(): Promise<number> {
    return this.stmt.countSessions.get() as number;
  }

  trimSessions(keep: number): Promise<number> {
    return this.writer.submit(() => {
      const excess = (this.stmt.countSessions.get() as number) - keep;
      return excess > 0 ? this.stmt.trimSessions.run(excess).changes : 0;
    });
  }

  appendAudit(e: Omit<AuditEntry, 'id'>): Promise<void> {
    return this.writer.submit(() => void this.stmt.audit.run(e.ts, e.actor, e.action, e.target, e.outcome, e.address));
  }

  async listAudit(f: { actor?: string; from?: number; to?: number; limit: number }): Promise<AuditEntry[]> {
    const { sql, args } = auditWhere(f, () => '?');
    return this.db.prepare(`SELECT id, ts, actor, action, target, outcome, address FROM audit_log ${sql} ORDER BY ts DESC, id DESC LIMIT ?`).all(...args, f.limit) as AuditRow[];
  }
}
