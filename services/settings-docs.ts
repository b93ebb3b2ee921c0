/**
 * Which page documents which settings — derived from the stage catalogue (each stage's README
 * holds its table), plus `npm start`'s own page and the engines' (their adapters' settings) — the
 * list `npm run docs` and the drift test share.
 */
import type { z } from 'zod';
import { ENGINE_SETTINGS } from '#shared/engines.ts';
import type { StageDefinition } from '#shared/stages/stage.ts';
import { CATALOGUE } from './catalogue.ts';
import { singleNodeEnv } from './npm-start/config.ts';
import { rawRetentionEnv } from '#shared/privacy/retention.ts';

export interface DocumentedSettings {
  readme: string;
  id: string;
  shape: z.ZodRawShape;
}

export function documentedSettings(stages: readonly StageDefinition[] = CATALOGUE): DocumentedSettings[] {
  return [
    ...stages.map((s) => ({ readme: `services/${s.name}/README.md`, id: s.name, shape: s.env })),
    { readme: 'docs/operations.md', id: 'npm-start', shape: singleNodeEnv },
    { readme: 'docs/privacy.md', id: 'retention', shape: rawRetentionEnv },
    ...Object.entries(ENGINE_SETTINGS).map(([id, shape]) => ({ readme: 'docs/real-engines.md', id, shape })),
  ];
}

export const DOCUMENTED_SETTINGS = documentedSettings();
