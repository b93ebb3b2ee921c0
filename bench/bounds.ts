/**
 * What bounds a system in `npm run bench:peer`, in words the report can print: why its first
 * step past the highest sustained one failed, what a reading cost it against the peer, which
 * processes spent most, and — when `npm run bench:kafka-clients` has measured it — the floor the
 * topic contract alone sets per reading. Pure: the report passes in its steps and the floor.
 */

export interface BoundStep {
  system: string;
  batch: number;
  offered: number;
  published: number;
  lost: number;
  drainS: number | null;
  devicesRefused: number;
  cpuUsPerReading: Record<string, number>;
  sustained: boolean;
}

/** From `bench/reports/kafka-clients.json`: the contract's CPU µs per reading, by readings per device message. */
export interface ContractFloor {
  at: string;
  perReading: Record<string, number>;
}

const LOAD_GENERATOR = 'load generator';

/** CPU µs per stored reading of the system's own processes (the load generator left out). */
export const systemCost = (s: BoundStep): number => Object.entries(s.cpuUsPerReading).reduce((sum, [name, us]) => (name === LOAD_GENERATOR ? sum : sum + us), 0);

const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** A system's highest sustained step at one message size, if any. */
export function highestSustained<S extends Pick<BoundStep, 'system' | 'batch' | 'offered' | 'sustained'>>(steps: S[], system: string, batch: number): S | undefined {
  return steps.filter((s) => s.system === system && s.batch === batch && s.sustained).sort((a, b) => b.offered - a.offered)[0];
}

/** The contract's floor per reading at `batch` readings per message, if that shape was measured. */
export const floorPerReading = (floor: ContractFloor, batch: number): number | undefined => floor.perReading[String(batch)];

/** Why a step did not count as sustained, most telling reason first. */
export function whyNotSustained(s: BoundStep, drainLimitS: number): string {
  const reasons: string[] = [];
  if (s.lost > 0) reasons.push(`${fmt(s.lost)} acknowledged readings not found in the store`);
  if (s.devicesRefused > 0) reasons.push(`${s.devicesRefused} devices could not connect`);
  if (s.published < 0.95 * s.offered) reasons.push(`only ${fmt(s.published)}/s published (each device waits for its PUBACKs; the load generator shares the cores)`);
  if (s.drainS === null && s.lost === 0) reasons.push(`not all stored within ${drainLimitS} s of the end of publishing: the stages fell behind`);
  return reasons.length > 0 ? reasons.join('; ') : 'sustained';
}

/** One line per system and message size that falls short of the peer: what bounds it. */
export function whatBounds(steps: BoundStep[], system: string, batch: number, drainLimitS: number, floor?: ContractFloor): string | undefined {
  const peer = highestSustained(steps, 'peer', batch);
  const best = highestSustained(steps, system, batch);
  if (!peer || !best || best.offered >= peer.offered) return undefined;
  const failed = steps.filter((s) => s.system === system && s.batch === batch && s.offered > best.offered && !s.sustained).sort((a, b) => a.offered - b.offered)[0];
  const busiest = Object.entries(best.cpuUsPerReading)
    .filter(([name]) => name !== LOAD_GENERATOR)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, us]) => `${name} ${us.toFixed(0)}`)
    .join(', ');
  const cost = systemCost(best);
  const peerCost = systemCost(peer);
  const parts = [
    `highest sustained ${fmt(best.offered)} readings/s against the peer's ${fmt(peer.offered)} (${(best.offered / peer.offered).toFixed(2)})`,
    failed ? `at ${fmt(failed.offered)}: ${whyNotSustained(failed, drainLimitS)}` : 'no higher load tried',
    `CPU per reading ${cost.toFixed(0)} µs against the peer's ${peerCost.toFixed(0)} (${(cost / peerCost).toFixed(1)}×); most in ${busiest} µs`,
  ];
  const floorUs = floor && system === 'pipeline' ? floorPerReading(floor, batch) : undefined;
  if (floorUs !== undefined) {
    parts.push(`the topic contract alone costs ${floorUs.toFixed(0)} µs a reading here (Kafka client and broker, store write and InfluxDB, no stage work; \`npm run bench:kafka-clients\` of ${floor?.at}), ${(floorUs / peerCost).toFixed(2)} of the peer's whole cost`);
  }
  return `- **${system}, ${batch} reading${batch === 1 ? '' : 's'} a message**: ${parts.join('; ')}.`;
}
