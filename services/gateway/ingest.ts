/**
 * The one path every source's readings take onto the bus: MQTT publishes, HTTP ingest requests,
 * network-server uplinks. The payload goes into the raw envelope as received (the normaliser
 * parses it, and dead-letters the original bytes), the forwarder sends it to the bus — or to the
 * spool while the bus is away — and the returned promise resolves only once one of them has it:
 * the moment a source may acknowledge (PUBACK, 202, the network server's ack).
 */
import { rawEnvelope, type Source } from '../../shared/schemas/envelope.ts';
import type { DeviceAddress } from '../../shared/schemas/topics.ts';
import type { Forwarder } from './forwarder.ts';

export class TelemetryIngest {
  private readonly gatewayId: string;
  private readonly forwarder: Forwarder;

  constructor(gatewayId: string, forwarder: Forwarder) {
    this.gatewayId = gatewayId;
    this.forwarder = forwarder;
  }

  forward(device: DeviceAddress, payload: Buffer, source: Source): Promise<void> {
    const receivedAt = Date.now();
    const value = JSON.stringify(rawEnvelope(this.gatewayId, device, payload, source, receivedAt));
    return this.forwarder.submit({ key: device.deviceId, timestamp: receivedAt, value });
  }
}
