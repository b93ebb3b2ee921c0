import { describe, expect, it } from 'vitest';
import { gatewayEnv } from '../services/gateway/config.ts';
import { parseConfig } from './config.ts';

describe('parseConfig', () => {
  it('takes a deprecated KAFKA_ name for its BUS_ successor; the new name wins when both are set', () => {
    expect(parseConfig(gatewayEnv, { KAFKA_LINGER_MS: '7', KAFKA_PARTITIONS: '3' })).toMatchObject({ BUS_LINGER_MS: 7, BUS_PARTITIONS: 3 });
    expect(parseConfig(gatewayEnv, { KAFKA_LINGER_MS: '7', BUS_LINGER_MS: '9' }).BUS_LINGER_MS).toBe(9);
  });

  it('names the variable in one line when a value is wrong, and hides secrets', () => {
    expect(() => parseConfig(gatewayEnv, { MQTT_PORT: 'abc' })).toThrow(/^invalid configuration: MQTT_PORT='abc'/);
  });
});
