// Row shapes of the people tables and their mapping to records, shared by the
// SQLite and PostgreSQL stores.
import type { Account, ApiToken, AuditEntry, Role } from './types.js';

/** A row of the accounts table. */
export interface AccountRow {
  id: string;
  name: string;
  password_hash: string;
  role: Role;
  sites: string | null;
  disabled: number | boolean;
  created_at: number;
  updated_at: number;
}

export const ACCOUNT_COLUMNS = 'id, name, password_hash, role, sites, disabled, created_at, updated_at';

/** An account row as the record (without the hash). */
export function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    sites: r.sites === null ? null : (JSON.parse(r.sites) as string[]),
    disabled: Boolean(r.disabled),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** A row of the api_tokens table. */
export interface ApiTokenRow {
  id: string;
  account_id: string;
  name: string;
  created_at: number;
}

export function toApiToken(r: ApiTokenRow): ApiToken {
  return { id: r.id, accountId: r.account_id, name: r.name, createdAt: r.created_at };
}

/** A row of the audit_log table. */
export type AuditRow = AuditEntry;

/** SQL of an audit listing's WHERE clause; `param(i)` writes the i-th placeholder. */
export function auditWhere(f: { actor?: string; from?: number; to?: number }, param: (i: number) => string): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.actor !== undefined) args.push(f.actor), where.push(`actor = ${param(args.length)}`);
  if (f.from !== undefined) args.push(f.from), where.push(`ts >= ${param(args.length)}`);
  if (f.to !== undefined) args.push(f.to), where.push(`ts <= ${param(args.length)}`);
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}
