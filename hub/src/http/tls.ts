// TLS of the hub's port: the certificate, key and client CA read from the
// files the config names, the client-certificate policy turned into Node's
// TLS options, and a reload that swaps the certificates of a running server.
import { readFileSync } from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { createSecureContext, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import type { HubConfig } from '../config/index.js';

/** The TLS part of a config; undefined tlsCert means clear HTTP. */
export type TlsSettings = Pick<HubConfig, 'tlsCert' | 'tlsKey' | 'tlsCa' | 'tlsClientAuth'>;

function readPem(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${setting} ${file}: ${(err as Error).message}`);
  }
}

/** The certificates, read now from their files (throws naming the setting and file). */
export function readSecureContext(settings: TlsSettings): SecureContextOptions {
  const context: SecureContextOptions = {
    cert: readPem('tlsCert', settings.tlsCert!),
    key: readPem('tlsKey', settings.tlsKey!),
  };
  if (settings.tlsCa !== undefined) context.ca = readPem('tlsCa', settings.tlsCa);
  return context;
}

/**
 * Options for fastify's `https`, or undefined when TLS is off.
 *
 * A client certificate is asked for in every mode but `off`. Only `required`
 * refuses the TLS handshake without a valid one; `optional` and `devices`
 * let the connection through and leave the decision to the device namespace
 * (the console, REST and bridges keep their tokens), which sees Node's
 * verdict in `authorized`.
 */
export function httpsOptions(settings: TlsSettings): HttpsServerOptions | undefined {
  if (settings.tlsCert === undefined) return undefined;
  const clientCerts = settings.tlsClientAuth !== 'off';
  return {
    ...readSecureContext(settings),
    minVersion: 'TLSv1.2',
    requestCert: clientCerts,
    rejectUnauthorized: settings.tlsClientAuth === 'required',
  };
}

/**
 * Reads the files again and gives `servers` the new certificates: TLS
 * connections opened from now on use them, open ones keep theirs. On a read
 * or parse error nothing changes and the error is thrown.
 */
export function reloadSecureContext(servers: Iterable<TlsServer>, settings: TlsSettings): void {
  const context = readSecureContext(settings);
  createSecureContext(context); // a key that does not match or a bad PEM throws here, before any server changes
  for (const server of servers) server.setSecureContext(context);
}

/** A bounded label for a failed TLS handshake: Node's or OpenSSL's error code. */
export function tlsFailureCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'other';
}
