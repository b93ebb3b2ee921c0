/** Every error class of the project carries its name and a code declared in shared/errors.ts, each code used once. */
import { describe, expect, it } from 'vitest';
import { ApiKeyError } from '#shared/auth/api-keys.ts';
import { ConfigError } from '#shared/config-error.ts';
import { ERROR_CODES } from '#shared/errors.ts';
import { UnwritablePoint } from '#shared/influx/line-protocol.ts';
import { MissingToolError } from '../engines/tools.ts';
import { RegistryError } from '#shared/registry/device-registry.ts';
import { SpoolFullError } from './gateway/spool.ts';
import { KpiSourceUnavailable } from './kpi-api/kpis.ts';

describe('error classes', () => {
  it('have their own name and a declared, distinct code', () => {
    const errors = [new ConfigError('x'), new ApiKeyError('x'), new MissingToolError('x'), new RegistryError('x'), new UnwritablePoint('x'), new SpoolFullError(1), new KpiSourceUnavailable('x')];
    expect(errors.map((e) => e.name)).toEqual(['ConfigError', 'ApiKeyError', 'MissingToolError', 'RegistryError', 'UnwritablePoint', 'SpoolFullError', 'KpiSourceUnavailable']);
    const codes = errors.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(Object.values(ERROR_CODES).sort());
  });
});
