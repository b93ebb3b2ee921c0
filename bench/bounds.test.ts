import { describe, expect, it } from 'vitest';
import { type BoundStep, whatBounds, whyNotSustained } from './bounds.ts';

const step = (system: string, offered: number, over: Partial<BoundStep> = {}): BoundStep => ({
  system,
  batch: 10,
  offered,
  published: offered,
  lost: 0,
  drainS: 0.5,
  devicesRefused: 0,
  cpuUsPerReading: system === 'peer' ? { mosquitto: 4, telegraf: 22, influxdb: 18, 'load generator': 11 } : { kafka: 9, influxdb: 28, normalizer: 35, writer: 37, aggregator: 24, gateway: 17, 'load generator': 16 },
  sustained: true,
  ...over,
});

describe('what bounds a system', () => {
  const steps = [
    step('peer', 20_000),
    step('peer', 40_000),
    step('pipeline', 10_000),
    step('pipeline', 15_000),
    step('pipeline', 20_000, { drainS: null, sustained: false }),
  ];

  it('names the failing step, the cost against the peer, the busiest processes and the floor', () => {
    const line = whatBounds(steps, 'pipeline', 10, 10, { at: '2026-11-28T08:13Z', perReading: { '1': 119.8, '10': 81.5 } });
    expect(line).toBe(
      '- **pipeline, 10 readings a message**: highest sustained 15,000 readings/s against the peer\'s 40,000 (0.38); ' +
        'at 20,000: not all stored within 10 s of the end of publishing: the stages fell behind; ' +
        "CPU per reading 150 µs against the peer's 44 (3.4×); most in writer 37, normalizer 35, influxdb 28 µs; " +
        "the topic contract alone costs 82 µs a reading here (Kafka client and broker, store write and InfluxDB, no stage work; `npm run bench:kafka-clients` of 2026-11-28T08:13Z), 1.85 of the peer's whole cost.",
    );
  });

  it('says nothing of a system at or above the peer, or with nothing sustained', () => {
    expect(whatBounds([step('peer', 10_000), step('npm start', 10_000)], 'npm start', 10, 10)).toBeUndefined();
    expect(whatBounds([step('peer', 10_000), step('npm start', 5_000, { sustained: false, lost: 3 })], 'npm start', 10, 10)).toBeUndefined();
  });

  it('gives every reason a step failed, loss first', () => {
    expect(whyNotSustained(step('pipeline', 10_000, { published: 7_289, devicesRefused: 2, lost: 5, drainS: null, sustained: false }), 10)).toBe(
      '5 acknowledged readings not found in the store; 2 devices could not connect; only 7,289/s published (each device waits for its PUBACKs; the load generator shares the cores)',
    );
  });
});
