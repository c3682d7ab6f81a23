#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers of untrusted bytes: SharpFuzz instruments our assemblies
# (and YamlDotNet, MessagePack) for AFL++, which mutates the committed corpus.
#
#   bench/fuzz/fuzz.sh TARGET SECONDS      one target (json yaml form msgpack frame ws tornado), in the foreground
#   bench/fuzz/fuzz.sh all SECONDS         every target, two at a time
#   bench/fuzz/fuzz.sh yaml,form SECONDS   those targets, two at a time
#   bench/fuzz/fuzz.sh --ci                every target for FUZZ_CI_SECONDS (default 15)
#   bench/fuzz/fuzz.sh --report [TARGET]   the last run's numbers and failures again
#
# FUZZ_JOBS targets run at once (default 2); FUZZ_CONFIGURATION is Release unless set (CI: Debug,
# already built by the tests).
# Installs what it needs (afl++ from Debian, the SharpFuzz.CommandLine dotnet tool), builds
# bench/SaltApi.Fuzz in Release into bench/fuzz/out/bin and instruments it. Findings are under
# bench/fuzz/out/findings/TARGET (AFL's crashes/ and hangs/); each is replayed to print why.
# Exits 1 when a target crashed or hung: commit the input under tests/SaltApi.Fuzz.Tests/regressions/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/bench/fuzz/out
targets=(json yaml form msgpack frame ws tornado)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

usage() { sed -n '4,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

case "${1:-}" in
  --ci) which=(all); seconds=${FUZZ_CI_SECONDS:-15} ;;
  --report) which=("${2:-all}"); seconds=0; report_only=1 ;;
  all) which=(all); seconds=${2:-} ;;
  json|yaml|form|msgpack|frame|ws|tornado) which=("$1"); seconds=${2:-} ;;
  *,*) IFS=, read -r -a which <<<"$1"; seconds=${2:-}
       for t in "${which[@]}"; do [[ " ${targets[*]} " == *" $t "* ]] || usage; done ;;
  *) usage ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] || usage
[ "${which[0]}" = all ] && which=("${targets[@]}")

bin=$out/bin
if [ -z "${report_only:-}" ]; then
# --- tools -------------------------------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing afl++ (Debian)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null) \
    || { echo "fuzz: could not install afl++" >&2; exit 1; }
fi
sharpfuzz=$out/tools/sharpfuzz
if [ ! -x "$sharpfuzz" ]; then
  echo "fuzz: installing the SharpFuzz.CommandLine tool" >&2
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$out/tools" >/dev/null
fi

# --- build and instrument ----------------------------------------------------------------------
rm -rf "$bin"
echo "fuzz: building bench/SaltApi.Fuzz (${FUZZ_CONFIGURATION:-Release})" >&2
dotnet build bench/SaltApi.Fuzz -c "${FUZZ_CONFIGURATION:-Release}" -o "$bin" -v q -nologo >"$out.build.log" 2>&1 \
  || { cat "$out.build.log" >&2; exit 1; }
for dll in SaltApi.Abstractions SaltApi.NetapiKit SaltApi.PythonValues SaltApi.Protocol SaltApi.Client RestCherrypyCompat RestTornadoCompat YamlDotNet MessagePack; do
  "$sharpfuzz" "$bin/$dll.dll" >/dev/null
done
fi

# --- run ---------------------------------------------------------------------------------------
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1 \
  AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_QUIET=1
export DOTNET_TieredPGO=0 # steadier coverage from run to run

run_one() {
  local t=$1 findings=$out/findings/$1
  rm -rf "$findings"
  mkdir -p "$findings"
  # -t: a child that takes longer is killed and counted as a hang (the target itself fails at 2 s).
  nice -n 10 afl-fuzz -i "bench/fuzz/corpus/$t" -o "$findings" -x "bench/fuzz/dict/$t.dict" \
    -m none -t 10000 -V "$seconds" -- dotnet "$bin/SaltApi.Fuzz.dll" "$t" >"$findings/afl.log" 2>&1 || true
}

report() {
  local t=$1 dir=$out/findings/$1/default stats
  stats=$dir/fuzzer_stats
  if [ ! -f "$stats" ]; then
    echo "FAIL $t: afl-fuzz did not run; see $out/findings/$t/afl.log" >&2
    tail -20 "$out/findings/$t/afl.log" >&2
    return 1
  fi
  local execs runtime crashes hangs paths
  execs=$(awk -F' *: *' '$1=="execs_done"{print $2}' "$stats")
  runtime=$(awk -F' *: *' '$1=="run_time"{print $2}' "$stats")
  paths=$(awk -F' *: *' '$1=="corpus_count"{print $2}' "$stats")
  crashes=$(find "$dir/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
  hangs=$(find "$dir/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
  printf '%-8s %6ss %9s execs %7s execs/s %5s paths %3s crashes %3s hangs\n' "$t" "$runtime" "$execs" \
    "$(awk -v e="$execs" -v r="$runtime" 'BEGIN{ if (r > 0) printf "%.0f", e / r; else print 0 }')" "$paths" "$crashes" "$hangs"
  if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
    # One line per distinct failure (exception, message, throw site), with one input that shows it.
    local unique=$out/unique/$t
    rm -rf "$unique"
    mkdir -p "$unique"
    # At most 150 replays per target (each starts a process).
    for f in $(ls -d "$dir"/crashes/id:* "$dir"/hangs/id:* 2>/dev/null | head -150); do
      local why
      why=$(timeout 60 dotnet "$bin/SaltApi.Fuzz.dll" replay "$t" "$f" 2>/dev/null | grep -E '^(OK|FAIL)' | head -1 | cut -d' ' -f3- || true)
      [ -n "$why" ] || why="the process died (stack overflow?) or hung"
      local key
      key=$(printf '%s' "$why" | sha1sum | cut -c1-10)
      if [ ! -f "$unique/$key.txt" ]; then
        cp "$f" "$unique/$key.bin"
        printf '%s\n' "$why" >"$unique/$key.txt"
      fi
      echo "$why" >>"$unique/all.txt"
    done
    sort "$unique/all.txt" | uniq -c | sort -rn | sed "s|^|  $t |"
    echo "  $t: one input per failure in $unique/" >&2
    return 1
  fi
}

if [ -z "${report_only:-}" ]; then
  pids=()
  for t in "${which[@]}"; do
    run_one "$t" &
    pids+=($!)
    if [ ${#pids[@]} -ge "${FUZZ_JOBS:-2}" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  done
  wait
  echo "fuzz: $seconds s per target" >&2
fi

status=0
for t in "${which[@]}"; do report "$t" || status=1; done
exit $status
