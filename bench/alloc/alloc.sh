#!/usr/bin/env bash
# Bytes allocated per request (issue 17): the Release daemon with its embedded master (5 minions) under wrk at
# CONNS connections for SECS seconds, traced with dotnet-trace (the runtime's GC events with stacks, i.e.
# GCAllocationTick every ~100 KB), then read by AllocTicks: bytes per request in all, by type, by frame.
#   KIND get:    rest_cherrypy GET /              (the soak's 750 connections)
#   KIND local:  rest_wsgi POST / local test.ping (the soak's 250 connections)
#   KIND events: as local, with SUBS (100) /events subscribers; per delivery = bytes / events delivered
# Usage: bench/alloc/alloc.sh KIND [SECS] [CONNS]   (needs wrk, curl and the dotnet-trace tool)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kind=$1; secs=${2:-10}; conns=${3:-64}
command -v dotnet-trace >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-trace >/dev/null || dotnet tool install -g dotnet-trace >/dev/null
[[ -f "$root/SaltApi.Host/bin/Release/net10.0/salt-api.dll" ]] || dotnet build "$root/SaltApi.Host" -c Release -v q -nologo >/dev/null
dotnet build "$here/AllocTicks" -c Release -v q -nologo >/dev/null
out=$(mktemp -d /tmp/saltapi-alloc-XXXXXX)
source "$root/bench/lib/daemon.sh"
dir=$(mktemp -d /tmp/saltapi-alloc-d-XXXXXX)
wsgi=$(free_port); cherry=$(free_port); ret=$(free_port)
write_master "$dir" "$wsgi" "$cherry" "$ret" 1200
dotnet "$root"/SaltApi.Host/bin/Release/net10.0/salt-api.dll -c $dir -l warning > $out/daemon.log 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true; rm -rf $dir' EXIT
wait_ports $wsgi $cherry
token=$(salt_token $cherry)
ping='[{"client":"local","tgt":"ms--0","fun":"test.ping","token":"'"$token"'"}]'
write_post_lua $dir/post.lua "$ping"
if [[ $kind == get ]]; then w=(wrk -t2 -c$conns --latency http://127.0.0.1:$cherry/); 
else w=(wrk -t2 -c$conns --latency -s $dir/post.lua http://127.0.0.1:$wsgi/); fi
if [[ $kind == events ]]; then
  for i in $(seq 1 ${SUBS:-100}); do curl -sN --max-time 600 -H "X-Auth-Token: $token" "http://127.0.0.1:$cherry/events" > $out/ev-$i 2>/dev/null & done
  sleep 2
fi
"${w[@]}" -d5s > $out/warm.txt 2>&1
sleep 1
ev0=$(cat $out/ev-* 2>/dev/null | grep -c "^tag: " || true)
echo "idle rss $(awk '/VmRSS/{print $2}' /proc/$daemon/status) kB" > $out/info.txt
dotnet-trace collect --duration 00:00:00:$((secs+3)) -p $daemon --providers "Microsoft-Windows-DotNETRuntime:0x40000019:5" -o $out/trace.nettrace > $out/trace.log 2>&1 &
tr=$!
sleep 2
"${w[@]}" -d${secs}s > $out/wrk.txt 2>&1
sleep 1
wait $tr || true
echo "rss $(awk '/VmRSS/{print $2}' /proc/$daemon/status) kB" >> $out/info.txt
ev1=$(cat $out/ev-* 2>/dev/null | grep -c "^tag: " || true)
echo "events_delivered $((ev1-ev0))" >> $out/info.txt
reqs=$(awk '/requests in/{print $1}' $out/wrk.txt)
echo "requests $reqs" >> $out/info.txt
grep -E "Requests/sec|Non-2xx|Socket" $out/wrk.txt >> $out/info.txt || true
cat $out/info.txt
per=$reqs
[[ $kind != events ]] || per=$((ev1 - ev0))
dotnet "$here/AllocTicks/bin/Release/net10.0/AllocTicks.dll" $out/trace.nettrace "$per" 25 | tee $out/report.txt
echo "trace and report in $out"
