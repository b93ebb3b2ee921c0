/**
 * Every HTTP listener of the project (HTTP ingest, the KPI API, the ops endpoints) times out slow
 * senders and caps its connections, so no one can hold descriptors open by sending slowly or not
 * at all: headers within `headersMs`, the whole request within `requestMs` (checked each second),
 * idle keep-alive connections closed after 5 s, and a connection budget per listener.
 */
import type { Server, Socket } from 'node:net';
import type { FastifyServerOptions } from 'fastify';
import { ConnectionBudget, type ConnectionBudgetOptions } from './connection-budget.ts';

export interface HttpTimeouts {
  headersMs: number;
  requestMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000 };

const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (err, _req, reply) => {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  // The generic reply type carries every route's schema; this answer belongs to none of them.
  const plain = reply as unknown as { code(n: number): { send(body: unknown): unknown } };
  void plain.code(err.statusCode ?? 400).send({ error: tooLong ? 'uri_too_long' : 'bad_url', message: tooLong ? 'a path segment is longer than 100 characters' : 'the URL is not valid' });
};

/**
 * Fastify server options with the timeouts. Errors the router raises before any route (a bad URL,
 * a path segment over 100 characters) are answered without echoing the URL back.
 */
export const httpServerOptions = (t: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS) => ({
  requestTimeout: t.requestMs,
  keepAliveTimeout: 5000,
  http: { headersTimeout: t.headersMs, connectionsCheckingInterval: 1000 },
  frameworkErrors,
});

/** Puts every connection of `server` (a Fastify app's `.server`) under `budget` (a new one when only options are given). */
export function budgetConnections(server: Server, budget: ConnectionBudget | ConnectionBudgetOptions): ConnectionBudget {
  const b = budget instanceof ConnectionBudget ? budget : new ConnectionBudget(budget);
  server.on('connection', (socket: Socket) => void b.admit(socket));
  return b;
}

/** A listener for people and scrapers, not devices: no login phase, 64 connections per address, 256 in all. */
export const API_CONNECTIONS: ConnectionBudgetOptions = { maxTotal: 256, maxPendingPerAddress: 64, pendingTimeoutMs: 0 };
