/**
 * A real Mosquitto broker (Debian's `mosquitto`) on a free port, playing a network server's
 * broker (ChirpStack publishes its integration events to one): started per test, stopped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portOpen } from '../../engines/process.ts';
import { freePort } from './services.ts';
import { waitUntil } from './gateway.ts';

export interface Mosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startMosquitto(): Promise<Mosquitto> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  // Persistent sessions live in the broker's memory for as long as it runs: what the tests need.
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000', `log_dest file ${join(dir, 'mosquitto.log')}`].join('\n') + '\n');
  // Debian installs the broker in /usr/sbin, which is not on every user's PATH.
  const binary = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: 'ignore' });
  await waitUntil(() => portOpen(port), 10_000, 'mosquitto listening');
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
