/** `npm run services -- up|down|status`: the local real Kafka and InfluxDB. */
import { Command, InvalidArgumentError } from 'commander';
import { down, kafka, serviceEnv, status, up } from './services.ts';

const program = new Command('services').description('local real Kafka (KRaft) and InfluxDB on loopback');

program
  .command('up')
  .description('install (once, cached) and start Kafka and InfluxDB, create the pipeline topics')
  .option('--clean', 'start from empty data directories')
  .option('--brokers <n>', 'Kafka nodes (1-5): 3 or more make a replicated KRaft cluster, whose topics get replication factor 3 and min.insync.replicas 2', (v) => {
    if (!/^[1-5]$/.test(v)) throw new InvalidArgumentError('a number of nodes from 1 to 5');
    return Number(v);
  })
  .action(async (opts: { clean?: boolean; brokers?: number }) => {
    const { started } = await up({ clean: opts.clean === true, brokers: opts.brokers, log: (l) => console.error(l) });
    console.error(started.length ? `started: ${started.join(', ')}` : 'already running');
    await printStatus();
  });

program
  .command('down')
  .description('stop what `up` started (by pid)')
  .action(async () => {
    const stopped = await down();
    console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
  });

program.command('status').description('versions, addresses and the environment for the services').action(printStatus);

program
  .command('kafka-login')
  .argument('<principal>', `one of ${kafka.KAFKA_USERS.join(', ')}`)
  .option('--plain', 'SASL PLAIN instead of SCRAM-SHA-512')
  .description("KEY=value settings that log a service in on the local Kafka's SASL_SSL listener")
  .action((user: string, opts: { plain?: boolean }) => {
    if (!kafka.KAFKA_USERS.includes(user)) throw new Error(`unknown principal '${user}': one of ${kafka.KAFKA_USERS.join(', ')}`);
    for (const [k, v] of Object.entries(kafka.secureClientEnv(user, opts.plain ? 'PLAIN' : 'SCRAM-SHA-512'))) console.log(`${k}=${v}`);
  });

program
  .command('edge-login')
  .argument('<edge-id>', "the edge gateway's id ([a-z0-9-]; its GATEWAY_ID)")
  .requiredOption('--municipality <m...>', 'the municipalities whose readings it may send')
  .description("makes a town edge's Kafka login, topic and rights on the local Kafka; prints the edge's settings, then the centre's EDGE_SCOPES")
  .action(async (edgeId: string, opts: { municipality: string[] }) => {
    const municipalities = opts.municipality.flatMap((m) => m.split(','));
    const edge = await kafka.provisionLocalEdge(edgeId, municipalities);
    console.log(`# edge ${edgeId} (${municipalities.join(', ')}): its gateway's settings`);
    for (const [k, v] of Object.entries(edge.env)) console.log(`${k}=${v}`);
    console.log(`# the centre's edge intake (npm run service -- edge-intake), every edge so far:`);
    console.log(`EDGE_SCOPES=${JSON.stringify(edge.scopes)}`);
  });

async function printStatus() {
  for (const s of await status()) {
    const state = s.running ? `running${s.pid ? ` (pid ${s.pid})` : ' (not started by `up`)'}` : 'stopped';
    console.log(`# ${s.name} ${s.version} at ${s.address}: ${state}`);
  }
  console.log(`# Kafka's SASL_SSL listener: ${kafka.kafkaSecureBrokers()}, SCRAM-SHA-512 or PLAIN, CA ${kafka.kafkaCaPath}; each service's settings: npm run services -- kafka-login NAME`);
  for (const [k, v] of Object.entries(serviceEnv())) console.log(`${k}=${v}`);
}

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
