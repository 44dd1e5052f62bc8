// People: accounts with a role and optionally a set of sites, their personal
// API tokens, who a credential (admin token, personal token, console
// session) stands for, and the audit log they leave. The admin token stays the
// bootstrap credential: it is an admin with every site.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConsoleSession, ConsoleSessions } from './console-sessions.js';
import { HubError } from './errors.js';
import { hashPassword, PASSWORD_MAX, PASSWORD_MIN, verifyPassword } from './passwords.js';
import type { Account, ApiToken, AuditEntry, Role, Store } from './store/types.js';
import { hashToken, newId, newToken, tokenMatches } from './tokens.js';

/** Who a request or a socket acts as. */
export interface Principal {
  /** For the records: the account's name, or 'admin' for the admin token. */
  name: string;
  role: Role;
  /** The sites it is limited to; null for all. */
  sites: string[] | null;
  /** null for the admin token. */
  accountId: string | null;
  /** The personal API token it came with, if any. */
  tokenId?: string;
}

/** The admin token's principal. */
export const ADMIN_PRINCIPAL: Principal = Object.freeze({ name: 'admin', role: 'admin', sites: null, accountId: null }) as Principal;

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Whether `principal` has at least `role`. */
export function hasRole(principal: Principal | undefined, role: Role): boolean {
  return principal !== undefined && RANK[principal.role] >= RANK[role];
}

/** Whether `principal` may see a device of `siteId`. */
export function seesSite(principal: Principal, siteId: string): boolean {
  return principal.sites === null || principal.sites.includes(siteId);
}

/** Sign-in names: like ids, an e-mail address fits. */
export const ACCOUNT_NAME_SOURCE = '^[A-Za-z0-9][A-Za-z0-9_.@+\\-]{0,63}$';
const ACCOUNT_NAME = new RegExp(ACCOUNT_NAME_SOURCE);
/** Most personal tokens per account. */
const MAX_TOKENS_PER_ACCOUNT = 20;

/** What an admin gives to create or change an account. */
export interface AccountInput {
  name?: string;
  password?: string;
  role?: Role;
  sites?: string[] | null;
  disabled?: boolean;
}

function principalOf(account: Account): Principal {
  return { name: account.name, role: account.role, sites: account.sites, accountId: account.id };
}

/** Accounts, tokens, principals and the audit log. */
export class People {
  constructor(
    private readonly store: Store,
    private readonly sessions: ConsoleSessions,
    private readonly adminTokenHash: Buffer,
    private readonly log: Logger,
  ) {}

  /** Who a bearer token stands for: the admin token, or a personal token of an enabled account. */
  async fromBearer(token: string | undefined): Promise<Principal | undefined> {
    if (token === undefined) return undefined;
    if (tokenMatches(token, this.adminTokenHash)) return ADMIN_PRINCIPAL;
    if (token.length > 512) return undefined;
    const found = await this.store.people.findApiToken(hashToken(token));
    return found && !found.account.disabled ? { ...principalOf(found.account), tokenId: found.token.id } : undefined;
  }

  /** Who a console session stands for (its account, looked up now: a disabled account signs out everywhere). */
  async fromSession(session: ConsoleSession): Promise<Principal | undefined> {
    if (session.accountId === null) return ADMIN_PRINCIPAL;
    const account = await this.store.people.getAccount(session.accountId);
    return account && !account.disabled ? principalOf(account) : undefined;
  }

  /** The account a name and password sign in as, if both are right and it is enabled. */
  async checkPassword(name: string, password: string): Promise<Account | undefined> {
    const found = ACCOUNT_NAME.test(name) ? await this.store.people.findAccount(name) : undefined;
    const ok = await verifyPassword(password, found?.passwordHash);
    return ok && found && !found.account.disabled ? found.account : undefined;
  }

  listAccounts(): Promise<Account[]> {
    return this.store.people.listAccounts();
  }

  async getAccount(id: string): Promise<Account> {
    const account = await this.store.people.getAccount(id);
    if (!account) throw new HubError('not_found', `no account ${id}`, 404);
    return account;
  }

  /** Creates an account; its name must be free. */
  async createAccount(input: AccountInput): Promise<Account> {
    if (typeof input.name !== 'string' || !ACCOUNT_NAME.test(input.name)) throw new HubError('bad_request', `name must match ${ACCOUNT_NAME_SOURCE}`);
    if (await this.store.people.findAccount(input.name)) throw new HubError('conflict', `account ${input.name} exists`, 409);
    const password = this.checkedPassword(input.password);
    const now = Date.now();
    const account: Account = {
      id: randomUUID(),
      name: input.name,
      role: input.role ?? 'viewer',
      sites: await this.checkedSites(input.sites ?? null),
      disabled: input.disabled ?? false,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.people.createAccount(account, await hashPassword(password));
    return account;
  }

  /** Changes an account; a new password, a new role or scope, or disabling it ends its console sessions. */
  async updateAccount(id: string, input: AccountInput): Promise<Account> {
    await this.getAccount(id);
    const patch: Parameters<Store['people']['updateAccount']>[1] = {};
    if (input.role !== undefined) patch.role = input.role;
    if (input.sites !== undefined) patch.sites = await this.checkedSites(input.sites);
    if (input.disabled !== undefined) patch.disabled = input.disabled;
    if (input.password !== undefined) patch.passwordHash = await hashPassword(this.checkedPassword(input.password));
    const account = await this.store.people.updateAccount(id, patch, Date.now());
    if (!account) throw new HubError('not_found', `no account ${id}`, 404);
    // Live sockets keep the principal they connected with: they are ended so that a lesser right applies at once.
    if (Object.keys(patch).length > 0) await this.sessions.endAllOf(id);
    return account;
  }

  async deleteAccount(id: string): Promise<void> {
    if (!(await this.store.people.deleteAccount(id))) throw new HubError('not_found', `no account ${id}`, 404);
    await this.sessions.endAllOf(id);
  }

  /** A new personal token of the principal's account; the token is shown once. */
  async createToken(principal: Principal, name: string): Promise<{ apiToken: ApiToken; token: string }> {
    const accountId = this.ownAccount(principal);
    if ((await this.store.people.listApiTokens(accountId)).length >= MAX_TOKENS_PER_ACCOUNT) {
      throw new HubError('too_many_tokens', `at most ${MAX_TOKENS_PER_ACCOUNT} tokens per account`, 409);
    }
    const token = newToken();
    const apiToken: ApiToken = { id: newId('tok'), accountId, name, createdAt: Date.now() };
    await this.store.people.createApiToken(apiToken, hashToken(token));
    return { apiToken, token };
  }

  /** The principal's personal tokens (none for the admin token). */
  async listTokens(principal: Principal): Promise<ApiToken[]> {
    return principal.accountId === null ? [] : this.store.people.listApiTokens(principal.accountId);
  }

  async deleteToken(principal: Principal, id: string): Promise<void> {
    if (!(await this.store.people.deleteApiToken(id, this.ownAccount(principal)))) throw new HubError('not_found', `no token ${id}`, 404);
    this.sessions.tokenRevoked(id);
  }

  /** Keeps one line of the audit log; a failure to keep it is logged, never thrown at the caller. */
  audit(entry: Omit<AuditEntry, 'id' | 'ts'> & { ts?: number }): void {
    this.store.people.appendAudit({ ts: Date.now(), ...entry }).catch((err: unknown) => this.log.error({ err, entry }, 'audit line not kept'));
  }

  listAudit(filter: { actor?: string; from?: number; to?: number; limit: number }): Promise<AuditEntry[]> {
    return this.store.people.listAudit(filter);
  }

  private ownAccount(principal: Principal): string {
    if (principal.accountId === null) throw new HubError('bad_request', 'the admin token has no personal tokens; sign in as an account');
    return principal.accountId;
  }

  private checkedPassword(password: unknown): string {
    if (typeof password !== 'string' || password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
      throw new HubError('bad_request', `password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`);
    }
    return password;
  }

  private async checkedSites(sites: string[] | null): Promise<string[] | null> {
    if (sites === null) return null;
    for (const id of sites) if (!(await this.store.registry.getSite(id))) throw new HubError('bad_request', `no site ${id}`);
    return [...new Set(sites)].sort();
  }
}
