/**
 * A setting's or file's JSON text through a zod schema: the value, or one line saying what is wrong
 * (`not JSON (…)`, or the path of the first wrong field and why) — never a throw. Alarm rules,
 * webhooks and retention overrides read their text through it.
 */
import { z as zod, type z } from 'zod';

export type JsonTextResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** `describe` names the path of a wrong field (default: `a.b[2]`-ish dotted keys, `(value)` for the whole). */
export function parseJsonText<S extends z.ZodType>(text: string, schema: S, describe: (json: unknown, path: readonly PropertyKey[]) => string = (_json, path) => path.map(String).join('.') || '(value)'): JsonTextResult<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON (${(err as Error).message})` };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  return { ok: false, error: `${describe(json, issue.path)}: ${issue.message}` };
}

/** A setting holding JSON text, read through `schema` at start-up: a wrong value names its field. */
export const jsonSetting = <S extends z.ZodType>(schema: S, def = '{}') =>
  zod
    .string()
    .default(def)
    .transform((text, ctx) => {
      const r = parseJsonText(text, schema);
      if (r.ok) return r.value;
      ctx.addIssue({ code: 'custom', message: r.error });
      return zod.NEVER;
    });
