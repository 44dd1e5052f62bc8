// The operator namespaces: /console (the admin token) and /bridge (bridge
// tokens). Both get the same streams and command handlers.
import type { Server, Socket } from '../realtime/index.js';
import type { Commands } from './commands.js';
import type { ConsoleSessions } from './console-sessions.js';
import type { IotContext } from './context.js';
import { attachOperatorHandlers } from './operator-handlers.js';
import { tokenMatches } from './tokens.js';

function refusal(): Error & { data: { code: string } } {
  return Object.assign(new Error('authentication failed'), { data: { code: 'invalid_credentials' } });
}

/** Connected operator sockets, by namespace; bridge sockets also by token id so that disabling a token ends them. */
export class OperatorSessions {
  private readonly bridgeSockets = new Map<string, Set<Socket>>();

  constructor(
    private readonly ctx: IotContext,
    private readonly commands: Commands,
    private readonly adminTokenHash: Buffer,
    private readonly consoleSessions?: ConsoleSessions,
  ) {}

  /** Wires /console and /bridge into `io`. */
  attach(io: Server): void {
    const consoleNsp = io.of('/console');
    consoleNsp.use((socket, next) => {
      if (tokenMatches(socket.handshake.auth?.token, this.adminTokenHash)) return next();
      // The web console signs in to an httpOnly cookie that the browser sends on the handshake.
      const session = this.consoleSessions?.fromCookieHeader(socket.handshake.headers.cookie);
      if (session) {
        socket.data.consoleSession = session;
        return next();
      }
      this.ctx.metrics.refusedConnections.inc('console|invalid_credentials');
      next(refusal());
    });
    consoleNsp.on('connection', (socket: Socket) => attachOperatorHandlers(this.ctx, this.commands, socket, 'console', 'console'));
    this.consoleSessions?.onSessionEnd((id) => {
      for (const socket of [...consoleNsp.sockets.values()]) if (socket.data.consoleSession === id) socket.disconnect(true);
    });

    const bridgeNsp = io.of('/bridge');
    bridgeNsp.use((socket, next) => {
      this.ctx.registry.authenticateBridge(socket.handshake.auth?.token).then(
        (bridge) => {
          if (!bridge) {
            this.ctx.metrics.refusedConnections.inc('bridge|invalid_credentials');
            return next(refusal());
          }
          socket.data.bridgeId = bridge.id;
          next();
        },
        () => next(Object.assign(new Error('service unavailable'), { data: { code: 'unavailable' } })),
      );
    });
    bridgeNsp.on('connection', (socket: Socket) => {
      const bridgeId = socket.data.bridgeId as string;
      const set = this.bridgeSockets.get(bridgeId) ?? new Set();
      this.bridgeSockets.set(bridgeId, set);
      set.add(socket);
      socket.on('disconnect', () => {
        set.delete(socket);
        if (set.size === 0) this.bridgeSockets.delete(bridgeId);
      });
      attachOperatorHandlers(this.ctx, this.commands, socket, 'bridge', `bridge:${bridgeId}`);
    });
  }

  /** Ends every session of a bridge token. */
  kickBridge(bridgeId: string): void {
    for (const socket of [...(this.bridgeSockets.get(bridgeId) ?? [])]) socket.disconnect(true);
  }
}
