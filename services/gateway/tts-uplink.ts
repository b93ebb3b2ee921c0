/**
 * Which registered device a The Things Stack v3 uplink belongs to. Pure apart from the registry
 * lookups, and total: any body gives a device or a rejection naming the field.
 *
 * - A DevEUI in the event decides. Its device must be registered with that DevEUI; when the
 *   event's `device_id` also names one of our devices, it must be the same one (a webhook holder
 *   cannot file one device's readings under another's name).
 * - Without a DevEUI, `device_id` may name the device only when TTS_APPLICATION_MAP is set and the
 *   device has no DevEUI registered: the map then confines each TTS application to its
 *   municipality, as CHIRPSTACK_TENANT_MAP does for ChirpStack tenants.
 * - With the map set, the event's application must map to its device's municipality.
 * Identifiers are checked by the one rule every source uses before any lookup.
 */
import type { DeviceRecord, DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { checkDevEui, checkForeignId, shown } from '../../shared/schemas/identifiers.ts';
import { REJECT, type Rejection } from '../../shared/schemas/rejections.ts';

export type TtsRoute = { ok: true; device: DeviceRecord } | { ok: false; rejection: Rejection; deviceId?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function routeTtsUplink(body: unknown, registry: Pick<DeviceRegistry, 'byDevEui' | 'active'>, applications: Record<string, string>): TtsRoute {
  const ids = isObject(body) && isObject(body.end_device_ids) ? body.end_device_ids : undefined;
  if (!ids) return { ok: false, rejection: { code: REJECT.PAYLOAD_UNKNOWN_FORMAT, field: 'end_device_ids', reason: 'end_device_ids: missing (not a The Things Stack uplink message)' } };
  const eui = ids.dev_eui;
  const ttsId = ids.device_id;
  const app = isObject(ids.application_ids) ? ids.application_ids.application_id : undefined;
  const bad = (eui === undefined ? undefined : checkDevEui('end_device_ids.dev_eui', eui)) ?? checkForeignId('end_device_ids.device_id', ttsId) ?? checkForeignId('end_device_ids.application_ids.application_id', app);
  if (bad) return { ok: false, rejection: bad };
  const mapped = Object.keys(applications).length > 0;
  const named = typeof ttsId === 'string' ? registry.active(ttsId) : undefined;

  let device: DeviceRecord | undefined;
  if (typeof eui === 'string') {
    device = registry.byDevEui(eui);
    if (!device) return { ok: false, rejection: { code: REJECT.UNKNOWN_DEVICE, field: 'end_device_ids.dev_eui', reason: `end_device_ids.dev_eui: no active registered device has DevEUI ${eui} (register it with npm run devices -- add … --dev-eui)` } };
    if (named && named.id !== device.id) {
      const reason = `end_device_ids.device_id: ${shown(ttsId)} is registered with ${named.devEui ? `DevEUI ${named.devEui}` : 'no DevEUI'}, but the event's DevEUI ${eui} is ${device.id}`;
      return { ok: false, deviceId: device.id, rejection: { code: REJECT.DEVICE_MISMATCH, field: 'end_device_ids.device_id', reason } };
    }
  } else {
    if (!named) return { ok: false, rejection: { code: REJECT.UNKNOWN_DEVICE, field: 'end_device_ids.device_id', reason: `end_device_ids.device_id: no DevEUI in the event and no active registered device ${shown(ttsId)}` } };
    if (named.devEui) return { ok: false, deviceId: named.id, rejection: { code: REJECT.DEVICE_MISMATCH, field: 'end_device_ids.dev_eui', reason: `end_device_ids.dev_eui: missing, but ${named.id} is registered with DevEUI ${named.devEui}` } };
    if (!mapped) return { ok: false, deviceId: named.id, rejection: { code: REJECT.UNKNOWN_DEVICE, field: 'end_device_ids.dev_eui', reason: 'end_device_ids.dev_eui: missing; a device is found by its TTS device_id only when TTS_APPLICATION_MAP confines each application to a municipality' } };
    device = named;
  }
  if (mapped) {
    const municipality = typeof app === 'string' && Object.hasOwn(applications, app) ? applications[app] : undefined;
    if (municipality !== device.municipality) {
      const reason = `end_device_ids.application_ids.application_id: ${shown(app)} maps to ${municipality ?? 'no municipality'}, but the device is ${device.id} of ${device.municipality}`;
      return { ok: false, deviceId: device.id, rejection: { code: REJECT.TENANT_MISMATCH, field: 'end_device_ids.application_ids.application_id', reason } };
    }
  }
  return { ok: true, device };
}
