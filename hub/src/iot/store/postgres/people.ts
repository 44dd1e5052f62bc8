// PostgreSQL implementation of accounts, personal tokens, console sessions
// and the audit log; the same shape as sqlite-people.ts. Sessions live here so
// that every hub sharing the database accepts them.
import type pg from 'pg';
import { ACCOUNT_COLUMNS, auditWhere, toAccount, toApiToken, type AccountRow, type ApiTokenRow, type AuditRow } from '../people-rows.js';
import type { Account, ApiToken, AuditEntry, PeopleStore, SessionRecord } from '../types.js';
import type { PgGroupCommitWriter } from './writer.js';

/** People in PostgreSQL. */
export class PgPeople implements PeopleStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
  ) {}

  createAccount(a: Account, passwordHash: string): Promise<void> {
    return this.writer.submit(async (c) => {
      await c.query(`INSERT INTO accounts (${ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        a.id,
        a.name,
        passwordHash,
        a.role,
        a.sites === null ? null : JSON.stringify(a.sites),
        a.disabled,
        a.createdAt,
        a.updatedAt,
      ]);
    });
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = (await this.pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [id])).rows[0];
    return row && toAccount(row);
  }

  async findAccount(name: string): Promise<{ account: Account; passwordHash: string } | undefined> {
    const row = (await this.pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE name = $1`, [name])).rows[0];
    return row && { account: toAccount(row), passwordHash: row.password_hash };
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY name`)).rows.map(toAccount);
  }

  updateAccount(id: string, patch: Partial<Pick<Account, 'role' | 'sites' | 'disabled'>> & { passwordHash?: string }, now: number): Promise<Account | undefined> {
    return this.writer.submit(async (c) => {
      const args: unknown[] = [now];
      const sets = ['updated_at = $1'];
      if (patch.role !== undefined) args.push(patch.role), sets.push(`role = $${args.length}`);
      if (patch.sites !== undefined) args.push(patch.sites === null ? null : JSON.stringify(patch.sites)), sets.push(`sites = $${args.length}`);
      if (patch.disabled !== undefined) args.push(patch.disabled), sets.push(`disabled = $${args.length}`);
      if (patch.passwordHash !== undefined) args.push(patch.passwordHash), sets.push(`password_hash = $${args.length}`);
      args.push(id);
      const row = (await c.query<AccountRow>(`UPDATE accounts SET ${sets.join(', ')} WHERE id = $${args.length} RETURNING ${ACCOUNT_COLUMNS}`, args)).rows[0];
      return row && toAccount(row);
    });
  }

  deleteAccount(id: string): Promise<boolean> {
    return this.writer.submit(async (c) => {
      await c.query('DELETE FROM console_sessions WHERE account_id = $1', [id]);
      return ((await c.query('DELETE FROM accounts WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  createApiToken(t: ApiToken, tokenHash: Buffer): Promise<void> {
    return this.writer.submit(async (c) => {
      await c.query('INSERT INTO api_tokens (id, account_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [t.id, t.accountId, t.name, tokenHash, t.createdAt]);
    });
  }

  async listApiTokens(accountId: string): Promise<ApiToken[]> {
    const { rows } = await this.pool.query<ApiTokenRow>('SELECT id, account_id, name, created_at FROM api_tokens WHERE account_id = $1 ORDER BY created_at, id', [accountId]);
    return rows.map(toApiToken);
  }

  async findApiToken(tokenHash: Buffer): Promise<{ token: ApiToken; account: Account } | undefined> {
    const row = (await this.pool.query<ApiTokenRow>('SELECT id, account_id, name, created_at FROM api_tokens WHERE token_hash = $1', [tokenHash])).rows[0];
    if (!row) return undefined;
    const account = await this.getAccount(row.account_id);
    return account && { token: toApiToken(row), account };
  }

  deleteApiToken(id: string, accountId: string): Promise<boolean> {
    return this.writer.submit(async (c) => ((await c.query('DELETE FROM api_tokens WHERE id = $1 AND account_id = $2', [id, accountId])).rowCount ?? 0) > 0);
  }

  createSession(idHash: Buffer, s: SessionRecord, now: number): Promise<void> {
    return this.writer.submit(async (c) => {
      await c.query('DELETE FROM console_sessions WHERE expires_at <= $1', [now]);
      await c.query('INSERT INTO console_sessions (id_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [idHash, s.accountId, s.createdAt, s.expiresAt]);
    });
  }

  async getSession(idHash: Buffer): Promise<SessionRecord | undefined> {
    const row = (
      await this.pool.query<{ account_id: string | null; created_at: number; expires_at: number }>(
        'SELECT account_id, created_at, expires_at FROM console_sessions WHERE id_hash = $1',
        [idHash],
      )
    ).rows[0];
    return row && { accountId: row.account_id, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  deleteSession(idHash: Buffer): Promise<boolean> {
    return this.writer.submit(async (c) => ((await c.query('DELETE FROM console_sessions WHERE id_hash = $1', [idHash])).rowCount ?? 0) > 0);
  }

  deleteSessionsOf(accountId: string): Promise<number> {
    return this.writer.submit(async (c) => (await c.query('DELETE FROM console_sessions WHERE account_id = $1', [accountId])).rowCount ?? 0);
  }

  async countSessions(): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*)::bigint AS n FROM console_sessions')).rows[0]!.n;
  }

  trimSessions(keep: number): Promise<number> {
    return this.writer.submit(async (c) => {
      const n = (await c.query<{ n: number }>('SELECT count(*)::bigint AS n FROM console_sessions')).rows[0]!.n;
      if (n <= keep) return 0;
      const res = await c.query('DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions ORDER BY created_at LIMIT $1)', [n - keep]);
      return res.rowCount ?? 0;
    });
  }

  appendAudit(e: Omit<AuditEntry, 'id'>): Promise<void> {
    return this.writer.submit(async (c) => {
      await c.query('INSERT INTO audit_log (ts, actor, action, target, outcome, address) VALUES ($1, $2, $3, $4, $5, $6)', [e.ts, e.actor, e.action, e.target, e.outcome, e.address]);
    });
  }

  async listAudit(f: { actor?: string; from?: number; to?: number; limit: number }): Promise<AuditEntry[]> {
    const { sql, args } = auditWhere(f, (i) => `$${i}`);
    args.push(f.limit);
    return (await this.pool.query<AuditRow>(`SELECT id, ts, actor, action, target, outcome, address FROM audit_log ${sql} ORDER BY ts DESC, id DESC LIMIT $${args.length}`, args)).rows;
  }
}
