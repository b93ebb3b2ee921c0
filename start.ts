/** `npm start`: the whole pipeline on one machine. Until the embedded mode lands, say so plainly. */
console.log('npm start: the all-in-one embedded pipeline is not implemented yet (see issue 6).');
console.log('Meanwhile: `npm run services -- up` starts a real Kafka and InfluxDB, and `npm test` runs every test.');
