// Client certificates of devices (mTLS). With `tlsClientAuth` on, a device
// proves itself twice: its token, and a certificate signed by the configured
// CA whose subject CN is its device id. A stolen token alone, or a
// certificate copied from another device, is not enough. See
// docs/security.md ("mTLS").
import type { TLSSocket } from 'node:tls';
import type { TlsClientAuth } from '../config/index.js';

/** Why a device's certificate was refused (the connect_error `data.code`). */
export type CertificateRefusal = 'certificate_required' | 'certificate_invalid' | 'certificate_mismatch';

/** What the TLS handshake established about the peer, kept when the connection opens. */
interface PeerIdentity {
  /** The chain verified against the configured CA. */
  authorized: boolean;
  /** A certificate was presented (verified or not). */
  presented: boolean;
  /** Subject CN of the presented certificate. */
  commonName: string | undefined;
}

// Read once per TLS connection, when it is established: a polling session's
// first request may have closed its connection by the time CONNECT arrives,
// and a closed TLSSocket no longer gives its peer certificate.
const identities = new WeakMap<TLSSocket, PeerIdentity>();

/** Records the peer identity of a TLS connection; call on the server's `secureConnection`. */
export function rememberPeer(socket: TLSSocket): void {
  identities.set(socket, identityOf(socket));
}

function identityOf(socket: TLSSocket): PeerIdentity {
  const cert = socket.getPeerCertificate?.();
  const presented = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  const cn = presented ? cert.subject?.CN : undefined;
  return { authorized: socket.authorized === true, presented, commonName: typeof cn === 'string' ? cn : undefined };
}

/**
 * The refusal for a device claiming `deviceId` over `transportSocket` (the
 * socket of the request that opened its session), or undefined when its
 * certificate, or the policy, lets it through. Fails closed: a TLS
 * connection the hub never saw established counts as presenting nothing.
 */
export function deviceCertificateRefusal(mode: TlsClientAuth, transportSocket: unknown, deviceId: unknown): CertificateRefusal | undefined {
  if (mode === 'off') return undefined;
  const tls = transportSocket as TLSSocket | undefined;
  const peer = tls?.encrypted ? (identities.get(tls) ?? identityOf(tls)) : undefined;
  if (!peer?.presented) return mode === 'optional' ? undefined : 'certificate_required';
  if (!peer.authorized) return 'certificate_invalid';
  if (typeof deviceId !== 'string' || peer.commonName !== deviceId) return 'certificate_mismatch';
  return undefined;
}
