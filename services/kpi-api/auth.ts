/**
 * Bearer-key authentication and tenant scoping. Every `/api/` request needs a valid key (401
 * otherwise); a route about one municipality answers only a key of that municipality or an admin
 * key (403 otherwise, before any data is read).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyStore, KeyScope, Principal } from '../../shared/auth/api-keys.ts';
import type { RateLimiter } from '../../shared/rate-limit.ts';
import { API_ERROR } from './responses.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** `failures`: a budget per client address of requests with unknown keys (429 once spent). */
export function bearerAuth(keys: ApiKeyStore, failures?: RateLimiter) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? keys.authenticate(match[1]!) : undefined;
    if (!principal) {
      if (failures && !failures.take(req.ip)) {
        return reply.code(429).send({ error: API_ERROR.RATE_LIMITED, message: 'too many requests with unknown or missing API keys from this address; retry in a minute' });
      }
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="kpi"')
        .send({ error: API_ERROR.UNAUTHORIZED, message: match ? 'unknown or revoked API key' : 'send the API key as "Authorization: Bearer <key>"' });
    }
    req.principal = principal;
  };
}

/** The municipality scope check for routes with a `:municipality` parameter. */
export async function requireTenant(req: FastifyRequest, reply: FastifyReply) {
  const wanted = (req.params as { municipality?: string }).municipality;
  const p = req.principal;
  if (!p || (!p.admin && p.municipality !== wanted)) {
    return reply.code(403).send({ error: API_ERROR.FORBIDDEN, message: `this key reads only municipality '${p?.municipality ?? '?'}'` });
  }
}

/** A route for the platform's operators (admin keys), not for one municipality: 403 otherwise. */
export async function requireAdmin(req: FastifyRequest, reply: FastifyReply) {
  if (!req.principal?.admin) return reply.code(403).send({ error: API_ERROR.FORBIDDEN, message: "this route is the platform operators': it needs an admin key" });
}

/** A route only keys with this scope may call (after the municipality check): 403 otherwise. */
export const requireScope = (scope: KeyScope) => async (req: FastifyRequest, reply: FastifyReply) => {
  if (!req.principal?.scopes.includes(scope)) {
    return reply.code(403).send({ error: API_ERROR.FORBIDDEN, message: `this route needs a key with the '${scope}' scope` });
  }
};
