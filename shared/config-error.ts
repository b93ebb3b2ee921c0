/** A setting that cannot work: its message is one line naming the variable (shared/config.ts). */
export class ConfigError extends Error {}
