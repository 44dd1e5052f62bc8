// The polling -> WebSocket upgrade, seen from the new WebSocket: `2probe`
// is answered `3probe`, then `5` hands the session over. Anything else, a
// failure of the socket, or `upgradeTimeout` abandons the attempt and leaves
// the session on polling.
import type { EnginePacket } from '@sitehub/protocol';
import type { CloseReason, TransportSink } from './transport.js';
import type { WebSocketTransport } from './websocket.js';

/** What the session does at each step of the upgrade. */
export interface UpgradeSteps {
  /** The probe was answered: the pending (or next) poll should end with a noop. */
  probed(): void;
  /** The client sent `5`: switch the session to the WebSocket. */
  complete(): void;
  /** The attempt is over without an upgrade; `badInput` names what the client did wrong, if anything. */
  abandoned(badInput?: string): void;
}

/** One upgrade attempt; it owns the WebSocket until it completes or is abandoned. */
export class UpgradeNegotiation implements TransportSink {
  /** Whether `3probe` has been sent. */
  probed = false;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly transport: WebSocketTransport,
    timeoutMs: number,
    private readonly steps: UpgradeSteps,
  ) {
    transport.sink = this;
    this.timer = setTimeout(() => this.abandon(), timeoutMs);
  }

  onPacket(packet: EnginePacket): boolean {
    if (this.settled) return true;
    if (packet.type === 'ping' && packet.data === 'probe' && !this.probed) {
      this.probed = true;
      this.transport.send([{ type: 'pong', data: 'probe', compress: false }]);
      this.steps.probed();
      return true;
    }
    if (packet.type === 'upgrade') {
      this.settled = true;
      clearTimeout(this.timer);
      this.steps.complete();
      return true;
    }
    this.abandon('unexpected_packet');
    return false;
  }

  onWritable(): void {}

  onTransportError(_reason: CloseReason, _description: string, badInput?: string): void {
    this.abandon(badInput);
  }

  onTransportClose(): void {
    this.abandon();
  }

  /** Gives up: closes the WebSocket, the session stays on polling. */
  abandon(badInput?: string): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.transport.shutdown('close', badInput ? 1002 : 1000);
    this.steps.abandoned(badInput);
  }
}
