#!/usr/bin/env bash
# The daemon's load benchmark: starts bertd (release build) on a free port, drives it with
# `bertctl loadtest` at 1, 8, 32 and 128 concurrent single-text clients, then again with
# batching off (max_batch_requests = 1), measures the engine offline on the same texts
# (`bertctl bench`), and prints the figures with their ratios and bertd's resident memory.
#
#   bash Deploy/loadbench.sh [MODEL_DIR] [TEXTS_TSV] [REQUESTS_PER_RUN]
#
# Defaults: models/all-MiniLM-L6-v2, ../shared/data/sst2/dev.tsv (zero-shot positive/negative),
# 3000 requests. The load generator runs on this machine and shares its cores with bertd; run it
# on an otherwise idle machine. Nothing is asserted: it prints what it measured.
set -euo pipefail
cd "$(dirname "$0")/.."

model=$(realpath "${1:-models/all-MiniLM-L6-v2}")
texts=${2:-../shared/data/sst2/dev.tsv}
requests=${3:-3000}
labels=${BERTD_LOADBENCH_LABELS:-positive,negative}
bertd=.build/release/bertd
bertctl=.build/release/bertctl

for f in "$bertd" "$bertctl"; do
    [ -x "$f" ] || { echo "loadbench: $f is missing (run: swift build -c release)" >&2; exit 1; }
done
[ -d "$model" ] || { echo "loadbench: no model at $model (run: bash Deploy/fetch-model.sh)" >&2; exit 1; }
[ -f "$texts" ] || { echo "loadbench: no texts at $texts" >&2; exit 1; }

work=$(mktemp -d /tmp/bertd-loadbench-XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

json_field() {  # json_field JSON python-expression-on-d
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

rss_mb() { awk -v f="$2:" '$1 == f { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# start_bertd [--set key=value …]: a daemon on a free port; sets $pid and $endpoint. The model
# takes the place of the built-in default (named minilm, whatever it is).
start_bertd() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    endpoint=tcp://127.0.0.1:$port
    mkdir -p "$work/run" "$work/state"
    RUNTIME_DIRECTORY=$work/run STATE_DIRECTORY=$work/state NOTIFY_SOCKET= "$bertd" --config none \
        --set "models.minilm.path=$model" --set "endpoint.0.address=$endpoint" \
        --set "endpoint.1.address=ipc://$work/run/bertd.sock" "$@" >"$work/bertd.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
        grep -q " ready: " "$work/bertd.log" && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$work/bertd.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "loadbench: bertd did not become ready" >&2
    exit 1
}

stop_bertd() { kill -TERM "$pid"; wait "$pid" || true; pid=; }

loadtest() {  # loadtest CLIENTS → one JSON line
    "$bertctl" loadtest --endpoint "$endpoint" --clients "$1" --requests "$requests" --texts "$texts" \
        --labels "$labels" --timeout 60000 --json
}

row() {  # row NAME JSON
    python3 - "$1" "$2" <<'EOF'
import json, sys
name, d = sys.argv[1], json.loads(sys.argv[2])
l = d["latency_ms"]
errors = sum(d["errors"].values())
print(f"{name:<28} {d['requests_per_s']:8.1f} {l['p50']:8.1f} {l['p90']:8.1f} {l['p99']:8.1f} {l['max']:8.1f} {l['p99'] / max(l['p50'], 1e-9):8.2f} {errors:7d}")
EOF
}

echo "engine offline: bertctl bench --local $model --texts $texts"
bench=$("$bertctl" bench --local "$model" --texts "$texts")
offline=$(json_field "$bench" 'round(d["mixed"]["seq_per_s"], 1)')
offline1=$(json_field "$bench" 'round(d["mixed_batch1"]["seq_per_s"], 1)')
echo "  mixed, batches of 32: $offline seq/s ($(json_field "$bench" 'round(d["mixed"]["gflops"])') GFLOP/s; sgemm limit $(json_field "$bench" 'round(d["sgemm_gflops"])') GFLOP/s)"
echo "  mixed, one text at a time: $offline1 seq/s"
echo

start_bertd
sleep 1
idle=$(rss_mb "$pid" VmRSS)
printf '%-28s %8s %8s %8s %8s %8s %8s %7s\n' "clients" "req/s" "p50 ms" "p90 ms" "p99 ms" "max ms" "p99/p50" "errors"
declare -A results
for clients in 1 8 32 128; do
    results[$clients]=$(loadtest "$clients")
    row "$clients" "${results[$clients]}"
done
loaded=$(rss_mb "$pid" VmHWM)
stop_bertd

start_bertd --set batching.max_batch_requests=1
sleep 1
single=$(loadtest 32)
row "32, max_batch_requests = 1" "$single"
stop_bertd

echo
at32=$(json_field "${results[32]}" 'd["requests_per_s"]')
one=$(json_field "$single" 'd["requests_per_s"]')
python3 - "$at32" "$offline" "$one" "$offline1" <<'EOF'
import sys
at32, offline, one, offline1 = map(float, sys.argv[1:])
print(f"32 clients / engine offline mixed: {at32 / offline:.2f}x")
print(f"32 clients / max_batch_requests = 1: {at32 / one:.2f}x "
      f"(offline, batches of 32 / one at a time: {offline / offline1:.2f}x)")
EOF
echo "bertd resident memory: ${idle} MB idle with the model loaded, peak ${loaded} MB through the 128-client run"
