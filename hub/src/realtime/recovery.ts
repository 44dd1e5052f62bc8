// Connection state recovery for the in-memory adapter: disconnected sessions
// and a log of the packets sent since, both bounded in count and age.
import type { Packet } from '@sitehub/protocol';
import { Adapter } from './adapter.js';
import type { AdapterNamespace } from './adapter-seam.js';
import { PacketLog, type LoggedPacket } from './packet-log.js';
import type {
  BroadcastOptions,
  ConnectionStateRecoveryOptions,
  DisconnectReason,
  PrivateSessionId,
  Room,
  Session,
  SessionToPersist,
} from './types.js';

/** The disconnect reasons after which a session is kept (PROTOCOL.md): the client did not mean to leave. */
export const RECOVERABLE_DISCONNECT_REASONS: ReadonlySet<DisconnectReason> = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'server shutting down',
  'forced server close',
]);

/** connectionStateRecovery with every default filled in. */
export type RecoveryConfig = Required<ConnectionStateRecoveryOptions>;

/** Fills in the defaults of the connectionStateRecovery option. */
export function recoveryConfig(opts: ConnectionStateRecoveryOptions): RecoveryConfig {
  return {
    maxDisconnectionDuration: opts.maxDisconnectionDuration ?? 120_000,
    skipMiddlewares: opts.skipMiddlewares ?? true,
    maxStoredPackets: opts.maxStoredPackets ?? 10_000,
    maxStoredSessions: opts.maxStoredSessions ?? 100_000,
  };
}

interface StoredSession extends SessionToPersist {
  disconnectedAt: number;
}

/** The in-memory adapter plus the session store and packet log recovery needs. */
export class SessionAwareAdapter extends Adapter {
  private readonly config: RecoveryConfig;
  private readonly sessions = new Map<PrivateSessionId, StoredSession>();
  private readonly log: PacketLog;
  private readonly sweeper: NodeJS.Timeout;

  constructor(nsp: AdapterNamespace) {
    super(nsp);
    this.config = recoveryConfig(nsp.server.opts.connectionStateRecovery ?? {});
    this.log = new PacketLog(this.config.maxStoredPackets);
    const period = Math.min(60_000, Math.max(1_000, this.config.maxDisconnectionDuration));
    this.sweeper = setInterval(() => this.expire(), period);
    this.sweeper.unref();
  }

  override close(): void {
    clearInterval(this.sweeper);
    this.sessions.clear();
    this.log.clear();
  }

  /** Events without ack that are not volatile get an offset as last argument and are logged. */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    const replayable = packet.type === 2 && packet.id === undefined && !opts.flags?.volatile;
    if (!replayable) return super.broadcast(packet, opts);
    packet.nsp = this.nsp.name;
    packet.data = [...(packet.data as unknown[]), this.log.nextOffset()];
    const encoded = this.encode(packet);
    this.log.append(encoded, opts.rooms, opts.except);
    this.deliver(encoded, packet, opts);
  }

  override persistSession(session: SessionToPersist): void {
    this.sessions.delete(session.pid);
    if (this.sessions.size >= this.config.maxStoredSessions) {
      // Maps iterate in insertion order: the first key is the oldest session.
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.set(session.pid, { ...session, disconnectedAt: Date.now() });
  }

  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session | null> {
    const session = this.sessions.get(pid);
    if (!session) return Promise.resolve(null);
    // A session is recovered at most once; a failed attempt (too old) also ends it.
    this.sessions.delete(pid);
    if (session.disconnectedAt + this.config.maxDisconnectionDuration < Date.now()) return Promise.resolve(null);
    const logged = this.log.after(offset);
    if (!logged) return Promise.resolve(null);
    const missedPackets = logged.filter((entry) => addressedTo(session.rooms, entry)).map((entry) => entry.encoded);
    const { disconnectedAt: _, ...state } = session;
    return Promise.resolve({ ...state, missedPackets });
  }

  private expire(): void {
    const threshold = Date.now() - this.config.maxDisconnectionDuration;
    for (const [pid, session] of this.sessions) {
      if (session.disconnectedAt < threshold) this.sessions.delete(pid);
    }
    this.log.expire(threshold);
  }
}

/** Whether a socket in `rooms` was among the recipients of a logged packet. */
function addressedTo(rooms: Room[], entry: LoggedPacket): boolean {
  const included = entry.rooms.length === 0 || entry.rooms.some((room) => rooms.includes(room));
  return included && !entry.except.some((room) => rooms.includes(room));
}
