/**
 * Environment configuration, validated once at start-up (Fastify-style: schema at the boundary).
 * Each service composes the fragments it needs; a wrong value stops the process with one line
 * that names the variable.
 */
import { z } from 'zod';
import { ConfigError, readSettingFile } from './config-error.ts';
import { isSecretName } from './secret-names.ts';

/** Integer from an env string, e.g. `port(1883)`. */
export const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const port = (def: number) => int(def, 0, 65535);

export const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A JSON object mapping a network server's tenant or application ids to municipalities. */
export const municipalityMap = (example: string) =>
  z
    .string()
    .default('{}')
    .transform((s, ctx) => {
      try {
        return z.record(z.string(), z.string()).parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected JSON like ${example}` });
        return z.NEVER;
      }
    });

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

export const commonEnv = {
  LOG_LEVEL: logLevel.describe('pino level: fatal, error, warn, info, debug, trace or silent; secrets are redacted'),
  DATA_DIR: z.string().min(1).default('data').describe('device registry, API keys, gateway spool and (npm start) the embedded log and store'),
};

/**
 * The bus's topics and partitions, whatever the engine (Kafka in production, the embedded log under
 * npm start). The engines' own settings are their adapters' (`shared/kafka/settings.ts`,
 * `shared/influx/settings.ts`), read by `shared/engines.ts`.
 */
export const busEnv = {
  BUS_PARTITIONS: int(6, 1, 1000).describe('partitions of the topics the project creates (the most processes per worker group that share the load)'),
  TOPIC_RAW: z.string().min(1).default('telemetry.raw').describe('raw envelopes from the gateway'),
  TOPIC_NORMALIZED: z.string().min(1).default('telemetry.normalized').describe('normalised messages: one record per device message, its canonical readings'),
  TOPIC_DEADLETTER: z.string().min(1).default('telemetry.deadletter').describe('dead letters: reason, stage, source offset, original'),
};

/**
 * Settings renamed to say what they configure rather than which engine (the bus is Kafka or the
 * embedded log). The old names still work for one release, with a warning at start-up.
 */
export const DEPRECATED_SETTINGS: Record<string, string> = {
  KAFKA_PARTITIONS: 'BUS_PARTITIONS',
  KAFKA_LINGER_MS: 'BUS_LINGER_MS',
  KAFKA_BATCH_MAX: 'BUS_BATCH_MAX',
  KAFKA_SEND_TIMEOUT_MS: 'BUS_SEND_TIMEOUT_MS',
  KAFKA_GROUP_ID: 'BUS_GROUP_ID',
  KAFKA_SESSION_TIMEOUT_MS: 'BUS_SESSION_TIMEOUT_MS',
  KAFKA_GROUP_PREFIX: 'BUS_GROUP_PREFIX',
};

/** The environment with deprecated names copied to their new ones (a new name set wins), and the old names that were used. */
export function withAliases(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; deprecated: string[] } {
  const out = { ...env };
  const deprecated: string[] = [];
  for (const [old, now] of Object.entries(DEPRECATED_SETTINGS)) {
    if (env[old] === undefined) continue;
    deprecated.push(old);
    if (out[now] === undefined) out[now] = env[old];
  }
  return { env: out, deprecated };
}

export { ConfigError };

/** Settings that hold secrets (the one rule of `secret-names.ts`): masked in errors, redacted in logs, and each may be given as a file (`NAME_FILE`). */
export const isSecretSetting = isSecretName;

/**
 * `NAME_FILE=/path` supplies a secret setting from a file (Docker and Kubernetes secrets, the
 * compose stack's InfluxDB tokens), so it never sits in the environment of a process listing.
 * A value set directly wins.
 */
export function withSecretFiles(env: NodeJS.ProcessEnv, names: string[]): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of names) {
    const file = env[`${name}_FILE`];
    if (!isSecretSetting(name) || !file || (env[name] ?? '') !== '') continue;
    out[name] = readSettingFile(`${name}_FILE`, file).toString('utf8').replace(/\r?\n$/, '');
  }
  return out;
}

const warned = new Set<string>();
function warnDeprecated(old: string): void {
  if (warned.has(old)) return;
  warned.add(old);
  process.emitWarning(`${old} is deprecated; use ${DEPRECATED_SETTINGS[old]} (the old name works until the next release)`, { code: 'SMARTCITY_DEPRECATED_SETTING' });
}

/** Parse `env` against `shape`; throws ConfigError whose message is one line naming the variable. */
export function parseConfig<S extends z.ZodRawShape>(shape: S, rawEnv: NodeJS.ProcessEnv = process.env) {
  const aliased = withAliases(rawEnv);
  for (const old of aliased.deprecated) if (old in shape || DEPRECATED_SETTINGS[old]! in shape) warnDeprecated(old);
  const env = withSecretFiles(aliased.env, Object.keys(shape));
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path.join('.') ?? '?';
    const value = env[name];
    const shown = value === undefined ? 'missing' : `'${isSecretSetting(name) ? '***' : value}'`;
    throw new ConfigError(`invalid configuration: ${name}=${shown}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** For `main.ts`: parse, or print the one line and exit 2. */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env) {
  try {
    return parseConfig(shape, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
