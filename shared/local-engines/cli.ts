/** `npm run services -- up|down|status`: the local real Kafka and InfluxDB. */
import { Command } from 'commander';
import { down, kafka, serviceEnv, status, up } from './services.ts';

const program = new Command('services').description('local real Kafka (KRaft) and InfluxDB on loopback');

program
  .command('up')
  .description('install (once, cached) and start Kafka and InfluxDB, create the pipeline topics')
  .option('--clean', 'start from empty data directories')
  .action(async (opts: { clean?: boolean }) => {
    const { started } = await up({ clean: opts.clean === true, log: (l) => console.error(l) });
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
    if (!kafka.KAFKA_USERS.includes(user as kafka.KafkaUser)) throw new Error(`unknown principal '${user}': one of ${kafka.KAFKA_USERS.join(', ')}`);
    for (const [k, v] of Object.entries(kafka.secureClientEnv(user as kafka.KafkaUser, opts.plain ? 'PLAIN' : 'SCRAM-SHA-512'))) console.log(`${k}=${v}`);
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
