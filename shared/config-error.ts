/** A setting that cannot work: its message is one line naming the variable (shared/config.ts). */
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from './errors.ts';

export class ConfigError extends Error {
  // Named, so it is still told apart after crossing a thread (`thread-calls.ts` carries the name).
  override name = 'ConfigError';
  readonly code = ERROR_CODES.CONFIG;
}

/** The file a setting names (a secret, a CA bundle); a ConfigError naming the setting if it cannot be read. */
export function readSettingFile(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${setting}='${path}': cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
