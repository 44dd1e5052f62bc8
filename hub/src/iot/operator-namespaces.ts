// The operator namespaces: /console (the admin token) and /bridge (bridge
// tokens). Both get the same streams and command handlers.
import type { Server, Socket } from '../realtime/index.js';
import { tooManyFailuresError, type AuthGuard } from './auth-guard.js';
import type { Commands } from './commands.js';
import type { ConsoleSessions } from './console-sessions.js';
import type { IotContext } from './context.js';
import type { IotEvents } from './iot-events.js';
import { attachOperatorHandlers } from './operator-handlers.js';
import { cookieOriginAllowed } from './origin-policy.js';
import type { People, Principal } from './people.js';

function refusal(): Error & { data: { code: string } } {
  return Object.assign(new Error('authentication failed'), { data: { code: 'invalid_credentials' } });
}

function crossOriginRefusal(): Error & { data: { code: string } } {
  return Object.assign(new Error('the session cookie is not accepted from this origin'), { data: { code: 'cross_origin' } });
}

/** Called for each new operator session after the built-in handlers: other services add theirs (twins, files). */
export type OperatorHook = (socket: Socket, kind: 'console' | 'bridge', source: string) => void;

/** Connected operator sockets, by namespace; bridge sockets also by token id so that disabling a token ends them. */
export class OperatorSessions {
  private readonly bridgeSockets = new Map<string, Set<Socket>>();
  private readonly sessionHooks: OperatorHook[] = [];
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(
    private readonly ctx: IotContext,
    private readonly commands: Commands,
    private readonly people: People,
    private readonly guard: AuthGuard,
    events: IotEvents,
    private readonly consoleSessions?: ConsoleSessions,
  ) {
    this.allowedOrigins = new Set(ctx.config.allowedOrigins);
    events.on('credentials-revoked', (who) => {
      if (who.kind === 'bridge') this.kickBridge(who.id);
    });
  }

  /** Wires /console and /bridge into `io`. */
  attach(io: Server): void {
    const consoleNsp = io.of('/console');
    consoleNsp.use((socket, next) => {
      this.admitConsole(socket).then(next, (err: unknown) => {
        this.ctx.log.error({ err }, 'console authentication failed unexpectedly');
        next(Object.assign(new Error('service unavailable'), { data: { code: 'unavailable' } }));
      });
    });
    consoleNsp.on('connection', (socket: Socket) => {
      attachOperatorHandlers(this.ctx, this.commands, socket, 'console', 'console', this.people);
      for (const hook of this.sessionHooks) hook(socket, 'console', 'console');
    });
    this.consoleSessions?.onSessionEnd((end) => {
      for (const socket of [...consoleNsp.sockets.values()]) {
        const principal = socket.data.principal as Principal | undefined;
        const ended =
          'sessionId' in end ? socket.data.consoleSession === end.sessionId : 'accountId' in end ? principal?.accountId === end.accountId : principal?.tokenId === end.tokenId;
        if (ended) socket.disconnect(true);
      }
    });

    const bridgeNsp = io.of('/bridge');
    bridgeNsp.use((socket, next) => {
      const ticket = this.guard.admit({ kind: 'bridge', address: socket.handshake.address });
      if (ticket.gate !== 'open') {
        this.ctx.metrics.refusedConnections.inc(`bridge|${ticket.gate}`);
        return next(tooManyFailuresError());
      }
      this.ctx.registry.authenticateBridge(socket.handshake.auth?.token).then(
        (bridge) => {
          if (!bridge) {
            this.guard.failure(ticket);
            this.ctx.metrics.refusedConnections.inc('bridge|invalid_credentials');
            return next(refusal());
          }
          this.guard.success(ticket);
          socket.data.bridgeId = bridge.id;
          // A bridge mirrors every site and may command: an operator of all sites.
          socket.data.principal = { name: `bridge:${bridge.id}`, role: 'operator', sites: null, accountId: null } satisfies Principal;
          next();
        },
        () => {
          this.guard.abandon(ticket);
          next(Object.assign(new Error('service unavailable'), { data: { code: 'unavailable' } }));
        },
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
      attachOperatorHandlers(this.ctx, this.commands, socket, 'bridge', `bridge:${bridgeId}`, this.people);
      for (const hook of this.sessionHooks) hook(socket, 'bridge', `bridge:${bridgeId}`);
    });
  }

  /** Runs `hook` for every operator session from now on. */
  onSession(hook: OperatorHook): void {
    this.sessionHooks.push(hook);
  }

  /** Decides a /console CONNECT: a token (admin or personal), or the console session cookie; returns the refusal, if any. */
  private async admitConsole(socket: Socket): Promise<Error | undefined> {
    const { auth, headers, address } = socket.handshake;
    const refused = this.ctx.metrics.refusedConnections;
    if (auth?.token !== undefined) {
      // A presented token decides alone; it is a guess to count if wrong.
      const ticket = this.guard.admit({ kind: 'admin', address });
      if (ticket.gate !== 'open') {
        refused.inc(`console|${ticket.gate}`);
        return tooManyFailuresError();
      }
      let principal: Principal | undefined;
      try {
        principal = await this.people.fromBearer(typeof auth.token === 'string' ? auth.token : undefined);
      } catch (err) {
        this.guard.abandon(ticket);
        throw err;
      }
      if (principal) {
        this.guard.success(ticket);
        socket.data.principal = principal;
        return undefined;
      }
      this.guard.failure(ticket);
      refused.inc('console|invalid_credentials');
      return refusal();
    }
    // The web console signs in to an httpOnly cookie that the browser sends on the handshake, also from a
    // page of another origin (WebSockets know no CORS; another port of this host is even the same site).
    const session = await this.consoleSessions?.fromCookieHeader(headers.cookie);
    if (session) {
      if (!cookieOriginAllowed(headers, this.allowedOrigins, false)) {
        refused.inc('console|cross_origin');
        return crossOriginRefusal();
      }
      const principal = await this.people.fromSession(session);
      if (principal) {
        socket.data.consoleSession = session.id;
        socket.data.principal = principal;
        return undefined;
      }
    }
    refused.inc('console|invalid_credentials');
    return refusal();
  }

  /** Ends every session of a bridge token on this node. */
  kickBridge(bridgeId: string): void {
    for (const socket of [...(this.bridgeSockets.get(bridgeId) ?? [])]) socket.disconnect(true);
  }
}
