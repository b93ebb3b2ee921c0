import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { influxWrapperDir } from './influxdb-build.ts';
import { kafkaPomDir } from './kafka-cluster.ts';

// The installers run only on a machine whose cache is cold, so a wrong path to their inputs shows
// nowhere else: moving this directory once left both pointing outside the repository.
describe('the engines are built from files in this repository', () => {
  it("Kafka's jars: the pom Maven resolves them from", () => {
    expect(existsSync(join(kafkaPomDir, 'pom.xml'))).toBe(true);
  });
  it("InfluxDB's build: the wrapper module", () => {
    expect(existsSync(join(influxWrapperDir, 'go.mod'))).toBe(true);
    expect(existsSync(join(influxWrapperDir, 'rustc-cap-lints.sh'))).toBe(true);
  });
});
