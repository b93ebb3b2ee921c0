/** Grafana's dashboards as files, and their Flux queries filled in the way Grafana fills them. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_DIR = 'deploy/grafana/dashboards';

export interface Target {
  refId: string;
  query: string;
}
export interface Panel {
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string }[] };
  annotations: { list: { name: string; target?: Target }[] };
}

export const dashboards = () =>
  readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, d: JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as Dashboard }));

export const panelsOf = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);

/** The one panel of `file` whose title starts with `title`. */
export function panelNamed(file: string, title: string): Panel {
  const found = panelsOf(dashboards().find((d) => d.file === file)!.d.panels).filter((p) => p.title.startsWith(title));
  if (found.length !== 1) throw new Error(`${file}: ${found.length} panels titled '${title}…'`);
  return found[0]!;
}

/** Grafana's template variables and Flux time macros, filled in for one time range. */
export const fillQuery = (q: string, vars: { bucket: string; agg_bucket: string; municipality: string }, from: number, to: number) =>
  q
    .replaceAll('${bucket}', vars.bucket)
    .replaceAll('${agg_bucket}', vars.agg_bucket)
    .replaceAll('${municipality}', vars.municipality)
    .replaceAll('v.timeRangeStart', new Date(from).toISOString())
    .replaceAll('v.timeRangeStop', new Date(to).toISOString())
    .replaceAll('v.windowPeriod', '10s');
