/** The pipeline monitor's settings (documented in services/monitor/README.md). */
import { z } from 'zod';
import { commonEnv, int, port } from '../../shared/config.ts';

export const monitorEnv = {
  ...commonEnv,
  MONITOR_TARGETS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .refine((list) => list.every((t) => /^[a-z0-9-]+=https?:\/\/\S+$/.test(t)), 'expected name=http://host:port/metrics[,…]')
    .transform((list) => list.map((t) => ({ service: t.slice(0, t.indexOf('=')), url: t.slice(t.indexOf('=') + 1) })))
    .meta({ description: 'name=url pairs, comma-separated: the /metrics endpoints scraped', docDefault: 'every other stage of the catalogue, on 127.0.0.1 at its default ops port' }),
  MONITOR_INTERVAL_MS: int(10_000, 500).describe('scrape interval'),
  OPS_PORT: port(9106).describe('/healthz, /readyz, /metrics'),
  SHUTDOWN_TIMEOUT_MS: int(5_000, 100).describe('drain deadline on SIGTERM'),
};

export type MonitorConfig = z.infer<z.ZodObject<typeof monitorEnv>>;
