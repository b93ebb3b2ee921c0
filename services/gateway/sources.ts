/** The gateway's sources, in start order: adding one is its module and a line here. */
import { chirpstackSource } from './chirpstack-source.ts';
import { httpIngestSource } from './http-ingest.ts';
import { mqttSource } from './mqtt-source.ts';
import type { GatewaySource } from './source.ts';

export const GATEWAY_SOURCES: readonly GatewaySource[] = [mqttSource, httpIngestSource, chirpstackSource];
