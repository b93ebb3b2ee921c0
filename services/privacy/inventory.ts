/**
 * The data inventory of docs/privacy.md — what is stored, where, for how long, who can read it —
 * generated from what the code holds: the readings' schemas, the aggregator's window maths, the
 * alarm points' schema, the retention settings' defaults, the buckets' and topics' retention and
 * each stage's declared rights. `npm run docs` writes it; a test fails when the page differs.
 * What no schema says (why a data set is personal) is written here once, beside its entry.
 */
import type { TopicRole } from '#shared/stages/stage.ts';
import { edgeTopic } from '#shared/edge/topics.ts';
import { z } from 'zod';
import { busEnv } from '#shared/config.ts';
import { DEFAULT_REGISTRY_TOPIC } from '#shared/kafka/registry-topic.ts';
import { AGG_STORE_DAYS, BUS_RETENTION_HOURS, rawRetentionDays, rawRetentionEnv } from '#shared/privacy/retention.ts';
import { VOCABULARY } from '#shared/schemas/kinds.ts';
import { valuesOfKind } from '#shared/schemas/readings.ts';
import { KINDS, type Kind } from '#shared/schemas/topics.ts';
import { ALARM_MEASUREMENT, storedAlarmSchema } from '#shared/store/alarms.ts';
import { TAG_ATTRIBUTES } from '#shared/store/points.ts';
import { energyWindow, fleetWindow, parkingWindow } from '../aggregator/window-math.ts';
import { BUS_PARTIES, STORE_ACCESS } from '../rights.ts';

export interface InventoryRow {
  data: string;
  holds: string;
  where: string;
  kept: string;
  readers: string;
  personal: string;
}

const code = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(', ');
/** A schema's keys; a union's, of all its options. */
const keysOf = (s: z.ZodType): string[] => {
  const def = (s as unknown as { def: { type: string; shape?: Record<string, unknown>; options?: z.ZodType[] } }).def;
  if (def.type === 'union') return [...new Set(def.options!.flatMap(keysOf))];
  return Object.keys(def.shape ?? {});
};
const readersOf = (area: 'raw' | 'aggregates') => code(Object.entries(STORE_ACCESS).filter(([, a]) => a.read.includes(area)).map(([name]) => name));
const consumersOf = (topic: TopicRole) => BUS_PARTIES.filter((p) => p.consumes.includes(topic)).map((p) => `\`${p.name}\``);

/** What makes each kind personal data, or not. */
const PERSONAL: Record<Kind, string> = {
  energy: 'no: a building\'s or circuit\'s consumption',
  fleet: "**yes**: positions follow a driver. Vehicles in private use keep no position (`FLEET_WORKING_HOURS`, `use=private`); outside `fleet-ops` keys a vehicle is a pseudonym",
  parking: 'no: a bay free or taken (no plate, no person)',
};

const aggregateFields: Record<Kind, string[]> = {
  energy: Object.keys(energyWindow(undefined, []).agg),
  fleet: Object.keys(fleetWindow(undefined, [], { jitterM: 0, movingKmh: 0, speedLimitKmh: 0, maxGapS: 0 }).agg),
  parking: Object.keys(parkingWindow(undefined, [], 0, 1).agg),
};

export function inventory(): InventoryRow[] {
  const retention = z.object(rawRetentionEnv).parse({});
  const busDefaults = z.object(busEnv).parse({});
  const tags = code(['municipality', 'device', ...TAG_ATTRIBUTES]);
  const busKept = `${BUS_RETENTION_HOURS / 24} days (the brokers' retention)`;
  return [
    ...KINDS.map((kind) => ({
      data: `raw \`${VOCABULARY[kind].raw}\` readings`,
      holds: `${code(keysOf(valuesOfKind[kind]))}; tags ${tags}`,
      where: 'InfluxDB raw bucket (`INFLUX_BUCKET`); `npm start`: `DATA_DIR/store.db`',
      kept: `${rawRetentionDays(retention, kind, '')} days (\`RAW_RETENTION_DAYS_${kind.toUpperCase()}\`, shorter per municipality)`,
      readers: `${readersOf('raw')}; \`privacy\` export`,
      personal: PERSONAL[kind],
    })),
    ...KINDS.map((kind) => ({
      data: `\`${VOCABULARY[kind].aggregate}\` windows`,
      holds: `${code([...aggregateFields[kind], 'carry'])} per device and ${VOCABULARY[kind].windowMs / 60_000}-minute window; same tags`,
      where: 'InfluxDB aggregates bucket (`INFLUX_AGG_BUCKET`); `npm start`: `DATA_DIR/store.db`',
      kept: `${AGG_STORE_DAYS} days (the bucket's; \`AGG_RETENTION_DAYS\`)`,
      readers: readersOf('aggregates'),
      personal: kind === 'fleet' ? "**yes**: a vehicle's hour (distance, times) — no position: `carry` keeps none (it is read back from the raw reading while that is kept)" : PERSONAL[kind],
    })),
    {
      data: `alarms (\`${ALARM_MEASUREMENT}\`)`,
      holds: `${code(Object.keys(storedAlarmSchema.shape.fields.shape))}; tags ${code(Object.keys(storedAlarmSchema.shape.tags.shape))}`,
      where: 'aggregates bucket / store',
      kept: `${AGG_STORE_DAYS} days`,
      readers: `${readersOf('aggregates')}; webhooks of the municipality`,
      personal: "a vehicle's alarm: **yes** (its evidence holds positions); shown under a pseudonym outside `fleet-ops`",
    },
    {
      data: `\`${busDefaults.TOPIC_RAW}\``,
      holds: 'each device message as received (envelope: gateway, receive time, device; the payload)',
      where: 'Kafka; `npm start`: `DATA_DIR/bus.db`',
      kept: busKept,
      readers: `${[...consumersOf('raw'), '`privacy` export'].join(', ')}; Kafka operators`,
      personal: "**yes** for vehicles: positions, private use included (they are dropped after it, at the normaliser)",
    },
    {
      data: `\`${edgeTopic(busDefaults.TOPIC_RAW, '<edge id>')}\``,
      holds: "a town edge's device messages as received, its status and its own dead letters (docs/edge.md)",
      where: 'Kafka (town edges only)',
      kept: busKept,
      readers: `${consumersOf('edges').join(', ')}; Kafka operators`,
      personal: '**yes** for vehicles: as the raw topic',
    },
    {
      data: `\`${busDefaults.TOPIC_NORMALIZED}\``,
      holds: 'each device message normalised (docs/normalized-topic.md)',
      where: 'Kafka; `npm start`: `DATA_DIR/bus.db`',
      kept: busKept,
      readers: `${consumersOf('normalized').join(', ')}; Kafka operators`,
      personal: '**yes** for vehicles: positions (none in private use)',
    },
    {
      data: `\`${busDefaults.TOPIC_DEADLETTER}\``,
      holds: 'reason, stage, source position and the original record',
      where: 'Kafka; `npm start`: `DATA_DIR/bus.db`',
      kept: `${busKept}; \`privacy erase\` deletes a device's`,
      readers: `${[...consumersOf('deadletter'), '`privacy` export'].join(', ') || '`privacy` export'}; Kafka operators`,
      personal: "a vehicle's: **yes** unless it may be in private use (then the original is left out)",
    },
    { data: 'device registry', holds: 'id, municipality, kind, salted secret hash, attributes, DevEUI, certificate fingerprint', where: `\`DATA_DIR/devices.json\`; across machines the compacted topic \`${DEFAULT_REGISTRY_TOPIC}\` and each service's copy (\`DATA_DIR/devices.<service>.copy.json\`, 0600)`, kept: 'until erased (a revoked entry stays, marked)', readers: `${BUS_PARTIES.filter((p) => p.readsDevices).map((p) => `\`${p.name}\``).join(', ')}; \`devices\` CLI`, personal: "a vehicle's entry names it (no driver)" },
    { data: "a gateway's verified logins", holds: 'device id, the registry hash it was checked against, a salted scrypt hash of the secret', where: '`DATA_DIR/gateway-logins.<GATEWAY_ID>.json` (0600), on each gateway', kept: "until the device's entry changes (revoked, rotated, erased)", readers: 'that gateway', personal: 'no' },
    { data: 'KPI API keys', holds: 'key id, municipality, scopes, salted hash', where: '`DATA_DIR/api-keys.json` (0600)', kept: 'until revoked', readers: 'KPI API', personal: 'no' },
    { data: "pseudonyms' secrets", holds: 'a 256-bit secret per municipality', where: '`DATA_DIR/pseudonym-keys.json` (0600)', kept: 'until rotated', readers: 'KPI API', personal: 'no (it is what re-identifies: keep it as a key)' },
    { data: 'alarm notes', holds: 'acknowledgements and comments: who (key id), when, text', where: '`DATA_DIR/alarm-notes.json`', kept: 'with the alarm; `privacy erase`', readers: 'KPI API (the municipality\'s keys)', personal: "operators' key ids and free text" },
    { data: 'location-read audit', holds: 'who (key id), route, vehicles as named, range, when', where: '`DATA_DIR/location-audit.jsonl` (0600, append-only)', kept: 'not deleted by the platform', readers: "the municipality's `data-protection` keys", personal: 'yes: who looked at whom' },
    { data: 'privacy requests audit', holds: 'export or erase, device, who, when, how much', where: '`DATA_DIR/privacy-requests.jsonl` (0600)', kept: 'not deleted by the platform', readers: 'operators', personal: 'names the device' },
  ];
}

export function inventoryTable(rows = inventory()): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  return ['| data | what it holds | where | kept | who can read it | personal data? |', '|---|---|---|---|---|---|', ...rows.map((r) => `| ${[r.data, r.holds, r.where, r.kept, r.readers, r.personal].map(cell).join(' | ')} |`)].join('\n');
}
