/** Which page documents which settings: the list `npm run docs` and the drift test share. */
import type { z } from 'zod';
import { aggregatorEnv } from '../../services/aggregator/config.ts';
import { gatewayEnv } from '../../services/gateway/config.ts';
import { kpiApiEnv } from '../../services/kpi-api/config.ts';
import { monitorEnv } from '../../services/monitor/config.ts';
import { normalizerEnv } from '../../services/normalizer/config.ts';
import { singleNodeEnv } from '../../services/npm-start/config.ts';
import { writerEnv } from '../../services/writer/config.ts';

export const DOCUMENTED_SETTINGS: { readme: string; id: string; shape: z.ZodRawShape }[] = [
  { readme: 'services/gateway/README.md', id: 'gateway', shape: gatewayEnv },
  { readme: 'services/normalizer/README.md', id: 'normalizer', shape: normalizerEnv },
  { readme: 'services/writer/README.md', id: 'writer', shape: writerEnv },
  { readme: 'services/aggregator/README.md', id: 'aggregator', shape: aggregatorEnv },
  { readme: 'services/kpi-api/README.md', id: 'kpi-api', shape: kpiApiEnv },
  { readme: 'services/monitor/README.md', id: 'monitor', shape: monitorEnv },
  { readme: 'docs/operations.md', id: 'npm-start', shape: singleNodeEnv },
];
