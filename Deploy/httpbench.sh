#!/usr/bin/env bash
# The HTTP gateway's load benchmark, in one run on this machine: one bertd with [http] on, driven
# at 1, 8, 32 and 128 concurrent closed-loop connections over HTTP (wrk, POST /v1/classify, one
# SST-2 dev sentence per request, zero-shot positive/negative) and over ZeroMQ (bertctl loadtest,
# the same requests); then both client groups at once (mixed traffic: batch sizes from
# /metrics); then, when a peer Python is given, FastAPI + uvicorn + a transformers pipeline on
# the same model (Deploy/peers/fastapi_app.py) at the same concurrencies.
#
#   bash Deploy/httpbench.sh [MODEL_DIR] [TEXTS_TSV] [SECONDS_PER_RUN]
#   BERTD_PEER_PYTHON=/tmp/peers/bin/python bash Deploy/httpbench.sh    # with the FastAPI peer
#
# Needs wrk (apt-get install wrk) and a release build. The peer's venv:
#   python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch transformers fastapi uvicorn
# The load generators share the machine's cores with the servers: compare within one run.
# Nothing is asserted: it prints what it measured, with the CPU (lscpu) it ran on.
set -euo pipefail
cd "$(dirname "$0")/.."

model=$(realpath "${1:-models/all-MiniLM-L6-v2}")
texts=$(realpath "${2:-../shared/data/sst2/dev.tsv}")
seconds=${3:-10}
bertd=.build/release/bertd
bertctl=.build/release/bertctl
command -v wrk >/dev/null || { echo "httpbench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
for f in "$bertd" "$bertctl"; do [ -x "$f" ] || { echo "httpbench: $f is missing (swift build -c release)" >&2; exit 1; }; done

work=$(mktemp -d /tmp/bertd-httpbench-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); model $(basename "$model"); texts $(basename "$(dirname "$texts")")/$(basename "$texts")"

# The wrk script: request bodies made once from the texts; each connection cycles through them;
# done() prints one JSON line (latencies in ms).
python3 - "$texts" "$work/bodies.lua" "$work/peer-bodies.lua" <<'EOF'
import json, sys
texts = [l.rstrip("\n").split("\t")[0] for l in open(sys.argv[1], encoding="utf-8")][1:]
texts = [t for t in texts if t]
def lua(bodies, path):
    with open(path, "w") as f:
        f.write("bodies = {\n")
        for b in bodies:
            f.write("[==[" + b + "]==],\n")
        f.write("}\n")
lua([json.dumps({"inputs": t, "labels": ["positive", "negative"]}) for t in texts], sys.argv[2])
lua([json.dumps({"inputs": t}) for t in texts], sys.argv[3])
EOF
cat > "$work/post.lua" <<'EOF'
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
dofile(bodies_file)
request = function()
    counter = counter + 1
    return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end
done = function(summary, latency, requests)
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
    io.write(string.format('{"requests_per_s": %.1f, "p50": %.2f, "p99": %.2f, "max": %.2f, "errors": %d}\n',
        summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000, errors))
end
EOF

wrk_run() {  # wrk_run URL CONNECTIONS BODIES → JSON line
    local threads=$(( $2 < 2 ? 1 : 2 ))
    # The bodies file reaches post.lua as a global set by a small wrapper script.
    printf 'bodies_file = "%s"\ndofile("%s")\n' "$3" "$work/post.lua" > "$work/run.lua"
    (cd "$work" && wrk -t "$threads" -c "$2" -d "${seconds}s" --timeout 60s -s run.lua "$1" 2>/dev/null | tail -1)
}

zmq_run() {  # zmq_run ENDPOINT CLIENTS → JSON line (the same fields)
    local requests=$(( $2 * 40 < 400 ? 400 : $2 * 40 ))
    "$bertctl" loadtest --endpoint "$1" --clients "$2" --requests "$requests" --texts "$texts" \
        --labels positive,negative --timeout 60000 --json \
        | python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["latency_ms"]; print(json.dumps({"requests_per_s": d["requests_per_s"], "p50": l["p50"], "p99": l["p99"], "max": l["max"], "errors": sum(d["errors"].values())}))'
}

cat > "$work/report.py" <<'EOF'
import json, sys
kind = sys.argv[1]
if kind == "row":
    name, d = sys.argv[2], json.loads(sys.argv[3])
    ratio = d["p99"] / max(d["p50"], 1e-9)
    print(f"{name:<34} {d['requests_per_s']:9.1f} {d['p50']:8.1f} {d['p99']:8.1f} {d['max']:8.1f} {ratio:8.2f} {d['errors']:7d}")
elif kind == "mixed":
    b0, t0, b1, t1, s0, s1 = map(float, sys.argv[2:])
    batches, large = b1 - b0, (b1 - b0) - (s1 - s0)
    print(f"mixed: mean batch {(t1 - t0) / max(batches, 1):.1f} texts over {int(batches)} batches; {int(large)} of them "
          f"held more than 16 texts, which only requests of both transports together can fill")
elif kind == "ratio32":
    h, z = json.loads(sys.argv[2]), json.loads(sys.argv[3])
    print(f"32: HTTP / ZeroMQ throughput {h['requests_per_s'] / z['requests_per_s']:.2f}x; "
          f"HTTP p99/p50 {h['p99'] / max(h['p50'], 1e-9):.2f}")
elif kind == "peer":
    h, p, c = json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
    print(f"  bertd HTTP / FastAPI at {c}: {h['requests_per_s'] / max(p['requests_per_s'], 1e-9):.1f}x throughput, "
          f"p50 {p['p50'] / max(h['p50'], 1e-9):.1f}x lower")
EOF
row() { python3 "$work/report.py" row "$1" "$2"; }

mkdir -p "$work/run" "$work/state"
RUNTIME_DIRECTORY=$work/run STATE_DIRECTORY=$work/state NOTIFY_SOCKET= "$bertd" --config none \
    --set "models.minilm.path=$model" --set "endpoint.0.address=tcp://127.0.0.1:*" \
    --set "endpoint.1.address=ipc://$work/run/bertd.sock" --set "http.address=127.0.0.1:*" >"$work/bertd.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q " ready: " "$work/bertd.log" && break; sleep 0.1; done
zmq=$(sed -n 's/.* ready: \(tcp:\/\/[0-9.:]*\).*/\1/p' "$work/bertd.log")
http=$(sed -n 's/.*HTTP gateway listening on \(http:\/\/[0-9.:]*\) .*/\1/p' "$work/bertd.log")
[ -n "$zmq" ] && [ -n "$http" ] || { cat "$work/bertd.log" >&2; exit 1; }

printf '%-34s %9s %8s %8s %8s %8s %7s\n' "" "req/s" "p50 ms" "p99 ms" "max ms" "p99/p50" "errors"
declare -A H Z
for c in 1 8 32 128; do
    H[$c]=$(wrk_run "$http/v1/classify" "$c" "$work/bodies.lua"); row "HTTP, $c connections" "${H[$c]}"
    Z[$c]=$(zmq_run "$zmq" "$c"); row "ZeroMQ, $c clients" "${Z[$c]}"
done

# Mixed: 16 HTTP connections and 16 ZeroMQ clients at once share the scheduler's batches.
metric() { curl -s "$http/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
bucket16() { curl -s "$http/metrics" | awk '$1 == "bertd_batch_texts_bucket{le=\"16.0\"}" { print $2 }'; }
b0=$(metric bertd_batch_texts_count); t0=$(metric bertd_batch_texts_sum); s0=$(bucket16)
wrk_run "$http/v1/classify" 16 "$work/bodies.lua" > "$work/mixed-http.json" &
mixed_http=$!
zmq_run "$zmq" 16 > "$work/mixed-zmq.json"
wait "$mixed_http"
b1=$(metric bertd_batch_texts_count); t1=$(metric bertd_batch_texts_sum); s1=$(bucket16)
row "mixed: HTTP, 16 connections" "$(cat "$work/mixed-http.json")"
row "mixed: ZeroMQ, 16 clients" "$(cat "$work/mixed-zmq.json")"
python3 "$work/report.py" mixed "$b0" "$t0" "$b1" "$t1" "$s0" "$s1"
rss=$(awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "/proc/${pids[0]}/status")
echo "bertd peak resident memory: ${rss} MB"
python3 "$work/report.py" ratio32 "${H[32]}" "${Z[32]}"

if [ -n "${BERTD_PEER_PYTHON:-}" ]; then
    echo
    echo "peer: FastAPI + uvicorn + transformers pipeline (Deploy/peers/fastapi_app.py), same model, 2 threads"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    MODEL=$model THREADS=$(nproc) HF_HUB_OFFLINE=1 "$BERTD_PEER_PYTHON" -m uvicorn --app-dir Deploy/peers fastapi_app:app \
        --host 127.0.0.1 --port "$port" --workers 1 --log-level warning >"$work/peer.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
    for c in 1 8 32 128; do
        P=$(wrk_run "http://127.0.0.1:$port/predict" "$c" "$work/peer-bodies.lua"); row "FastAPI, $c connections" "$P"
        python3 "$work/report.py" peer "${H[$c]}" "$P" "$c"
    done
    echo "FastAPI peak resident memory: $(awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "/proc/${pids[1]}/status") MB"
fi
