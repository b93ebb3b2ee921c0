/**
 * Brings up the real Kafka and InfluxDB when they are not running (from clean data), reuses them
 * when they are, and stops in teardown only what it started itself.
 */
import type { TestProject } from 'vitest/node';
import { down, serviceEnv, status, up } from '../../engines/services.ts';
import { MissingToolError } from '../../engines/tools.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    services: Record<string, string>;
  }
}

let startedHere: string[] = [];

export async function setup(project: TestProject) {
  const running = (await status()).every((s) => s.running);
  if (!running) {
    try {
      startedHere = (await up({ clean: true, log: (l) => console.error(`[services] ${l}`) })).started;
    } catch (err) {
      if (err instanceof MissingToolError) {
        console.error(err.message);
        process.exit(1);
      }
      throw err;
    }
  } else {
    // Reused services still need the project's topics and database (idempotent).
    await up();
  }
  project.provide('services', serviceEnv());
}

export async function teardown() {
  if (startedHere.length > 0) await down(startedHere);
}
