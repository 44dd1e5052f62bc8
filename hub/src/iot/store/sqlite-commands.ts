// SQLite implementation of commands and their status.
import type { SqliteDb } from './db.js';
import type { SqliteStream } from './sqlite-stream.js';
import type { GroupCommitWriter } from './writer.js';
import { toCommand, type CommandRow } from './rows.js';
import type { Command, CommandStatus, CommandStore, CommandUpdate, Positioned } from './types.js';

/** A command's stream body: the command without its device id. */
function streamBody(c: Command): string {
  const { deviceId: _deviceId, ...body } = c;
  return JSON.stringify(body);
}



/** Commands in SQLite. */
export class SqliteCommands implements CommandStore {
  private readonly stmt;

  constructor(
    private readonly db: SqliteDb,
    private readonly writer: GroupCommitWriter,
    private readonly stream: SqliteStream,
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO commands (id, device_id, name, params, status, attempts, created_at, updated_at, expires_at, result, error, source)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`,
      ),
      get: db.prepare('SELECT * FROM commands WHERE id = ?'),
      deliverable: db.prepare(
        "SELECT * FROM commands WHERE device_id = ? AND status IN ('pending', 'sent') AND expires_at > ? ORDER BY created_at, rowid",
      ),
      dueToExpire: db.prepare("SELECT * FROM commands WHERE status IN ('pending', 'sent') AND expires_at <= ?"),
      expire: db.prepare("UPDATE commands SET status = 'expired', updated_at = ?, error = 'expired before the device answered' WHERE status IN ('pending', 'sent') AND expires_at <= ?"),
    };
  }

  create(c: Command): Promise<number> {
    return this.writer.submit(() => {
      this.stmt.insert.run(c.id, c.deviceId, c.name, JSON.stringify(c.params ?? null), c.status, c.attempts, c.createdAt, c.updatedAt, c.expiresAt, c.source);
      return this.stream.append(c.deviceId, 'command', c.createdAt, streamBody(c));
    });
  }

  async get(id: string): Promise<Command | undefined> {
    const row = this.stmt.get.get(id) as CommandRow | undefined;
    return row && toCommand(row);
  }

  async list(f: { deviceId?: string; status?: CommandStatus; limit: number }): Promise<Command[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.deviceId !== undefined) where.push('device_id = ?'), args.push(f.deviceId);
    if (f.status !== undefined) where.push('status = ?'), args.push(f.status);
    const sql = `SELECT * FROM commands ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as CommandRow[]).map(toCommand);
  }

  update(id: string, u: CommandUpdate, now: number): Promise<Positioned<Command> | undefined> {
    return this.writer.submit(() => {
      const sets = ['status = ?', 'updated_at = ?'];
      const args: unknown[] = [u.status, now];
      if (u.attempts !== undefined) sets.push('attempts = ?'), args.push(u.attempts);
      if (u.result !== undefined) sets.push('result = ?'), args.push(JSON.stringify(u.result));
      if (u.error !== undefined) sets.push('error = ?'), args.push(u.error);
      // A command that reached a final status keeps it: a late ack cannot revive an expired command.
      const info = this.db
        .prepare(`UPDATE commands SET ${sets.join(', ')} WHERE id = ? AND status IN ('pending', 'sent')`)
        .run(...args, id);
      if (info.changes === 0) return undefined;
      const command = toCommand(this.stmt.get.get(id) as CommandRow);
      return { ...command, pos: this.stream.append(command.deviceId, 'command', now, streamBody(command)) };
    });
  }

  claim(id: string, epoch: number, maxAttempts: number, now: number): Promise<Positioned<Command> | undefined> {
    return this.writer.submit(() => {
      const info = this.db
        .prepare(
          `UPDATE commands SET status = 'sent', attempts = attempts + 1, updated_at = ?, delivery_epoch = ?
           WHERE id = ? AND status IN ('pending', 'sent') AND expires_at > ? AND attempts < ?
             AND (delivery_epoch IS NULL OR delivery_epoch <= ?)
             AND ? = (SELECT presence_epoch FROM devices WHERE devices.id = commands.device_id)`,
        )
        .run(now, epoch, id, now, maxAttempts, epoch, epoch);
      if (info.changes === 0) return undefined;
      const command = toCommand(this.stmt.get.get(id) as CommandRow);
      return { ...command, pos: this.stream.append(command.deviceId, 'command', now, streamBody(command)) };
    });
  }

  async pendingOnNode(node: string, now: number, limit: number): Promise<Command[]> {
    const rows = this.db
      .prepare(
        `SELECT c.* FROM commands c JOIN devices d ON d.id = c.device_id
         WHERE c.status = 'pending' AND c.expires_at > ? AND d.online = 1 AND d.presence_node = ? ORDER BY c.created_at, c.rowid LIMIT ?`,
      )
      .all(now, node, limit) as CommandRow[];
    return rows.map(toCommand);
  }

  async deliverable(deviceId: string, now: number): Promise<Command[]> {
    return (this.stmt.deliverable.all(deviceId, now) as CommandRow[]).map(toCommand);
  }

  expire(now: number): Promise<Array<Positioned<Command>>> {
    return this.writer.submit(() => {
      const due = (this.stmt.dueToExpire.all(now) as CommandRow[]).map(toCommand);
      if (due.length) this.stmt.expire.run(now, now);
      return due.map((c) => {
        const expired: Command = { ...c, status: 'expired', updatedAt: now, error: 'expired before the device answered' };
        return { ...expired, pos: this.stream.append(c.deviceId, 'command', now, streamBody(expired)) };
      });
    });
  }
}
