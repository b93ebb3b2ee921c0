/** `npm start` (embedded, no simulators) as a test meets it: the process, the demo device it printed, and the KPI API with Kalamata's printed key. */
import { freePort } from './services.ts';
import { spawnScript, type Spawned } from './spawn.ts';

export interface StartedNode {
  node: Spawned;
  device: { id: string; secret: string; topic: string };
  mqttUrl: string;
  mqttPort: number;
  /** HTTP ingest's port (any free one). */
  ingestPort: number;
  /** GET on the KPI API with the printed key (a fresh connection each time). */
  api: (path: string) => Promise<{ status: number; rows: Record<string, unknown>[] }>;
}

export async function startNode(dir: string, env: Record<string, string> = {}, opts: { fileLimit?: number } = {}): Promise<StartedNode> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const node = await spawnScript('npm start', ['start.ts', '--no-simulate', '--data-dir', dir, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort)], { OPS_PORT_BASE: '0', ...env }, (l) => l.includes('Try a device by hand'), ['KAFKA_BROKERS', 'INFLUX_URL'], opts);
  const out = node.log();
  const m = /-i (\S+) -u \S+ -P '([^']+)' -q 1 \\\n\s+-t (\S+)/.exec(out)!;
  const key = /^\s+kalamata\s+(sck_\S+)$/m.exec(out)![1]!;
  return {
    node,
    device: { id: m[1]!, secret: m[2]!, topic: m[3]! },
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    mqttPort,
    ingestPort: Number(/HTTP ingest\s+http:\/\/[^:]+:(\d+)\//.exec(out)![1]),
    api: async (path) => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, { headers: { authorization: `Bearer ${key}`, connection: 'close' } });
      return { status: res.status, rows: ((await res.json()) as { rows?: Record<string, unknown>[] }).rows ?? [] };
    },
  };
}
