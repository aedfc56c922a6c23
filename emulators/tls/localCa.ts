import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

/**
 * A local certificate authority for the Microsoft stand-ins. The Graph client only attaches
 * tokens to https hosts and @azure/identity refuses an http authority, so the Graph and
 * sign-in emulators serve HTTPS; processes trust the CA through NODE_EXTRA_CA_CERTS.
 */
export interface LocalTls {
  caPath: string;
  ca: string;
  cert: string;
  key: string;
}

export const DEFAULT_TLS_DIR = path.resolve(__dirname, '..', '..', '.local', 'tls');
const SERVER_NAMES = ['localhost'];
const SERVER_IPS = ['127.0.0.1', '::1'];

/** Generates the CA and a localhost server certificate once; later calls read them back. */
export function ensureLocalTls(dir: string = DEFAULT_TLS_DIR): LocalTls {
  const caPath = path.join(dir, 'ca.pem');
  const certPath = path.join(dir, 'server.pem');
  const keyPath = path.join(dir, 'server-key.pem');
  if (!(fs.existsSync(caPath) && fs.existsSync(certPath) && fs.existsSync(keyPath))) {
    fs.mkdirSync(dir, { recursive: true });
    const { ca, cert, key } = generate();
    // Written to temporary names first so a concurrent reader never sees half a set.
    for (const [file, pem] of [
      [keyPath, key],
      [certPath, cert],
      [caPath, ca],
    ] as const) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, pem, { mode: 0o600 });
      fs.renameSync(tmp, file);
    }
  }
  return {
    caPath,
    ca: fs.readFileSync(caPath, 'utf8'),
    cert: fs.readFileSync(certPath, 'utf8'),
    key: fs.readFileSync(keyPath, 'utf8'),
  };
}

function generate(): { ca: string; cert: string; key: string } {
  const pki = forge.pki;
  const now = new Date();
  const years = (n: number) => new Date(now.getTime() + n * 365 * 24 * 3600 * 1000);

  const caKeys = pki.rsa.generateKeyPair(2048);
  const caCert = pki.createCertificate();
  caCert.publicKey = caKeys.publicKey;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  caCert.validity.notAfter = years(10);
  const caName = [{ name: 'commonName', value: 'Enterprise Number Archiver local CA' }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  caCert.sign(caKeys.privateKey, forge.md.sha256.create());

  const keys = pki.rsa.generateKeyPair(2048);
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = caCert.validity.notBefore;
  cert.validity.notAfter = years(2);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...SERVER_NAMES.map((value) => ({ type: 2, value })), ...SERVER_IPS.map((ip) => ({ type: 7, ip }))],
    },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());

  return { ca: pki.certificateToPem(caCert), cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) };
}

function serial(): string {
  // Positive, non-zero 16-byte serial as hex.
  return '01' + forge.util.bytesToHex(forge.random.getBytesSync(15));
}
