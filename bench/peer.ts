/**
 * The reference the benchmark measures the pipeline against: what a municipality would otherwise
 * assemble from stock parts — Mosquitto (Debian's) → Telegraf (`mqtt_consumer`, QoS 1, persistent
 * session) → the same InfluxDB — fed by the same load generator. Telegraf is built from its Go
 * module with only the plugins used here (build tags), cached outside the repository.
 *
 * Configured so that it loses nothing it acknowledged to the broker: Telegraf acknowledges an MQTT
 * message only once its metrics are written (`max_undelivered_messages`), and its buffer holds
 * more than a run offers. Mosquitto takes any device (no per-device login or topic rights): the
 * peer does less per reading than the pipeline, which the report says beside the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheHome } from '../engines/paths.ts';
import { portOpen, waitFor } from '../engines/process.ts';
import { requireTool, run } from '../engines/tools.ts';

export const TELEGRAF_VERSION = '1.37.2';
const PLUGINS = ['inputs.mqtt_consumer', 'outputs.influxdb_v2', 'parsers.json_v2'];
const installDir = join(cacheHome, `telegraf-${TELEGRAF_VERSION}-${PLUGINS.map((p) => p.split('.')[1]).join('-')}`);
export const telegrafBinary = join(installDir, 'bin', 'telegraf');

/** Builds Telegraf once (a few minutes cold): `go install` with the `custom` tag and the plugins used. */
export function installTelegraf(log: (s: string) => void): void {
  if (existsSync(telegrafBinary)) return;
  requireTool('go', 'install the Go toolchain');
  const bin = join(installDir, 'bin-partial');
  mkdirSync(bin, { recursive: true });
  log(`building Telegraf ${TELEGRAF_VERSION} from its Go module (plugins: ${PLUGINS.join(', ')})…`);
  run('go', ['install', `-tags=custom,${PLUGINS.join(',')}`, `github.com/influxdata/telegraf/cmd/telegraf@v${TELEGRAF_VERSION}`], {
    env: { GOBIN: bin, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
    what: `building Telegraf ${TELEGRAF_VERSION}`,
  });
  mkdirSync(join(installDir, 'bin'), { recursive: true });
  renameSync(join(bin, 'telegraf'), telegrafBinary);
}

export interface PeerStore {
  url: string;
  org: string;
  bucket: string;
  token: string;
}

/** Telegraf's configuration: the topic contract's segments become the measurement and tags. */
export function telegrafConfig(mqttPort: number, store: PeerStore, clientId: string): string {
  return `[agent]
  interval = "1s"
  flush_interval = "200ms"
  flush_jitter = "0s"
  metric_batch_size = 5000
  metric_buffer_limit = 2000000
  omit_hostname = true

[[inputs.mqtt_consumer]]
  servers = ["tcp://127.0.0.1:${mqttPort}"]
  topics = ["city/+/+/+/telemetry"]
  qos = 1
  client_id = "${clientId}"
  persistent_session = true
  max_undelivered_messages = 20000
  topic_tag = ""
  # A reading object, or an array of them, as the payload contract has it; booleans kept
  # (the older "json" parser drops them: parking bays and ignition would be lost).
  data_format = "json_v2"
  [[inputs.mqtt_consumer.topic_parsing]]
    topic = "city/+/+/+/telemetry"
    measurement = "_/_/measurement/_/_"
    tags = "_/municipality/_/device/_"
  [[inputs.mqtt_consumer.json_v2]]
    [[inputs.mqtt_consumer.json_v2.object]]
      path = "@this"
      timestamp_key = "ts"
      timestamp_format = "unix_ms"

[[outputs.influxdb_v2]]
  urls = ["${store.url}"]
  token = "${store.token}"
  organization = "${store.org}"
  bucket = "${store.bucket}"
`;
}

export interface RunningPeer {
  mosquitto: ChildProcess;
  telegraf: ChildProcess;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** Starts Mosquitto on `mqttPort` and Telegraf subscribed to it, writing to `store`. */
export async function startPeer(dir: string, mqttPort: number, store: PeerStore, log: (s: string) => void): Promise<RunningPeer> {
  requireTool('mosquitto', 'apt-get install mosquitto');
  installTelegraf(log);
  mkdirSync(dir, { recursive: true });
  const mosquittoConf = join(dir, 'mosquitto.conf');
  // Unbounded in-flight and queued messages, as the pipeline's gateway has: overload waits, it is not dropped.
  writeFileSync(mosquittoConf, `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\nmax_queued_messages 0\npersistence false\nlog_type error\n`);
  const mosquitto = spawn('mosquitto', ['-c', mosquittoConf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('mosquitto', () => portOpen(mqttPort), 10_000);
  const telegrafConf = join(dir, 'telegraf.conf');
  writeFileSync(telegrafConf, telegrafConfig(mqttPort, store, `telegraf-${Date.now().toString(36)}`), { mode: 0o600 });
  const telegraf = spawn(telegrafBinary, ['--config', telegrafConf], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Its subscription must be in place before the load starts (a persistent session keeps it from then on).
  await new Promise((r) => setTimeout(r, 3000));
  if (telegraf.exitCode !== null) throw new Error(`telegraf exited at start (code ${telegraf.exitCode})`);
  return {
    mosquitto,
    telegraf,
    async stop() {
      telegraf.kill('SIGTERM');
      await exited(telegraf);
      mosquitto.kill('SIGTERM');
      await exited(mosquitto);
    },
  };
}
