/** Where the local engines are installed (cached across runs) and where they keep their state. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const KAFKA_VERSION = '4.1.1';
/**
 * The local InfluxDB: 2.x with auth on, as production runs it; `SMARTCITY_INFLUX=1.8` runs the
 * 1.8.10 compatibility engine instead (auth off, buckets as database/retention-policy).
 */
export const INFLUX_VERSION = process.env.SMARTCITY_INFLUX === '1.8' ? '1.8.10' : '2.7.12';
export const influxMajor = Number(INFLUX_VERSION.split('.')[0]);

export const cacheHome = process.env.SMARTCITY_CACHE ?? join(homedir(), '.cache', 'smartcity');
/** Runtime state (data directories, pid files, logs) of the services `up` started. */
export const runHome = process.env.SMARTCITY_RUN_DIR ?? join(cacheHome, 'run');

export const kafkaPort = Number(process.env.LOCAL_KAFKA_PORT ?? 9092);
export const influxPort = Number(process.env.LOCAL_INFLUX_PORT ?? 8086);
export const influxDatabase = process.env.LOCAL_INFLUX_DATABASE ?? 'telemetry';
