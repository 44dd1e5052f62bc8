// The polling -> WebSocket upgrade: open the new transport beside the old one,
// check it with a `2probe` / `3probe` round trip, let the polling transport
// finish its requests, then switch and send `5`. Any failure leaves the
// session on polling and reports 'upgradeError'.
import type { EnginePacket } from '@sitehub/protocol';
import type { EngineSocket } from './socket.js';
import type { TransportName } from './options.js';
import type { Transport } from './transport.js';

/** An upgrade that did not happen (engine.io-client's shape): an Error whose `transport` names the candidate. */
export type UpgradeError = Error & { transport: TransportName };

/** Tries to move `engine` onto the transport `name`. */
export function probeUpgrade(engine: EngineSocket, name: TransportName): void {
  const candidate: Transport = engine.createTransport(name);
  const engineClass = engine.constructor as typeof EngineSocket;
  let settled = false;
  engineClass.priorWebsocketSuccess = false;

  const cleanup = (): void => {
    candidate.off('open', onOpen);
    candidate.off('packet', onProbeAnswer);
    candidate.off('error', onCandidateError);
    candidate.off('close', onCandidateClose);
    engine.off('close', onEngineClose);
  };

  const fail = (message: string): void => {
    if (settled) return;
    settled = true;
    cleanup();
    candidate.close();
    engine.upgrading = false;
    const err: UpgradeError = Object.assign(new Error(message), { transport: name });
    engine.emitReserved('upgradeError', err);
  };

  const onCandidateError = (err: Error): void => fail(`probe error: ${err.message}`);
  const onCandidateClose = (): void => fail('probe error: transport closed');
  const onEngineClose = (): void => fail('probe error: socket closed');

  function onOpen(): void {
    if (settled) return;
    candidate.once('packet', onProbeAnswer);
    candidate.send([{ type: 'ping', data: 'probe' }]);
  }

  function onProbeAnswer(packet: EnginePacket): void {
    if (settled) return;
    if (packet.type !== 'pong' || packet.data !== 'probe') {
      fail('probe error');
      return;
    }
    engine.upgrading = true;
    engine.emitReserved('upgrading', candidate);
    engineClass.priorWebsocketSuccess = candidate.name === 'websocket';
    engine.transport.pause(() => {
      if (settled) return;
      if (engine.readyState === 'closed') return fail('probe error: socket closed');
      settled = true;
      cleanup();
      engine.setTransport(candidate);
      candidate.send([{ type: 'upgrade' }]);
      engine.upgrading = false;
      engine.emitReserved('upgrade', candidate);
      engine.flush();
    });
  }

  candidate.once('open', onOpen);
  candidate.once('error', onCandidateError);
  candidate.once('close', onCandidateClose);
  engine.once('close', onEngineClose);
  candidate.open();
}
