/** The live one-line status of `npm start`, from the stages' own metrics. */
import { counterValue } from '../../shared/http/metrics-text.ts';

export interface StatusSample {
  stored: number;
  online: number;
  deadLetters: number;
  at: number;
}

/** `metrics`: a stage's metrics text, by stage name. */
export async function sampleStatus(metrics: (stage: string) => Promise<string>): Promise<StatusSample> {
  const text = metrics;
  const [writer, gateway, normalizer, aggregator] = await Promise.all([text('writer'), text('gateway'), text('normalizer'), text('aggregator')]);
  return {
    stored: counterValue(writer, 'writer_points_written_total'),
    online: counterValue(gateway, 'gateway_connected_devices'),
    deadLetters: counterValue(normalizer, 'worker_deadletter_records_total') + counterValue(writer, 'worker_deadletter_records_total') + counterValue(aggregator, 'worker_deadletter_records_total'),
    at: Date.now(),
  };
}

export function statusLine(prev: StatusSample, now: StatusSample): string {
  const rate = ((now.stored - prev.stored) / Math.max(1, now.at - prev.at)) * 1000;
  return `readings/s ${rate.toFixed(0).padStart(5)} · stored ${now.stored} · devices online ${now.online} · dead letters ${now.deadLetters}`;
}
