/**
 * Which topics a device may touch (docs/architecture.md): publish only to its own `telemetry` and `status`,
 * subscribe only under its own `cmd/#`. Pure decisions, so the rules are tested alone.
 */
import { PUBLISH_REFUSAL, type PublishRefusal } from './refusals.ts';
import { commandFilter, parseTopic, sameDevice, statusTopic, telemetryTopic, type DeviceAddress, type TopicChannel } from '../../shared/schemas/topics.ts';

export type PublishDecision = { allowed: true; channel: Exclude<TopicChannel, 'cmd'> } | { allowed: false; reason: PublishRefusal };

export function decidePublish(device: DeviceAddress, topic: string): PublishDecision {
  const t = parseTopic(topic);
  if (!t) return { allowed: false, reason: PUBLISH_REFUSAL.TOPIC_INVALID };
  if (!sameDevice(t, device)) return { allowed: false, reason: PUBLISH_REFUSAL.TOPIC_NOT_OWN };
  if (t.channel === 'cmd') return { allowed: false, reason: PUBLISH_REFUSAL.TOPIC_CMD_PUBLISH };
  return { allowed: true, channel: t.channel };
}

const OWN_TELEMETRY: PublishDecision = { allowed: true, channel: 'telemetry' };
const OWN_STATUS: PublishDecision = { allowed: true, channel: 'status' };

/**
 * `decidePublish` for one logged-in device, its own two topics compared first: each of its
 * publishes is one string comparison instead of a parse (3 % of the gateway's CPU per PUBACK).
 */
export function publishDecider(device: DeviceAddress): (topic: string) => PublishDecision {
  const telemetry = telemetryTopic(device);
  const status = statusTopic(device);
  return (topic) => (topic === telemetry ? OWN_TELEMETRY : topic === status ? OWN_STATUS : decidePublish(device, topic));
}

/** A subscription is allowed when it lies within the device's own `cmd/#` (wildcards only below `cmd`). */
export function decideSubscribe(device: DeviceAddress, filter: string): boolean {
  const own = commandFilter(device).slice(0, -1); // `city/m/k/d/cmd/`
  if (filter === own.slice(0, -1) || filter === `${own}#`) return true;
  if (!filter.startsWith(own)) return false;
  const below = filter.slice(own.length).split('/');
  // `#` only as the last level; `+` anywhere below cmd.
  return below.every((level, i) => level !== '' && (level !== '#' || i === below.length - 1) && !/[#+]./.test(level));
}

/** A device's client id must be its own id, or `id:suffix` for several sessions of one device. */
export const clientIdMatches = (clientId: string, deviceId: string) =>
  clientId === deviceId || clientId.startsWith(`${deviceId}:`);
