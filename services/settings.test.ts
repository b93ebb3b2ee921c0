/** The services' settings through the shared parser: deprecated names, one-line errors, secret files. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config.ts';
import { gatewayEnv } from './gateway/config.ts';
import { influxEnv } from '#shared/influx/settings.ts';

describe('parseConfig', () => {
  it('takes a deprecated KAFKA_ name for its BUS_ successor; the new name wins when both are set', () => {
    expect(parseConfig(gatewayEnv, { KAFKA_LINGER_MS: '7', KAFKA_PARTITIONS: '3' })).toMatchObject({ BUS_LINGER_MS: 7, BUS_PARTITIONS: 3 });
    expect(parseConfig(gatewayEnv, { KAFKA_LINGER_MS: '7', BUS_LINGER_MS: '9' }).BUS_LINGER_MS).toBe(9);
  });

  it('names the variable in one line when a value is wrong, and hides secrets', () => {
    expect(() => parseConfig(gatewayEnv, { MQTT_PORT: 'abc' })).toThrow(/^invalid configuration: MQTT_PORT='abc'/);
  });

  it('reads a secret from NAME_FILE (trailing newline dropped); a value set directly wins; an unreadable file is named', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'secret-')), 'writer.token');
    writeFileSync(file, 'tok-from-file\n');
    expect(parseConfig(influxEnv, { INFLUX_TOKEN_FILE: file }).INFLUX_TOKEN).toBe('tok-from-file');
    expect(parseConfig(influxEnv, { INFLUX_TOKEN_FILE: file, INFLUX_TOKEN: 'direct' }).INFLUX_TOKEN).toBe('direct');
    expect(() => parseConfig(influxEnv, { INFLUX_TOKEN_FILE: '/nonexistent/t' })).toThrow(/^invalid configuration: INFLUX_TOKEN_FILE='\/nonexistent\/t': cannot read it \(ENOENT\)/);
    // Not a secret setting: no file indirection.
    expect(parseConfig(influxEnv, { INFLUX_ORG_FILE: file }).INFLUX_ORG).toBe('smartcity');
  });
});
