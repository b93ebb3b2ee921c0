/**
 * The pipeline monitor: scrapes the services' Prometheus `/metrics` every interval and writes the
 * pipeline's own counters and gauges into InfluxDB (measurement `pipeline`, tag `service` plus the
 * metric's labels, one field per metric) — what Telegraf's prometheus input does, so the Grafana
 * "Pipeline health" dashboard reads the same store as the city dashboards.
 */
import { Counter, type Registry } from 'prom-client';
import { parseSamples, type Sample } from '../../shared/http/prometheus-samples.ts';
import type { Logger } from '../../shared/logging.ts';
import { PIPELINE_MEASUREMENT, type StorePoint } from '../../shared/store/store.ts';

/**
 * The pipeline's own metrics — those named after a scraped service (`kpi-api` → `kpi_api_…`), and
 * the `worker_…` ones every stream worker has; process and runtime metrics stay in Prometheus.
 */
export function pipelineMetric(services: readonly string[]): RegExp {
  return new RegExp(`^(${[...services.map((s) => s.replace(/-/g, '_')), 'worker'].join('|')})_`);
}

export interface MetricsSource {
  service: string;
  /** The Prometheus text of that service (an HTTP scrape, or a registry in tests and one-process mode). */
  read(): Promise<string>;
}

export function httpSource(service: string, url: string, timeoutMs = 5000): MetricsSource {
  return {
    service,
    read: async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.text();
    },
  };
}

export function samplesToPoints(service: string, samples: Sample[], at: number): StorePoint[] {
  return samples.map((s) => {
    const tags: Record<string, string> = { service };
    for (const [k, v] of Object.entries(s.labels)) if (k !== 'service' && v !== '') tags[k] = v;
    return { measurement: PIPELINE_MEASUREMENT, tags, fields: { [s.name]: s.value }, ts: at };
  });
}

export interface Monitor {
  scrapeOnce(): Promise<number>;
  stop(): void;
}

export function startMonitor(opts: { sources: MetricsSource[]; write: (points: StorePoint[]) => Promise<void>; intervalMs: number; log: Logger; registry: Registry }): Monitor {
  const failures = new Counter({ name: 'monitor_scrape_failures_total', help: 'Failed scrapes by service', labelNames: ['target'], registers: [opts.registry] });
  const down = new Set<string>();
  const ours = pipelineMetric(opts.sources.map((s) => s.service));

  async function scrapeOnce(): Promise<number> {
    const at = Date.now();
    const points: StorePoint[] = [];
    await Promise.all(
      opts.sources.map(async (src) => {
        try {
          points.push(...samplesToPoints(src.service, parseSamples(await src.read(), (n) => ours.test(n)), at));
          if (down.delete(src.service)) opts.log.info({ service: src.service }, 'scrape target back');
        } catch (err) {
          failures.inc({ target: src.service });
          // Log a target going away once, not every interval.
          if (!down.has(src.service)) opts.log.warn({ service: src.service, err: (err as Error).message }, 'scrape failed');
          down.add(src.service);
        }
      }),
    );
    await opts.write(points);
    return points.length;
  }

  let running = true;
  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    if (!running) return;
    scrapeOnce()
      .catch((err: Error) => opts.log.warn({ err: err.message }, 'writing pipeline metrics failed; next interval tries again'))
      .finally(() => {
        if (running) timer = setTimeout(loop, opts.intervalMs);
      });
  };
  timer = setTimeout(loop, 0);
  return {
    scrapeOnce,
    stop() {
      running = false;
      clearTimeout(timer);
    },
  };
}
