/**
 * The MQTT topic contract (docs/architecture.md): `city/{municipality}/{kind}/{deviceId}/{telemetry|status|cmd/…}`.
 * Pure parsing and building, shared by the gateway, the simulators and the tests.
 */
import { z } from 'zod';

export const KINDS = ['energy', 'fleet', 'parking'] as const;
export type Kind = (typeof KINDS)[number];
export const kindSchema = z.enum(KINDS);

/** Lower-case `[a-z0-9-]`, 1–64 characters, not starting or ending with '-'. */
export const IDENT_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const identSchema = z.string().regex(IDENT_RE, 'must be lower-case [a-z0-9-], 1-64 characters');

export interface DeviceAddress {
  municipality: string;
  kind: Kind;
  deviceId: string;
}

export type TopicChannel = 'telemetry' | 'status' | 'cmd';

export interface ParsedTopic extends DeviceAddress {
  channel: TopicChannel;
  /** For `cmd/...`: the levels after `cmd`. */
  rest: string[];
}

export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length < 5 || parts[0] !== 'city') return undefined;
  const [, municipality, kind, deviceId, channel, ...rest] = parts as [string, string, string, string, string, ...string[]];
  if (!IDENT_RE.test(municipality) || !IDENT_RE.test(deviceId)) return undefined;
  if (!(KINDS as readonly string[]).includes(kind)) return undefined;
  if ((channel === 'telemetry' || channel === 'status') && rest.length === 0) {
    return { municipality, kind: kind as Kind, deviceId, channel, rest };
  }
  if (channel === 'cmd') return { municipality, kind: kind as Kind, deviceId, channel, rest };
  return undefined;
}

const base = (d: DeviceAddress) => `city/${d.municipality}/${d.kind}/${d.deviceId}`;
export const telemetryTopic = (d: DeviceAddress) => `${base(d)}/telemetry`;
export const statusTopic = (d: DeviceAddress) => `${base(d)}/status`;
export const commandFilter = (d: DeviceAddress) => `${base(d)}/cmd/#`;

export const sameDevice = (a: DeviceAddress, b: DeviceAddress) =>
  a.municipality === b.municipality && a.kind === b.kind && a.deviceId === b.deviceId;
