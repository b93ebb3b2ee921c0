/**
 * Builds `influxd` from its Go module, cached by version outside the repository.
 *
 * - 1.8.10: `go install` (no replace directives; Flux without Rust).
 * - 2.x: its go.mod has a replace directive, which `go install pkg@version` refuses, so it is
 *   built inside the wrapper module `deploy/influxdb/build/go.mod` (copied to the cache). Flux's
 *   `libflux` is Rust: influxdata's pkg-config wrapper builds it with cargo when cgo asks for it.
 *   libflux pins a Rust release that is not installed here, so the stable toolchain builds it,
 *   with lints capped at warnings (today's rustc raises lints flux-core denies). No web UI.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { INFLUX_VERSION, cacheHome, influxMajor } from './paths.ts';
import { requireTool, run } from './tools.ts';

const PKG_CONFIG_MODULE = 'github.com/influxdata/pkg-config@v0.2.14';
const installDir = join(cacheHome, `influxdb-${INFLUX_VERSION}`);
export const influxBinary = join(installDir, 'bin', 'influxd');
export const influxWrapperDir = resolve(import.meta.dirname, '..', 'deploy', 'influxdb', 'build');

export const influxInstalled = () => existsSync(influxBinary);

const ldflags = (extra = '') => `-ldflags=-X main.version=${INFLUX_VERSION} -X main.commit=go-module${extra}`;

export function installInflux(): void {
  if (influxInstalled()) return;
  requireTool('go', 'install the Go toolchain, e.g. apt-get install golang');
  mkdirSync(join(installDir, 'bin'), { recursive: true });
  if (influxMajor === 1) {
    run('go', ['install', ldflags(` -X main.branch=${INFLUX_VERSION}`), `github.com/influxdata/influxdb/cmd/influxd@v${INFLUX_VERSION}`], {
      env: { GOBIN: join(installDir, 'bin'), GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
      what: `building influxd ${INFLUX_VERSION} with go install`,
    });
    return;
  }
  requireTool('cargo', "install Rust with rustup (Flux's libflux is built with cargo)");
  const build = join(installDir, 'build');
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  copyFileSync(join(influxWrapperDir, 'go.mod'), join(build, 'go.mod'));
  const tools = join(installDir, 'tools');
  const env = {
    GOFLAGS: '-mod=mod',
    GOBIN: tools,
    CGO_ENABLED: '1',
    PKG_CONFIG: join(tools, 'pkg-config'),
    RUSTUP_TOOLCHAIN: 'stable',
    RUSTC_WRAPPER: join(influxWrapperDir, 'rustc-cap-lints.sh'),
  };
  run('go', ['install', PKG_CONFIG_MODULE], { cwd: build, env, what: "installing influxdata's pkg-config wrapper" });
  run('go', ['get', `github.com/influxdata/influxdb/v2/cmd/influxd@v${INFLUX_VERSION}`], { cwd: build, env, what: `resolving influxd ${INFLUX_VERSION}` });
  const partial = `${influxBinary}.partial`;
  run('go', ['build', '-o', partial, ldflags(), 'github.com/influxdata/influxdb/v2/cmd/influxd'], {
    cwd: build,
    env,
    what: `building influxd ${INFLUX_VERSION} (Go, and Flux's libflux with cargo)`,
  });
  renameSync(partial, influxBinary);
}
