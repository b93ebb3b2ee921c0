// Wrapper module that builds influxd 2.x from the Go module proxy (see build.md next to it).
// InfluxDB's own go.mod carries a replace directive, which `go install pkg@version` refuses;
// a module that requires it and repeats the replace builds it with plain `go build`.
module smartcity.local/influxd-build

go 1.23.0

require github.com/influxdata/influxdb/v2 v2.7.12

replace github.com/nats-io/nats-streaming-server v0.11.2 => github.com/influxdata/nats-streaming-server v0.11.3-0.20201112040610-c277f7560803
