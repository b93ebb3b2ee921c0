/**
 * Least privilege in InfluxDB 2.x: each service gets a token that reads and writes only the
 * buckets its work needs, as production does. Who needs what is the stage catalogue's to say
 * (services/rights.ts); `provisionAccess` creates the buckets and those tokens through the v2 API
 * with the operator's token. It is idempotent, so it can run on every start. Used by
 * `npm run services -- up` on the local InfluxDB and by the compose stack's `influxdb-access` job.
 */
import { InfluxDB } from '@influxdata/influxdb-client';
import { AuthorizationsAPI, BucketsAPI, OrgsAPI, type Permission } from '@influxdata/influxdb-client-apis';

import type { StoreArea } from '../stages/stage.ts';

/** A bucket by what it holds: the raw readings' or the aggregates'. */
export type BucketRole = StoreArea;

/** What one service may read and write. */
export interface Access {
  read: readonly BucketRole[];
  write: readonly BucketRole[];
}

export const DAY_S = 86_400;

/**
 * `KPI_API_INFLUX_TOKEN` for kpi-api: a service's own token where several services share one
 * environment (`eval "$(npm run services -- status)"`); `npm run service` prefers it to INFLUX_TOKEN.
 */
export const ownTokenSetting = (service: string) => `${service.toUpperCase().replace(/-/g, '_')}_INFLUX_TOKEN`;

export interface AccessPlan {
  url: string;
  /** The operator's (set-up) token: all rights. Used here only, never handed to a service. */
  operatorToken: string;
  org: string;
  buckets: Record<BucketRole, { name: string; retentionSeconds: number }>;
  /** Names the tokens (`smartcity <label> <service>`), so a second run finds and reuses them. */
  label?: string;
  /** Each service's rights: one token each. */
  services: Record<string, Access>;
}

export interface ProvisionedAccess {
  orgID: string;
  bucketIDs: Record<BucketRole, string>;
  tokens: Record<string, string>;
}

export async function provisionAccess(plan: AccessPlan): Promise<ProvisionedAccess> {
  const influx = new InfluxDB({ url: plan.url, token: plan.operatorToken, timeout: 30_000 });
  const orgs = await new OrgsAPI(influx).getOrgs({ org: plan.org });
  const orgID = orgs.orgs?.[0]?.id;
  if (!orgID) throw new Error(`InfluxDB has no organisation '${plan.org}'`);

  const bucketsApi = new BucketsAPI(influx);
  const bucketIDs = {} as Record<BucketRole, string>;
  for (const role of ['raw', 'aggregates'] as const) {
    const { name, retentionSeconds } = plan.buckets[role];
    const found = await bucketsApi.getBuckets({ orgID, name }).then((r) => r.buckets?.[0], notFound);
    const bucket = found ?? (await bucketsApi.postBuckets({ body: { orgID, name, retentionRules: [{ type: 'expire', everySeconds: retentionSeconds }] } }));
    bucketIDs[role] = bucket.id!;
  }

  const auths = new AuthorizationsAPI(influx);
  const existing = (await auths.getAuthorizations({ orgID })).authorizations ?? [];
  const tokens: Record<string, string> = {};
  for (const [service, access] of Object.entries(plan.services)) {
    const description = `smartcity ${plan.label ?? plan.org} ${service}`;
    const permissions = permissionsOf(access, orgID, bucketIDs);
    const reuse = existing.find((a) => a.description === description && a.status !== 'inactive' && samePermissions(a.permissions ?? [], permissions));
    const auth = reuse ?? (await auths.postAuthorizations({ body: { orgID, description, permissions } }));
    tokens[service] = auth.token!;
  }
  return { orgID, bucketIDs, tokens };
}

/** The v2 API answers a name lookup that finds nothing with 404. */
function notFound(err: unknown): undefined {
  if ((err as { statusCode?: number }).statusCode === 404) return undefined;
  throw err;
}

export function permissionsOf(access: Access, orgID: string, bucketIDs: Record<BucketRole, string>): Permission[] {
  const on = (action: 'read' | 'write', roles: readonly BucketRole[]) => roles.map((r): Permission => ({ action, resource: { type: 'buckets', id: bucketIDs[r], orgID } }));
  return [...on('read', access.read), ...on('write', access.write)];
}

const key = (p: Permission) => `${p.action}:${p.resource.type}:${p.resource.id ?? '*'}`;
const samePermissions = (a: Permission[], b: Permission[]) => a.map(key).sort().join() === b.map(key).sort().join();
