/**
 * Which names hold secrets — one rule for configuration errors (the value is masked), secret
 * files (`NAME_FILE`) and log redaction (the value never reaches a line): a setting or field whose
 * name ends in TOKEN, PASSWORD or SECRET (any case: `INFLUX_TOKEN`, `KAFKA_SASL_PASSWORD`,
 * `password`, `x-webhook-secret`), a stored secret's hash (`secretHash`) and an `Authorization` header.
 */
const SECRET_NAME = /(token|password|secret|secrethash|authorization)$/i;

export const isSecretName = (name: string): boolean => SECRET_NAME.test(name);

export const REDACTED = '[redacted]';

/**
 * `value` with every property under a secret name replaced by REDACTED, in plain objects and
 * arrays at any depth up to 6 (a log object is shallow). Objects without secrets come back as they are.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth > 6) return value;
  // Plain data only: class instances (a request, an error, a Buffer) have serializers of their own.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value;
  if (Array.isArray(value)) {
    const items = value as unknown[];
    let copy: unknown[] | undefined;
    items.forEach((v, i) => {
      const r: unknown = redactSecrets(v, depth + 1);
      if (r !== v) (copy ??= [...items])[i] = r;
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const r = isSecretName(k) && v !== undefined ? REDACTED : redactSecrets(v, depth + 1);
    if (r !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return (copy ?? value) as T;
}
