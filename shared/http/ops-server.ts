/**
 * The operations endpoints every long-running service serves: `/healthz` (the process is alive),
 * `/readyz` (its dependencies are usable; 503 with the reason when not) and Prometheus `/metrics`.
 */
import { API_CONNECTIONS, budgetConnections, httpServerOptions } from '../net/http-limits.ts';
import Fastify, { type FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  detail: Record<string, unknown>;
}

/** A service's registry; process metrics are collected once per process (`processMetrics: false` for the other stages of a one-process run). */
/** Readiness of a service that needs its store: the store answers its health check (and, for a worker, it has joined its group). */
export function storeReadiness(store: { healthy(): Promise<boolean> }, joined: () => boolean = () => true): () => Promise<Readiness> {
  return async () => {
    const up = await store.healthy();
    return { ready: joined() && up, detail: { store: up ? 'up' : 'down' } };
  };
}

export function createMetricsRegistry(service: string, opts: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

export async function startOpsServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  readiness: () => Readiness | Promise<Readiness>;
}): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false, ...httpServerOptions() });
  budgetConnections(app.server, API_CONNECTIONS);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = await opts.readiness();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', ...r.detail });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', opts.registry.contentType).send(await opts.registry.metrics()),
  );
  await app.listen({ port: opts.port, host: opts.host ?? '0.0.0.0' });
  const address = app.server.address();
  return { app, port: typeof address === 'object' && address ? address.port : opts.port };
}
