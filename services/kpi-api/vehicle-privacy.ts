/**
 * What the KPI API does with vehicles before an answer leaves it: a key without the
 * `fleet-ops` scope sees each vehicle under its municipality's pseudonym (in rows and in an
 * alarm's evidence), and every answer that carries vehicles' movements or positions is written to
 * the location audit.
 */
import type { Principal } from '../../shared/auth/api-keys.ts';
import { defaultPseudonymKeysPath, VehiclePseudonyms } from '../../shared/privacy/pseudonyms.ts';
import { defaultLocationAuditPath, LocationAudit } from './location-audit.ts';

export interface VehiclePrivacy {
  pseudonyms: VehiclePseudonyms;
  audit: LocationAudit;
}

/** The pseudonyms' secrets and the audit, in the data directory. */
export const vehiclePrivacyIn = (dataDir: string): VehiclePrivacy => ({ pseudonyms: new VehiclePseudonyms(defaultPseudonymKeysPath(dataDir)), audit: new LocationAudit(defaultLocationAuditPath(dataDir)) });

export const seesVehicleIds = (p: Principal) => p.scopes.includes('fleet-ops');

/** The name of a vehicle for this caller. */
export function vehicleName(privacy: VehiclePrivacy, p: Principal, municipality: string, deviceId: string): string {
  return seesVehicleIds(p) ? deviceId : privacy.pseudonyms.of(municipality, deviceId);
}

/** An alarm's evidence with each vehicle named for this caller. */
export function namedEvidence(privacy: VehiclePrivacy, p: Principal, municipality: string, evidence: unknown[]): unknown[] {
  if (seesVehicleIds(p)) return evidence;
  return evidence.map((e) => (e && typeof e === 'object' && typeof (e as { deviceId?: unknown }).deviceId === 'string' ? { ...e, deviceId: vehicleName(privacy, p, municipality, (e as { deviceId: string }).deviceId) } : e));
}

/** Records that this caller read these vehicles' movements or positions (nothing when there were none). */
export function auditLocationRead(privacy: VehiclePrivacy, p: Principal, read: { municipality: string; route: string; vehicles: string[]; from?: number; to?: number; at: number }): void {
  if (read.vehicles.length === 0) return;
  const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());
  privacy.audit.record({ at: iso(read.at)!, keyId: p.keyId, municipality: read.municipality, route: read.route, vehicles: [...new Set(read.vehicles)].sort(), pseudonymous: !seesVehicleIds(p), from: iso(read.from), to: iso(read.to) });
}
