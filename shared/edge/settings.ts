/** The settings that make a gateway an edge, and those by which the centre knows its edges. */
import { z } from 'zod';
import { jsonSetting } from '../json-text.ts';
import { identSchema } from '../schemas/topics.ts';

const identList = (what: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const items = s.split(',').map((x) => x.trim()).filter(Boolean);
      const bad = items.find((x) => !identSchema.safeParse(x).success);
      if (items.length === 0 || bad !== undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of ${what} ([a-z0-9-])${bad === undefined ? '' : `, not '${bad}'`}` });
        return z.NEVER;
      }
      return [...new Set(items)];
    });

/** The edge gateway: its towns. Unset, the gateway is a central one. */
export const edgeGatewayEnv = {
  EDGE_MUNICIPALITIES: identList('municipalities')
    .optional()
    .meta({
      description:
        "makes this gateway a town's edge (docs/edge.md): it holds only these municipalities' devices (its copy of the registry too) and writes to its own edge topic, <TOPIC_RAW>.edge.<GATEWAY_ID>, which the centre's edge intake checks; GATEWAY_ID must then be [a-z0-9-]",
      docDefault: 'unset (a central gateway)',
    }),
};

/** The JSON of `EDGE_SCOPES`: each edge's id → the municipalities whose readings it may send. */
export const edgeScopesSchema = z.record(identSchema, z.array(identSchema).min(1));
export type EdgeScopes = z.infer<typeof edgeScopesSchema>;

export const edgeScopesEnv = {
  EDGE_SCOPES: jsonSetting(edgeScopesSchema).meta({
    description: 'the edges the centre takes readings from, as JSON: edge id → the municipalities whose readings it may send, e.g. {"kalamata-edge":["kalamata"]} (`npm run services -- edge-login` prints it for the local cluster)',
    docDefault: '{} (no edges)',
  }),
};
