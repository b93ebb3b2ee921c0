/** The KPI API's settings (documented in services/kpi-api/README.md). */
import { z } from 'zod';
import { commonEnv, int, port } from '../../shared/config.ts';

export const kpiApiEnv = {
  ...commonEnv,
  HTTP_PORT: port(8080).describe('the API and the dashboard page'),
  HTTP_HOST: z.string().min(1).default('0.0.0.0').describe('bind address'),
  KPI_RATE_LIMIT_PER_MIN: int(600, 1).describe('requests per minute per API key (429 beyond)'),
  KPI_AUTH_FAILURES_PER_MIN: int(60, 1).describe('requests per minute from one address with unknown or missing keys (429 beyond)'),
  OPS_PORT: port(9105).describe('/healthz, /readyz, /metrics'),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100).describe('drain deadline on SIGTERM'),
};

export type KpiApiConfig = z.infer<z.ZodObject<typeof kpiApiEnv>>;
