#!/usr/bin/env bash
# SaltApi benchmarks: builds the daemon and the bench tools in Release, then runs every scenario on
# loopback and prints the results table (also written to bench/out/results-latest.md).
# Options are passed to the driver: --quick, --only ceiling,wsgi,cherrypy,tornado,runner,sync,login,events,memory,split,ab,transport,bigbody,10k,events1k,ws1k,100k,codec,realmaster (opt-in: SALTAPI_REFSALT=refsalt scripts dir, SALTAPI_SALT_SRC),
# --baseline OTHER/salt-api.dll (the ab and realmaster groups: this build against another, alternating runs),
# --duration SECONDS, --repeats N.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi

# 1,000 event subscribers need as many sockets on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "building (Release)" >&2
dotnet build -c Release SaltApi.sln -nologo -v q -clp:ErrorsOnly >&2 \
  || echo "warning: SaltApi.sln did not build; the daemon scenarios will say so" >&2
dotnet build -c Release bench/SaltApi.Bench.slnx -nologo -v q -clp:ErrorsOnly >&2

exec dotnet bench/SaltApi.Bench/bin/Release/net10.0/SaltApi.Bench.dll "$@"
