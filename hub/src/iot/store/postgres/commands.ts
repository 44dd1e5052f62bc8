// PostgreSQL implementation of commands and their status.
import type pg from 'pg';
import type { Command, CommandStatus, CommandStore, CommandUpdate, Positioned } from '../types.js';
import { toCommand, type CommandRow } from '../rows.js';
import type { PgStream } from './stream.js';
import type { PgGroupCommitWriter } from './writer.js';


const COLUMNS = 'id, device_id, name, params, status, attempts, created_at, updated_at, expires_at, result, error, source';
const EXPIRED_ERROR = 'expired before the device answered';


/** Commands in PostgreSQL. */
export class PgCommands implements CommandStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
    private readonly stream: PgStream,
  ) {}

  create(c: Command): Promise<number> {
    return this.writer.submit(async (client) => {
      await client.query(
        `INSERT INTO commands (id, device_id, name, params, status, attempts, created_at, updated_at, expires_at, result, error, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, $10)`,
        [c.id, c.deviceId, c.name, JSON.stringify(c.params ?? null), c.status, c.attempts, c.createdAt, c.updatedAt, c.expiresAt, c.source],
      );
      return this.stream.append(client, c.deviceId, 'command', c.createdAt, streamBody(c));
    });
  }

  async get(id: string): Promise<Command | undefined> {
    const row = (await this.pool.query<CommandRow>(`SELECT ${COLUMNS} FROM commands WHERE id = $1`, [id])).rows[0];
    return row && toCommand(row);
  }

  async list(f: { deviceId?: string; status?: CommandStatus; limit: number }): Promise<Command[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.deviceId !== undefined) args.push(f.deviceId), where.push(`device_id = $${args.length}`);
    if (f.status !== undefined) args.push(f.status), where.push(`status = $${args.length}`);
    args.push(f.limit);
    const sql = `SELECT ${COLUMNS} FROM commands ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, n DESC LIMIT $${args.length}`;
    return (await this.pool.query<CommandRow>(sql, args)).rows.map(toCommand);
  }

  update(id: string, u: CommandUpdate, now: number): Promise<Positioned<Command> | undefined> {
    return this.writer.submit(async (client) => {
      const args: unknown[] = [u.status, now];
      const sets = ['status = $1', 'updated_at = $2'];
      if (u.attempts !== undefined) args.push(u.attempts), sets.push(`attempts = $${args.length}`);
      if (u.result !== undefined) args.push(JSON.stringify(u.result)), sets.push(`result = $${args.length}`);
      if (u.error !== undefined) args.push(u.error), sets.push(`error = $${args.length}`);
      args.push(id);
      // A command that reached a final status keeps it: a late ack cannot revive an expired command.
      const row = (
        await client.query<CommandRow>(
          `UPDATE commands SET ${sets.join(', ')} WHERE id = $${args.length} AND status IN ('pending', 'sent') RETURNING ${COLUMNS}`,
          args,
        )
      ).rows[0];
      if (!row) return undefined;
      const command = toCommand(row);
      return { ...command, pos: await this.stream.append(client, command.deviceId, 'command', now, streamBody(command)) };
    });
  }

  claim(id: string, epoch: number, maxAttempts: number, now: number): Promise<Positioned<Command> | undefined> {
    return this.writer.submit(async (client) => {
      // One statement: of two nodes claiming at once, the row lock lets one through and re-checks the other.
      const row = (
        await client.query<CommandRow>(
          `UPDATE commands SET status = 'sent', attempts = attempts + 1, updated_at = $1, delivery_epoch = $2
           WHERE id = $3 AND status IN ('pending', 'sent') AND expires_at > $1 AND attempts < $4
             AND (delivery_epoch IS NULL OR delivery_epoch <= $2)
             -- Only the device's current session may take it: a stale one on a node not yet told loses.
             AND $2 = (SELECT presence_epoch FROM devices WHERE devices.id = commands.device_id)
           RETURNING ${COLUMNS}`,
          [now, epoch, id, maxAttempts],
        )
      ).rows[0];
      if (!row) return undefined;
      const command = toCommand(row);
      return { ...command, pos: await this.stream.append(client, command.deviceId, 'command', now, streamBody(command)) };
    });
  }

  async pendingOnNode(node: string, now: number, limit: number): Promise<Command[]> {
    const { rows } = await this.pool.query<CommandRow>(
      `SELECT ${COLUMNS.split(', ').map((c) => 'c.' + c).join(', ')} FROM commands c JOIN devices d ON d.id = c.device_id
       WHERE c.status = 'pending' AND c.expires_at > $2 AND d.online AND d.presence_node = $1 ORDER BY c.created_at, c.n LIMIT $3`,
      [node, now, limit],
    );
    return rows.map(toCommand);
  }

  async deliverable(deviceId: string, now: number): Promise<Command[]> {
    const { rows } = await this.pool.query<CommandRow>(
      `SELECT ${COLUMNS} FROM commands WHERE device_id = $1 AND status IN ('pending', 'sent') AND expires_at > $2 ORDER BY created_at, n`,
      [deviceId, now],
    );
    return rows.map(toCommand);
  }

  expire(now: number): Promise<Array<Positioned<Command>>> {
    return this.writer.submit(async (client) => {
      // One statement: what it returns is exactly what it changed, even with other hubs expiring at the same time.
      const { rows } = await client.query<CommandRow>(
        `UPDATE commands SET status = 'expired', updated_at = $1, error = $2
         WHERE status IN ('pending', 'sent') AND expires_at <= $1 RETURNING ${COLUMNS}`,
        [now, EXPIRED_ERROR],
      );
      const expired: Array<Positioned<Command>> = [];
      for (const command of rows.map(toCommand)) {
        expired.push({ ...command, pos: await this.stream.append(client, command.deviceId, 'command', now, streamBody(command)) });
      }
      return expired;
    });
  }
}

/** A command's stream body: the command without its device id. */
function streamBody(c: Command): string {
  const { deviceId: _deviceId, ...body } = c;
  return JSON.stringify(body);
}
