#!/usr/bin/env bash
# Bounded load/soak of the real daemon on loopback (issue 8): it stops by itself.
#   - CONNECTIONS (default 1000) concurrent clients with wrk for DURATION seconds (default 60; 600 for the
#     10-minute soak) on rest_cherrypy GET / and, at the same time, on rest_wsgi POST / local test.ping;
#   - SUBSCRIBERS (default 100) /events streams held open for the whole run;
#   - a long run of local calls (LOCAL_CALLS sequential rest_cherrypy /run local test.ping, default 2000).
# Reports RSS at start and end, errors (must be 0) and p99. Writes the report to bench/results/.
# The daemon's RSS is sampled every RSS_EVERY seconds (default 60) from start to end: the rss_curve line.
# SPLIT=1 runs the embedded master in a process of its own (as a salt-master beside salt-api): the RSS is then
# the API daemon's alone, and the master process's RSS is reported beside it.
# Usage: bench/soak/soak.sh [DURATION]   (env: CONNECTIONS, SUBSCRIBERS, LOCAL_CALLS, CONFIGURATION, RSS_EVERY, IDLE_TAIL, SPLIT;
# DOTNET_* variables such as DOTNET_gcServer=1 or DOTNET_GCConserveMemory=5 reach the daemon, for GC experiments)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
DURATION="${1:-${DURATION:-60}}"
CONNECTIONS="${CONNECTIONS:-1000}"
SUBSCRIBERS="${SUBSCRIBERS:-100}"
LOCAL_CALLS="${LOCAL_CALLS:-2000}"
CONFIGURATION="${CONFIGURATION:-Release}"
THREADS="${THREADS:-2}"
RSS_EVERY="${RSS_EVERY:-60}"
IDLE_TAIL="${IDLE_TAIL:-0}"
SPLIT="${SPLIT:-0}"
# rest_cherrypy's and rest_wsgi's thread_pool (+ queue_size) bound the requests they serve at once: room for every client.
THREAD_POOL="${THREAD_POOL:-1200}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

dll="$root/SaltApi.Host/bin/$CONFIGURATION/net10.0/salt-api.dll"
if [[ ! -f "$dll" || -n "${REBUILD:-}" ]]; then
  dotnet build "$root/SaltApi.Host" -c "$CONFIGURATION" -v q -nologo >/dev/null
fi

source "$root/bench/lib/daemon.sh"
dir="$(mktemp -d /tmp/saltapi-soak-XXXXXX)"
wsgi=$(free_port); cherry=$(free_port); ret=$(free_port); master_cherry=$(free_port)
write_master "$dir" "$wsgi" "$cherry" "$ret" "$THREAD_POOL"

pids=()
cleanup() {
  [[ -z "${sampler:-}" ]] || kill "$sampler" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n "${daemon:-}" ]]; then kill -TERM "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  if [[ -n "${master:-}" ]]; then kill -TERM "$master" 2>/dev/null || true; wait "$master" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

master=""
if [[ "$SPLIT" == 1 ]]; then
  # The master process: the embedded master and a rest_cherrypy nobody calls (a salt-api with no module exits).
  # The API process: the same file without embedded_master, on the master's ret_port, sock_dir and cachedir.
  mkdir -p "$dir/m"
  sed -e "/^rest_wsgi:/,/^[^ ]/{/^rest_wsgi:/d;/^  /d}" -e "s|^  port: $cherry\$|  port: $master_cherry|" \
      -e "s|^api_pidfile: .*|api_pidfile: $dir/m/salt-api.pid|" "$dir/master" > "$dir/m/master"
  sed -i -e "/^embedded_master:/,/^[^ ]/{/^embedded_master:/d;/^  /d}" "$dir/master"
  dotnet "$dll" -c "$dir/m" -l warning > "$dir/master.log" 2>&1 &
  master=$!
  wait_ports "$master_cherry"
fi
dotnet "$dll" -c "$dir" -l warning > "$dir/daemon.log" 2>&1 &
daemon=$!
wait_ports "$wsgi" "$cherry"
rss() { awk '/VmRSS/ {print $2}' "/proc/${1:-$daemon}/status"; }

# A Salt token: the session id of rest_cherrypy and the token of rest_wsgi lowstates.
token=$(salt_token "$cherry")
ping='[{"client":"local","tgt":"ms--0","fun":"test.ping","token":"'"$token"'"}]'
curl -sf -H 'Content-Type: application/json' -d "$ping" "http://127.0.0.1:$wsgi/" | grep -q '"ms--0": true'
# Warm up, then the baseline.
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$cherry/"; done
rss_start=$(rss)

# The RSS curve: start, every RSS_EVERY seconds, end (MiB, with the seconds since the start).
curve_start=$(date +%s)
( while kill -0 "$daemon" 2>/dev/null; do
    echo "$(( $(date +%s) - curve_start ))s:$(( $(rss) / 1024 ))" >> "$dir/rss-curve"
    sleep "$RSS_EVERY"
  done ) &
sampler=$!

# /events subscribers, held for the whole run.
mkdir -p "$dir/events"
for i in $(seq 1 "$SUBSCRIBERS"); do
  # Only a mark at the first event and the count at the end are kept: the streams themselves run to
  # ~1 MB/s each, 100 of them filled 77 GB of disk in a 10-minute soak.
  curl -sN --max-time $((DURATION + 120)) -H "X-Auth-Token: $token" "http://127.0.0.1:$cherry/events" 2>/dev/null \
    | awk '/^tag: /{ if (!n++) { print "first event"; fflush() } } END { print n + 0 }' > "$dir/events/$i" &
  pids+=($!)
done
sleep 2

write_post_lua "$dir/post.lua" "$ping"

# 1,000 clients: 3/4 on the HTTP stack (GET /), 1/4 running local jobs through rest_wsgi, at once.
get_conns=$(( CONNECTIONS * 3 / 4 )); post_conns=$(( CONNECTIONS - get_conns ))
wrk -t"$THREADS" -c"$get_conns" -d"${DURATION}s" --timeout 30s --latency "http://127.0.0.1:$cherry/" > "$dir/wrk-get.txt" 2>&1 &
wget_pid=$!
wrk -t"$THREADS" -c"$post_conns" -d"${DURATION}s" --timeout 30s --latency -s "$dir/post.lua" "http://127.0.0.1:$wsgi/" > "$dir/wrk-post.txt" 2>&1 &
wpost_pid=$!
wait "$wget_pid" "$wpost_pid"

# A long run of local calls through rest_cherrypy /run, one after the other.
local_errors=0
local_start=$(date +%s.%N)
for _ in $(seq 1 "$LOCAL_CALLS"); do
  out=$(curl -s -m 30 -H 'Content-Type: application/json' -d "$ping" "http://127.0.0.1:$cherry/run") || true
  if [[ "$out" != '{"return": [{"ms--0": true}]}' ]]; then
    local_errors=$((local_errors + 1))
    [[ -n "${first_local_error:-}" ]] || first_local_error="$out"
  fi
done
local_secs=$(python3 -c "import time; print(round(time.time() - $local_start, 1))")

subs_alive=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && subs_alive=$((subs_alive + 1)); done
subs_with_events=$(grep -l '^first event' "$dir"/events/* 2>/dev/null | wc -l)
sleep 2
rss_end=$(rss)
echo "$(( $(date +%s) - curve_start ))s:$(( rss_end / 1024 ))" >> "$dir/rss-curve"
# An idle tail: how much of the load's memory the daemon gives back once the load stops (IDLE_TAIL seconds, default 0).
rss_idle=""
if (( IDLE_TAIL > 0 )); then
  sleep "$IDLE_TAIL"
  rss_idle=$(rss)
  echo "$(( $(date +%s) - curve_start ))s:$(( rss_idle / 1024 ))" >> "$dir/rss-curve"
fi

errors_of() { # socket errors + non-2xx + timeouts reported by wrk
  awk '/Socket errors/ { for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+,?$/) s += $i+0 } /Non-2xx or 3xx/ { s += $NF } END { print s+0 }' "$1"
}
p99_of() { awk '/ 99%/ {print $2}' "$1"; }
rps_of() { awk '/Requests\/sec/ {print $2}' "$1"; }
get_err=$(errors_of "$dir/wrk-get.txt"); post_err=$(errors_of "$dir/wrk-post.txt")
total_err=$((get_err + post_err + local_errors))
daemon_alive=yes; kill -0 "$daemon" 2>/dev/null || daemon_alive=no

mkdir -p "$root/bench/results"
report="$root/bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "soak: ${DURATION}s, thread_pool ${THREAD_POOL}, ${CONNECTIONS} connections (${get_conns} GET / rest_cherrypy, ${post_conns} POST local test.ping rest_wsgi), ${SUBSCRIBERS} /events subscribers, ${LOCAL_CALLS} sequential local calls"
  echo "rss_start_kib $rss_start"
  echo "rss_end_kib $rss_end"
  [[ -z "$rss_idle" ]] || echo "rss_idle_kib $rss_idle (after ${IDLE_TAIL}s without load)"
  echo "rss_curve_mib $(tr '\n' ' ' < "$dir/rss-curve")"
  [[ -z "$master" ]] || echo "split: the RSS above is the API daemon's; the master process's at the end: $(( $(rss "$master") / 1024 )) MiB"
  echo "gc_env $(env | grep -E '^DOTNET_(gc|GC)' | tr '\n' ' ')"
  echo "get_rps $(rps_of "$dir/wrk-get.txt") get_p99 $(p99_of "$dir/wrk-get.txt") get_errors $get_err"
  echo "local_rps $(rps_of "$dir/wrk-post.txt") local_p99 $(p99_of "$dir/wrk-post.txt") local_errors $post_err"
  echo "sequential_local_calls $LOCAL_CALLS in ${local_secs}s errors $local_errors${first_local_error:+ (first: ${first_local_error:0:300})}"
  echo "events_subscribers_alive $subs_alive/$SUBSCRIBERS with_events $subs_with_events"
  echo "daemon_alive $daemon_alive"
  echo "errors_total $total_err"
  echo "--- wrk GET /"; cat "$dir/wrk-get.txt"
  echo "--- wrk POST / local"; cat "$dir/wrk-post.txt"
  echo "--- daemon log (tail)"; tail -n 20 "$dir/daemon.log"
} | tee "$report"
[[ "$total_err" == 0 && "$daemon_alive" == yes && "$subs_alive" == "$SUBSCRIBERS" ]]
