// Certificates made at test time with the `openssl` command: a self-signed
// server certificate for localhost, a device CA with device certificates
// (subject CN = device id), and a rogue CA that signs a look-alike.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths and contents of a certificate and its key. */
export interface Pem {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function pem(dir: string, name: string): Pem {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** A folder of certificates, removed by `remove()`. */
export class TestCerts {
  readonly dir = mkdtempSync(join(tmpdir(), 'sitehub-tls-'));

  /** A self-signed server certificate valid for localhost, 127.0.0.1 and ::1. */
  selfSignedServer(name = 'server'): Pem {
    openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=localhost`,
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'], this.dir);
    return pem(this.dir, name);
  }

  /** A CA that may sign client certificates. */
  ca(name: string): Pem {
    openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], this.dir);
    return pem(this.dir, name);
  }

  /** A client certificate with subject CN `commonName`, signed by `ca`. */
  client(ca: Pem, commonName: string, name = `${commonName}-by-${ca.certFile.split('/').pop()!.replace('.crt', '')}`): Pem {
    openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`], this.dir);
    writeFileSync(join(this.dir, `${name}.ext`), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2',
      '-extfile', `${name}.ext`], this.dir);
    return pem(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
