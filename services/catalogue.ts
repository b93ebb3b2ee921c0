/**
 * The stage catalogue: every stage of the pipeline, once, in start order (downstream first, so the
 * gateway's first acknowledged reading already has consumers). `npm run service -- NAME`,
 * `npm start`, the test harness and the benchmark loop over it. Adding a stage is its folder
 * (code, `config.ts`, `stage.ts`, README) plus one line here.
 */
import type { StageDefinition } from '#shared/stages/stage.ts';
import { aggregatorStage } from './aggregator/stage.ts';
import { alarmsStage } from './alarms/stage.ts';
import { edgeIntakeStage } from './edge-intake/stage.ts';
import { gatewayStage } from './gateway/stage.ts';
import { kpiApiStage } from './kpi-api/stage.ts';
import { monitorStage } from './monitor/stage.ts';
import { normalizerStage } from './normalizer/stage.ts';
import { writerStage } from './writer/stage.ts';

export const CATALOGUE = [normalizerStage, writerStage, aggregatorStage, alarmsStage, edgeIntakeStage, gatewayStage, kpiApiStage, monitorStage] as unknown as StageDefinition[];

export const STAGE_NAMES = CATALOGUE.map((s) => s.name);

export function stageNamed(name: string): StageDefinition | undefined {
  return CATALOGUE.find((s) => s.name === name);
}
