#!/bin/bash
# Runs once, when the influxdb:2.7 image sets itself up (/docker-entrypoint-initdb.d): the
# aggregates get a bucket of their own that outlives the raw readings. The raw bucket's retention
# is DOCKER_INFLUXDB_INIT_RETENTION (90 days in docker-compose.yml).
set -euo pipefail
influx bucket create \
  --name "${SMARTCITY_AGG_BUCKET:-telemetry_aggregates}" \
  --retention "${SMARTCITY_AGG_RETENTION:-1825d}" \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --token "${DOCKER_INFLUXDB_INIT_ADMIN_TOKEN}"
