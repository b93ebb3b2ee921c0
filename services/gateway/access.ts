/**
 * Which topics a device may touch (docs/architecture.md): publish only to its own `telemetry` and `status`,
 * subscribe only under its own `cmd/#`. Pure decisions, so the rules are tested alone.
 */
import { PUBLISH_REFUSAL, type PublishRefusal } from './refusals.ts';
import { commandFilter, parseTopic, sameDevice, type DeviceAddress, type TopicChannel } from '../../shared/schemas/topics.ts';

export type PublishDecision = { allowed: true; channel: Exclude<TopicChannel, 'cmd'> } | { allowed: false; reason: PublishRefusal };

export function decidePublish(device: DeviceAddress, topic: string): PublishDecision {
  const t = parseTopic(topic);
  if (!t) return { allowed: false, reason: PUBLISH_REFUSAL.TOPIC_INVALID };
  if (!sameDevice(t, device)) return { allowed: false, reason: PUBLISH_REFUSAL.TOPIC_NOT_OWN };
  if (t.channel === 'cmd') return { allowed: false, reason: PUBLISH_REFUSAL.TOPIC_CMD_PUBLISH };
  return { allowed: true, channel: t.channel };
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
