#!/usr/bin/env bash
# Samples the map-step part of `aggregate` (attaching once its setup is done) with dotnet-trace,
# then prints the samples grouped by their deepest CrmMetrics frame.
# Needs: dotnet tool install -g dotnet-trace; a Release build of bench/CrmMetrics.Bench.
# Usage: bench/profile/aggregate-after-setup.sh [facts=200000]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
dotnet "$root/bench/CrmMetrics.Bench/bin/Release/net10.0/CrmMetrics.Bench.dll" aggregate "${1:-200000}" > "$out/bench.log" 2>&1 &
bench=$!
until grep -q "^setup:" "$out/bench.log"; do
  kill -0 "$bench" 2>/dev/null || { cat "$out/bench.log"; exit 1; }
  sleep 0.5
done
"${HOME}/.dotnet/tools/dotnet-trace" collect -p "$bench" --profile dotnet-sampled-thread-time --format speedscope -o "$out/trace.nettrace" > "$out/trace.log" 2>&1 &
trace=$!
wait "$bench"
kill -INT "$trace" 2>/dev/null || true
wait "$trace" || true
cat "$out/bench.log"
python3 "$(dirname "$0")/by-deepest-frame.py" "$out/trace.speedscope.json" 40
