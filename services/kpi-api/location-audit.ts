/**
 * Who read whose location: every answer of the KPI API that carries vehicles' movements or
 * positions is recorded — the key, the route, the vehicles as the answer named them (pseudonyms or
 * device ids), the time range asked, when — as a line appended to `DATA_DIR/location-audit.jsonl`
 * (append-only: the API never rewrites or deletes a line). A municipality's data-protection
 * officer reads its own lines through a key with the `data-protection` scope.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';

export const locationReadSchema = z.object({
  at: z.string(),
  keyId: z.string(),
  municipality: z.string(),
  route: z.string(),
  /** The vehicles the answer named, as it named them. */
  vehicles: z.array(z.string()),
  pseudonymous: z.boolean(),
  from: z.string().nullable(),
  to: z.string().nullable(),
});
export type LocationRead = z.infer<typeof locationReadSchema>;

export const defaultLocationAuditPath = (dataDir: string) => join(dataDir, 'location-audit.jsonl');

export class LocationAudit {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
  }

  record(entry: LocationRead): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  /** One municipality's reads with `from <= at < to`, oldest first. */
  reads(municipality: string, from: number, to: number): LocationRead[] {
    if (!existsSync(this.path)) return [];
    const out: LocationRead[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        continue; // a line cut short by a crash mid-append
      }
      const r = locationReadSchema.safeParse(json);
      if (!r.success || r.data.municipality !== municipality) continue;
      const at = Date.parse(r.data.at);
      if (at >= from && at < to) out.push(r.data);
    }
    return out;
  }
}
