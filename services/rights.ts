/**
 * Who may do what, derived from the stage catalogue: each stage's bus principal and store token
 * hold exactly the rights its definition declares (`rights` in its `stage.ts`). Grafana reads the
 * store but is no stage of ours: it is the one party declared here.
 */
import type { Access } from '#shared/influx/access.ts';
import type { BusParty } from '#shared/kafka/acls.ts';
import type { StageDefinition } from '#shared/stages/stage.ts';
import { CATALOGUE } from './catalogue.ts';

/** Readers of the store outside the pipeline. */
const EXTERNAL_STORE_READERS: Record<string, Access> = { grafana: { read: ['raw', 'aggregates'], write: [] } };

/** The stages that use the bus, and how (following the central device registry counts). */
export function busParties(stages: readonly StageDefinition[] = CATALOGUE): BusParty[] {
  return stages
    .filter((s) => (s.rights.consumes?.length ?? 0) + (s.rights.produces?.length ?? 0) > 0 || s.rights.devices)
    .map((s) => ({ name: s.name, consumes: s.rights.consumes ?? [], produces: s.rights.produces ?? [], watchesGroupsOf: s.rights.watchesGroupsOf ?? [], readsDevices: s.rights.devices === 'read' }));
}

/** Each store user's rights: the stages that declare store rights, and Grafana. */
export function storeAccess(stages: readonly StageDefinition[] = CATALOGUE): Record<string, Access> {
  return { ...Object.fromEntries(stages.flatMap((s) => (s.rights.store ? [[s.name, s.rights.store]] : []))), ...EXTERNAL_STORE_READERS };
}

export const BUS_PARTIES = busParties();
export const STORE_ACCESS = storeAccess();
/** The services that get a store token of their own. */
export const STORE_SERVICES = Object.keys(STORE_ACCESS);
