/**
 * X.509 device identity on the TLS listener (mutual TLS, when MQTT_TLS_CA is set): the listener
 * asks every client for a certificate but lets those without one through to password login. A
 * device presenting one is the device its subject CN names — if the configured CA signed it, the
 * device is registered and active, and the certificate is the one pinned for it in the registry
 * (`npm run devices -- cert` pins each new one, which retires the one before). No password needed.
 */
import type { TLSSocket } from 'node:tls';
import type { DeviceRecord, DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { CONNECT_REFUSAL, type ConnectRefusal } from './refusals.ts';

/** What the TLS handshake established about a client's certificate. */
export interface ClientCertificate {
  /** Signed by the configured CA (the handshake verified the chain). */
  trusted: boolean;
  cn: string | undefined;
  fingerprint256: string;
  /** The verification error when not trusted. */
  error?: string | undefined;
}

/** The certificate a client presented on this TLS socket; undefined when it presented none. */
export function clientCertificateOf(socket: TLSSocket): ClientCertificate | undefined {
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0 || !peer.fingerprint256) return undefined;
  const cn = peer.subject?.CN;
  const authError = socket.authorizationError as Error | string | null | undefined;
  return { trusted: socket.authorized, cn: Array.isArray(cn) ? cn[0] : cn, fingerprint256: peer.fingerprint256, error: authError ? String(authError) : undefined };
}

export type CertificateLogin = { ok: true; device: DeviceRecord } | { ok: false; reason: ConnectRefusal; detail: string };

/** The device a certificate logs in as, or why not. `username`, when the client sent one, must name the same device. */
export function certificateLogin(cert: ClientCertificate, registry: DeviceRegistry, username: string | undefined): CertificateLogin {
  if (!cert.trusted) return { ok: false, reason: CONNECT_REFUSAL.BAD_CERTIFICATE, detail: `not signed by the configured CA (${cert.error ?? 'unverified'})` };
  if (!cert.cn) return { ok: false, reason: CONNECT_REFUSAL.BAD_CERTIFICATE, detail: 'no subject CN' };
  registry.reload();
  const device = registry.get(cert.cn);
  if (!device) return { ok: false, reason: CONNECT_REFUSAL.UNKNOWN_DEVICE, detail: `CN ${cert.cn} is no registered device` };
  if (device.revokedAt) return { ok: false, reason: CONNECT_REFUSAL.REVOKED, detail: `device ${device.id} is revoked` };
  if (device.certFingerprint !== cert.fingerprint256) return { ok: false, reason: CONNECT_REFUSAL.BAD_CERTIFICATE, detail: `not the certificate registered for ${device.id} (replaced, or never issued through the registry)` };
  if (username && username !== device.id) return { ok: false, reason: CONNECT_REFUSAL.CLIENT_ID_MISMATCH, detail: `user name ${username} is not the certificate's device ${device.id}` };
  return { ok: true, device };
}
