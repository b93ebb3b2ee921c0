/** Where the local engines are installed (cached across runs) and where they keep their state. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const KAFKA_VERSION = '4.1.1';
export const INFLUX_VERSION = '1.8.10';

export const cacheHome = process.env.SMARTCITY_CACHE ?? join(homedir(), '.cache', 'smartcity');
/** Runtime state (data directories, pid files, logs) of the services `up` started. */
export const runHome = process.env.SMARTCITY_RUN_DIR ?? join(cacheHome, 'run');

export const kafkaPort = Number(process.env.LOCAL_KAFKA_PORT ?? 9092);
export const kafkaControllerPort = Number(process.env.LOCAL_KAFKA_CONTROLLER_PORT ?? kafkaPort + 1);
export const influxPort = Number(process.env.LOCAL_INFLUX_PORT ?? 8086);
export const influxDatabase = process.env.LOCAL_INFLUX_DATABASE ?? 'telemetry';
