/** The live one-line status of `npm start`, from the stages' own metrics (each stage says which of its metrics count). */
import { counterValue } from '../../shared/http/metrics-text.ts';
import type { StageDefinition, StatusMetrics } from '../../shared/stages/stage.ts';

export interface StatusSample {
  stored: number;
  online: number;
  deadLetters: number;
  at: number;
}

/** `metrics`: a stage's metrics text, by stage name; `stages`: those running. */
export async function sampleStatus(stages: readonly StageDefinition[], metrics: (stage: string) => Promise<string>): Promise<StatusSample> {
  const texts = await Promise.all(stages.map(async (s) => ({ status: s.status ?? {}, text: s.status ? await metrics(s.name) : '' })));
  const sum = (figure: keyof StatusMetrics) => texts.reduce((total, { status, text }) => total + (status[figure] ? counterValue(text, status[figure]) : 0), 0);
  return { stored: sum('stored'), online: sum('online'), deadLetters: sum('deadLetters'), at: Date.now() };
}

export function statusLine(prev: StatusSample, now: StatusSample): string {
  const rate = ((now.stored - prev.stored) / Math.max(1, now.at - prev.at)) * 1000;
  return `readings/s ${rate.toFixed(0).padStart(5)} · stored ${now.stored} · devices online ${now.online} · dead letters ${now.deadLetters}`;
}
