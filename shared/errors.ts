/**
 * The project's error classes carry a `name` (kept when an error crosses a thread) and a stable
 * `code` (as Fastify's `FST_ERR_*`): a program switches on the code, a person reads the message.
 * Every code is declared here, once.
 */
export const ERROR_CODES = {
  /** A setting that cannot work (its message names the variable). */
  CONFIG: 'SC_ERR_CONFIG',
  /** The gateway's spool is full: QoS 1 publishes are refused until it drains. */
  SPOOL_FULL: 'SC_ERR_SPOOL_FULL',
  /** A device registry command that cannot be done (unknown device, bad DevEUI …). */
  REGISTRY: 'SC_ERR_REGISTRY',
  /** An API key command that cannot be done. */
  API_KEY: 'SC_ERR_API_KEY',
  /** A tool the local engines need is not installed. */
  MISSING_TOOL: 'SC_ERR_MISSING_TOOL',
  /** A point the store cannot represent (a non-finite number, no field). */
  UNWRITABLE_POINT: 'SC_ERR_UNWRITABLE_POINT',
  /** The KPI API's store did not answer. */
  KPI_SOURCE_UNAVAILABLE: 'SC_ERR_KPI_SOURCE_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];
