/**
 * Fault modes a tester can switch on. Each works on one device's stream of outgoing messages, so
 * the ground truth can say exactly what was sent, when, and what was wrong with it.
 */
export const FAULTS = ['malformed', 'duplicates', 'out-of-order', 'late', 'clock-skew', 'reconnect-storm'] as const;
export type Fault = (typeof FAULTS)[number];

export interface FaultOptions {
  enabled: Set<Fault>;
  /** Chance per message of a malformed, duplicate, out-of-order or late message. */
  rate: number;
  /** How far a skewed device clock is off (ms); a fault-rate share of devices is skewed. */
  skewMs: number;
  /** A late message is held back for this many of the device's messages. */
  lateBy: number;
  /** Seconds between reconnect storms. */
  stormEverySec: number;
}

export const defaultFaults = (): FaultOptions => ({ enabled: new Set(), rate: 0.02, skewMs: 5 * 60_000, lateBy: 20, stormEverySec: 5 });

export function parseFaults(list: string): Set<Fault> {
  const out = new Set<Fault>();
  for (const f of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(FAULTS as readonly string[]).includes(f)) throw new Error(`unknown fault '${f}' (known: ${FAULTS.join(', ')})`);
    out.add(f as Fault);
  }
  return out;
}

/** Ways a payload can be broken, each one a different reason for the normaliser to give. */
export const MALFORMATIONS: ((payload: string) => string)[] = [
  (p) => p.slice(0, Math.max(1, Math.floor(p.length / 2))), // truncated JSON
  () => 'not json at all',
  (p) => p.replace(/"(energy_wh|lat|occupied)":[^,}]+/, '"$1":"n/a"'), // wrong type in a required field
  (p) => p.replace(/"ts":[^,}]+,?/, '"ts":"yesterday",'), // unparseable timestamp
];
