/**
 * The KPI API as a Fastify app (no listening here, so tests can inject requests): routes under
 * `/api/v1`, the OpenAPI document at `/openapi.json`, and the dashboard page at `/`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import { API_CONNECTIONS, budgetConnections, httpServerOptions } from '../../shared/net/http-limits.ts';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import type { Logger } from '../../shared/logging.ts';
import { RateLimiter } from '../../shared/rate-limit.ts';
import { bearerAuth, requireAdmin, requireScope, requireTenant } from './auth.ts';
import { EDGE_STALE_AFTER_MS, EDGE_VIEW_LOOKBACK_MS, edgeViews, type EdgeSource } from '../../shared/edge/view.ts';
import { toCsv } from './csv.ts';
import type { Kpis } from './kpis.ts';
import { acknowledgeBody, alarmParams, alarmsQuery, commentBody, energyQuery, healthQuery, MAX_RANGE_DAYS, municipalityParams, rangeQuery, savingsQuery } from './params.ts';
import { listAlarms, type AlarmNote, type AlarmNotes } from './alarm-notes.ts';
import { auditLocationRead, namedEvidence, vehicleName, type VehiclePrivacy } from './vehicle-privacy.ts';
import { API_ERROR, alarmNoteReply, alarmRow, locationReadRow, apiErrorOf, edgeRow, energyRow, errorReply, healthRow, kpiReply, parkingRow, savingsRow, vehicleRow } from './responses.ts';

const here = dirname(fileURLToPath(import.meta.url));
const chartJs = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

export interface KpiAppDeps {
  kpis: Kpis;
  /** The town edges' last figures (the store, where the monitor writes the edge intake's metrics). */
  edges: EdgeSource;
  keys: ApiKeyStore;
  /** Operators' acknowledgements and comments of alarms. */
  notes: AlarmNotes;
  /** Vehicles' pseudonyms and the audit of location reads. */
  privacy: VehiclePrivacy;
  log: Logger;
  registry: Registry;
  /** Municipalities an admin key may pick from (the page's selector). */
  municipalities: () => string[];
  now?: () => number;
  /** Requests per minute per API key (429 beyond). */
  rateLimitPerMinute?: number;
  /** Requests per minute per address with unknown keys (429 beyond). */
  authFailuresPerMinute?: number;
}

const wantsCsv = (req: FastifyRequest, format: string) => format === 'csv' || (req.headers.accept ?? '').split(',')[0]?.trim().startsWith('text/csv');

function sendRows(req: FastifyRequest, reply: FastifyReply, name: string, scope: { municipality: string; from?: number; to?: number; format: string }, rows: object[]) {
  if (wantsCsv(req, scope.format)) {
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${scope.municipality}-${name}.csv"`).send(toCsv(rows));
  }
  const iso = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return reply.send({ municipality: scope.municipality, from: iso(scope.from), to: iso(scope.to), rows });
}

export async function buildKpiApp(deps: KpiAppDeps) {
  const { kpis, keys, log, privacy } = deps;
  const now = deps.now ?? Date.now;
  // Requests are counted in metrics, not logged one by one (the http logger only reports warnings).
  const app = Fastify({ loggerInstance: log.child({ component: 'http' }, { level: 'warn' }), ...httpServerOptions() }).withTypeProvider<ZodTypeProvider>();
  budgetConnections(app.server, API_CONNECTIONS);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The API's routes as registered: the OpenAPI test checks the document against this list.
  const apiRoutes: string[] = [];
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/api/') && r.method !== 'HEAD') apiRoutes.push(`${String(r.method)} ${r.url}`);
  });

  const requests = new Counter({ name: 'kpi_api_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [deps.registry] });
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const first = err.validation[0];
      const where = `${err.validationContext ?? 'request'}${first?.instancePath ? first.instancePath.replaceAll('/', '.') : ''}`;
      return reply.code(400).send({ error: API_ERROR.BAD_REQUEST, message: `${where}: ${first?.message ?? 'invalid'}` });
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error({ err, url: req.url }, 'request failed');
    return reply.code(status).send({
      error: apiErrorOf((err as { error?: unknown }).error, status),
      message: status >= 500 ? 'the KPI store could not answer; try again' : (err as Error).message,
    });
  });
  // The page loads only its own scripts and talks only to this API: no injected script can run or send data elsewhere.
  app.addHook('onSend', async (_req, reply) => {
    reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: API_ERROR.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Smart-city KPI API', version: '1.0.0', description: "Energy, mobility and device-health KPIs of one municipality per API key (admin keys read every municipality). Times in ISO-8601; calendar periods in Europe/Athens time." },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a key from `npm run keys -- add --municipality M`' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // The dashboard page and its chart library; the page asks for a key and calls the API itself.
  await app.register(fastifyStatic, { root: join(here, 'page'), prefix: '/' });
  const chartSource = readFileSync(chartJs);
  app.get('/assets/chart.umd.min.js', { schema: { hide: true } }, (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(chartSource));

  await app.register(async (api) => {
    const r = api.withTypeProvider<ZodTypeProvider>();
    const perMinute = deps.authFailuresPerMinute ?? 60;
    r.addHook('onRequest', bearerAuth(keys, new RateLimiter(perMinute / 60, perMinute)));
    // Per key, after authentication: one tenant's script cannot starve the others.
    await r.register(fastifyRateLimit, {
      hook: 'preHandler',
      max: deps.rateLimitPerMinute ?? 600,
      timeWindow: 60_000,
      keyGenerator: (req) => req.principal?.keyId ?? req.ip,
      errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, error: API_ERROR.RATE_LIMITED, message: `more than ${ctx.max} requests per minute with this key; retry in ${Math.ceil(ctx.ttl / 1000)} s` }),
    });
    const errors = { 400: errorReply, 401: errorReply, 403: errorReply };

    r.get('/edges', { preHandler: [requireAdmin], schema: { summary: 'Every town edge the centre takes readings from: connected or cut off since when, its backlog and its oldest unsent reading (an admin key)', response: { 200: z.object({ rows: z.array(edgeRow) }), ...errors } } }, async () => ({
      rows: edgeViews(await deps.edges.edgeFigures(now() - EDGE_VIEW_LOOKBACK_MS), now(), EDGE_STALE_AFTER_MS),
    }));

    r.get('/me', { schema: { summary: 'Who the key is and which municipalities it reads', response: { 200: z.object({ keyId: z.string(), admin: z.boolean(), municipality: z.string().nullable(), municipalities: z.array(z.string()), scopes: z.array(z.string()) }), ...errors } } }, async (req) => {
      const p = req.principal!;
      return { keyId: p.keyId, admin: p.admin, municipality: p.municipality, municipalities: p.admin ? deps.municipalities() : [p.municipality!], scopes: [...p.scopes] };
    });

    const tenant = { preHandler: requireTenant };
    const base = '/municipalities/:municipality';

    r.get(`${base}/energy`, { ...tenant, schema: { summary: 'kWh and peak 15-minute demand per building, district or municipality per day, week or month', params: municipalityParams, querystring: energyQuery, response: { 200: kpiReply(energyRow), ...errors } } }, async (req, reply) => {
      const q = { ...req.query, municipality: req.params.municipality };
      return sendRows(req, reply, 'energy', q, await kpis.energy(q));
    });

    r.get(`${base}/energy/savings`, { ...tenant, schema: { summary: 'kWh per day against a baseline period, in %', params: municipalityParams, querystring: savingsQuery, response: { 200: kpiReply(savingsRow), ...errors } } }, async (req, reply) => {
      const q = { ...req.query, municipality: req.params.municipality, baseline: { from: req.query.baselineFrom, to: req.query.baselineTo } };
      return sendRows(req, reply, 'energy-savings', q, await kpis.savings(q));
    });

    r.get(`${base}/mobility/fleet`, { ...tenant, schema: { summary: 'Per vehicle (under a pseudonym without the fleet-ops scope): km, utilisation, idle share, speeding events', params: municipalityParams, querystring: rangeQuery, response: { 200: kpiReply(vehicleRow), ...errors } } }, async (req, reply) => {
      const q = { ...req.query, municipality: req.params.municipality };
      const rows = (await kpis.fleet(q)).map((v) => ({ ...v, device: vehicleName(privacy, req.principal!, v.municipality, v.device) }));
      auditLocationRead(privacy, req.principal!, { municipality: q.municipality, route: 'mobility/fleet', vehicles: rows.map((v) => v.device), from: q.from, to: q.to, at: now() });
      return sendRows(req, reply, 'fleet', q, rows);
    });

    r.get(`${base}/mobility/parking`, { ...tenant, schema: { summary: 'Per parking lot: occupancy, turnover, mean dwell', params: municipalityParams, querystring: rangeQuery, response: { 200: kpiReply(parkingRow), ...errors } } }, async (req, reply) => {
      const q = { ...req.query, municipality: req.params.municipality };
      return sendRows(req, reply, 'parking', q, await kpis.parking(q));
    });

    r.get(`${base}/alarms`, { ...tenant, schema: { summary: 'Alarms raised in the range (by the time their condition began): open ones first', params: municipalityParams, querystring: alarmsQuery, response: { 200: kpiReply(alarmRow), ...errors } } }, async (req, reply) => {
      const q = { ...req.query, municipality: req.params.municipality };
      const iso = (ms: number) => new Date(ms).toISOString();
      const p = req.principal!;
      const listed = listAlarms(await kpis.alarms(q), deps.notes, q.state);
      const vehicle = (a: (typeof listed)[number]) => a.kind === 'fleet';
      const rows = listed.map((a) => {
        const subject = vehicle(a) ? vehicleName(privacy, p, a.municipality, a.subject) : a.subject;
        return {
          id: a.alarmId, state: a.state, severity: a.severity, rule: a.ruleId, type: a.type, kind: a.kind,
          deviceId: a.type === 'occupancy' ? null : subject, subject,
          raisedAt: iso(a.raisedAt), clearedAt: a.clearedAt === undefined ? null : iso(a.clearedAt),
          evidence: JSON.stringify(vehicle(a) ? namedEvidence(privacy, p, a.municipality, a.evidence) : a.evidence),
          acknowledgedAt: a.note?.acknowledgedAt ?? null, acknowledgedBy: a.note?.acknowledgedBy ?? null, comments: JSON.stringify(a.note?.comments ?? []),
        };
      });
      // A vehicle's alarm carries the positions that raised it.
      auditLocationRead(privacy, p, { municipality: q.municipality, route: 'alarms', vehicles: rows.filter((a) => a.kind === 'fleet').map((a) => a.subject), from: q.from, to: q.to, at: now() });
      return sendRows(req, reply, 'alarms', q, rows);
    });

    /** The alarm, if it is this municipality's (raised within the longest range the API reads). */
    const ownAlarm = async (municipality: string, alarmId: string) => (await kpis.alarms({ municipality, from: now() - MAX_RANGE_DAYS * 86_400_000, to: now() + 86_400_000 })).find((a) => a.alarmId === alarmId);
    const noteReply = (alarmId: string, n: AlarmNote) => ({ id: alarmId, acknowledgedAt: n.acknowledgedAt ?? null, acknowledgedBy: n.acknowledgedBy ?? null, comments: n.comments });
    const notFound = (reply: FastifyReply, alarmId: string, municipality: string) => reply.code(404).send({ error: API_ERROR.NOT_FOUND, message: `no alarm '${alarmId}' in municipality '${municipality}'` });

    r.post(`${base}/alarms/:alarm/ack`, { ...tenant, schema: { summary: 'Acknowledges an open alarm (the first acknowledgement is kept), with an optional comment', params: alarmParams, body: acknowledgeBody, response: { 200: alarmNoteReply, 404: errorReply, ...errors } } }, async (req, reply) => {
      const { municipality, alarm } = req.params;
      if (!(await ownAlarm(municipality, alarm))) return notFound(reply, alarm, municipality);
      return noteReply(alarm, deps.notes.acknowledge(municipality, alarm, req.principal!.keyId, new Date(now()), req.body?.comment));
    });

    r.post(`${base}/alarms/:alarm/comments`, { ...tenant, schema: { summary: "Adds an operator's comment to an alarm", params: alarmParams, body: commentBody, response: { 200: alarmNoteReply, 404: errorReply, ...errors } } }, async (req, reply) => {
      const { municipality, alarm } = req.params;
      if (!(await ownAlarm(municipality, alarm))) return notFound(reply, alarm, municipality);
      return noteReply(alarm, deps.notes.comment(municipality, alarm, req.principal!.keyId, new Date(now()), req.body.text));
    });

    r.get(`${base}/audit/location-reads`, { preHandler: [requireTenant, requireScope('data-protection')], schema: { summary: "Who read the municipality's vehicle movements and positions, when, which vehicles and range (a data-protection key)", params: municipalityParams, querystring: rangeQuery, response: { 200: kpiReply(locationReadRow), ...errors } } }, async (req, reply) => {
      const q = { ...req.query, municipality: req.params.municipality };
      const rows = privacy.audit.reads(q.municipality, q.from, q.to).map((e) => ({ at: e.at, key: e.keyId, route: e.route, vehicles: e.vehicles.join(' '), pseudonymous: e.pseudonymous, from: e.from, to: e.to }));
      return sendRows(req, reply, 'location-reads', q, rows);
    });

    r.get(`${base}/health`, { ...tenant, schema: { summary: 'Per device: last reading and whether it has gone silent', params: municipalityParams, querystring: healthQuery, response: { 200: kpiReply(healthRow), ...errors } } }, async (req, reply) => {
      const rows = (await kpis.health({ municipality: req.params.municipality, now: now(), silentAfterMs: req.query.silentMinutes * 60_000, lookbackMs: req.query.lookbackDays * 86_400_000 })).map((d) => (d.kind === 'fleet' ? { ...d, device: vehicleName(privacy, req.principal!, d.municipality, d.device) } : d));
      return sendRows(req, reply, 'health', { municipality: req.params.municipality, format: req.query.format }, rows);
    });
  }, { prefix: '/api/v1' });

  return Object.assign(app, { apiRoutes });
}

export type KpiApp = Awaited<ReturnType<typeof buildKpiApp>>;
