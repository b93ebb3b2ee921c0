/** The KPI API's settings (documented in services/kpi-api/README.md). */
import { z } from 'zod';
import { commonEnv, influxEnv, int, port } from '../../shared/config.ts';

export const kpiApiEnv = {
  ...commonEnv,
  ...influxEnv,
  HTTP_PORT: port(8080),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** Requests per minute per API key. */
  KPI_RATE_LIMIT_PER_MIN: int(600, 1),
  /** Requests per minute from one address with an unknown or revoked key (429 beyond): key guessing is slowed down. */
  KPI_AUTH_FAILURES_PER_MIN: int(60, 1),
  /** Operations endpoints (/healthz, /readyz, /metrics) on their own port like every service. */
  OPS_PORT: port(9105),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100),
};

export type KpiApiConfig = z.infer<z.ZodObject<typeof kpiApiEnv>>;
