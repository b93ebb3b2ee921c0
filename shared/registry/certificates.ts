/**
 * A local certificate authority for device identity (X.509), for testing and small deployments:
 * `npm run devices -- cert --id D` issues D a key and a certificate signed by it, and the gateway's
 * TLS listener trusts it through MQTT_TLS_CA. A device certificate names its device in the subject
 * CN (the identity the gateway uses) and in a SAN URI `urn:smartcity:device:<id>`.
 *
 * Keys are ECDSA P-256, made and used through Node's WebCrypto; @peculiar/x509 builds the
 * certificates. The CA's key stays in its directory (mode 0600); larger deployments bring their
 * own PKI and only point MQTT_TLS_CA at its CA.
 */
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import { X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);
type CryptoKey = webcrypto.CryptoKey;
const { subtle } = webcrypto;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface LocalCa {
  cert: x509.X509Certificate;
  key: CryptoKey;
  certPath: string;
}

export interface Issued {
  certPem: string;
  keyPem: string;
  /** SHA-256 fingerprint as TLS reports it (`AB:CD:…`): what the registry pins. */
  fingerprint256: string;
}

/** A positive serial number of 16 random bytes. */
const serial = () => {
  const b = randomBytes(16);
  b[0]! &= 0x7f;
  return b.toString('hex');
};

const keyPem = async (key: CryptoKey) => x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');

export const fingerprintOf = (certPem: string) => new NodeX509(certPem).fingerprint256;

/** The CA in `dir` (ca.crt, ca.key), made on first use. */
export async function openLocalCa(dir: string): Promise<LocalCa> {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const der = x509.PemConverter.decodeFirst(readFileSync(keyPath, 'utf8'));
    const key = await subtle.importKey('pkcs8', der, ALG, false, ['sign']);
    return { cert: new x509.X509Certificate(readFileSync(certPath, 'utf8')), key, certPath };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = (await subtle.generateKey(ALG, true, ['sign', 'verify']));
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=smartcity local device CA',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writeFileSync(keyPath, await keyPem(keys.privateKey), { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, cert.toString('pem'));
  return { cert, key: keys.privateKey, certPath };
}

/**
 * A key and a certificate signed by the CA: for a device (client authentication; CN = device id)
 * or for the gateway's TLS listener (server authentication; the names it is reached by).
 */
export async function issueCertificate(ca: LocalCa, o: { device: string; days: number } | { serverNames: string[]; days: number }): Promise<Issued> {
  const keys = (await subtle.generateKey(ALG, true, ['sign', 'verify']));
  const now = Date.now();
  const isDevice = 'device' in o;
  const names = isDevice
    ? [{ type: 'url' as const, value: `urn:smartcity:device:${o.device}` }]
    : o.serverNames.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${isDevice ? o.device : (o.serverNames[0] ?? 'localhost')}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + o.days * DAY),
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([isDevice ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const certPem = cert.toString('pem');
  return { certPem, keyPem: await keyPem(keys.privateKey), fingerprint256: fingerprintOf(certPem) };
}

/** Writes `<name>.crt` and `<name>.key` (mode 0600) into `dir`; returns their paths. */
export function writeIssued(dir: string, name: string, issued: Issued): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, issued.certPem);
  writeFileSync(key, issued.keyPem, { mode: 0o600 });
  chmodSync(key, 0o600);
  return { cert, key };
}
