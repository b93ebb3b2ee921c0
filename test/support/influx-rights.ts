/** What a token can actually do on InfluxDB 2.x, found by trying: a write and a query per bucket. */
import { expect } from 'vitest';
import type { BucketRole } from '../../shared/influx/access.ts';

export interface Rights {
  read: BucketRole[];
  write: BucketRole[];
}

export async function probeRights(url: string, org: string, token: string, buckets: Record<BucketRole, string>): Promise<Rights> {
  const rights: Rights = { read: [], write: [] };
  const auth = { authorization: `Token ${token}` };
  for (const role of ['raw', 'aggregates'] as const) {
    const bucket = buckets[role];
    const write = await fetch(`${url}/api/v2/write?org=${org}&bucket=${encodeURIComponent(bucket)}&precision=ms`, { method: 'POST', headers: auth, body: `rights_probe,device=probe v=1 ${Date.now()}` });
    if (write.status === 204) rights.write.push(role);
    else expect([401, 403, 404], `write to ${bucket}: ${write.status} ${await write.text()}`).toContain(write.status);
    const query = await fetch(`${url}/api/v2/query?org=${org}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/vnd.flux' },
      body: `from(bucket: ${JSON.stringify(bucket)}) |> range(start: -1h) |> limit(n: 1)`,
    });
    if (query.status === 200) rights.read.push(role);
    else expect([401, 403, 404], `query of ${bucket}: ${query.status} ${await query.text()}`).toContain(query.status);
  }
  return rights;
}
