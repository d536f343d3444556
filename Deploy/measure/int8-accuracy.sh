#!/usr/bin/env bash
# int8 against fp32 on models fine-tuned by bertd: accuracy, macro-F1 and label agreement on a test
# set, as `bertctl quantize` measures them (its gate: agreement ≥ 99 %, accuracy drop ≤ 0.5 points).
# Prints the CPU, the load average and one Markdown table. Not part of CI (minutes of CPU). Speed is
# `bertctl bench --precision both`'s and Deploy/peerbench.sh's business.
#
#   bash Deploy/measure/int8-accuracy.sh
#
# Models (MiniLM, lr 5e-5, batch 32, seed 42, bertd's defaults otherwise):
#   hate-speech  all of ../shared/data/hate-speech/train.tsv, dev.tsv for selection, 3 epochs; test.tsv
#   SST-2        4 000 sentences of train.tsv and 1 000 more for selection (seeded sample, seed 7),
#                2 epochs; dev.tsv (872) is the test set, by convention
# Environment: BERTCTL_BIN (default /tmp/bin-int8/bertctl: a copy of .build/release/bertctl, so that a
# rebuild during the run cannot change the binary), MODEL (default models/all-MiniLM-L6-v2), DATA
# (default ../shared/data), WORK (default a new /tmp/int8-accuracy.XXXXXX; data samples and runs stay
# there, never in the repository).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
DATA=${DATA:-../shared/data}
WORK=${WORK:-$(mktemp -d /tmp/int8-accuracy.XXXXXX)}
if [ -z "${BERTCTL_BIN:-}" ]; then
    mkdir -p /tmp/bin-int8 && cp .build/release/bertctl /tmp/bin-int8/bertctl
    BERTCTL_BIN=/tmp/bin-int8/bertctl
fi
for f in "$DATA/hate-speech/train.tsv" "$DATA/sst2/train.tsv" "$DATA/sst2/dev.tsv"; do
    [ -f "$f" ] || { echo "int8-accuracy: $f is missing" >&2; exit 1; }
done
mkdir -p "$WORK/sst2"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); load average at start: $(cut -d' ' -f1-3 /proc/loadavg); work: $WORK"

# SST-2's sample: 4 000 training and 1 000 selection sentences from train.tsv (seed 7).
python3 - "$DATA/sst2/train.tsv" "$WORK/sst2" <<'PY'
import random, sys
header, *rows = open(sys.argv[1], encoding="utf-8").read().splitlines()
random.Random(7).shuffle(rows)
for name, part in (("train.tsv", rows[:4000]), ("validation.tsv", rows[4000:5000])):
    open(f"{sys.argv[2]}/{name}", "w", encoding="utf-8").write("\n".join([header] + part) + "\n")
PY

# name, train, validation, epochs, test
runs=("hate-speech|$DATA/hate-speech/train.tsv|$DATA/hate-speech/dev.tsv|3|$DATA/hate-speech/test.tsv"
      "SST-2|$WORK/sst2/train.tsv|$WORK/sst2/validation.tsv|2|$DATA/sst2/dev.tsv")
rows=()
for run in "${runs[@]}"; do
    IFS='|' read -r name train validation epochs test <<<"$run"
    out="$WORK/$name"
    echo "[$(date +%T)] $name: training ($epochs epochs)" >&2
    "$BERTCTL_BIN" train --local --model "$MODEL" --train "$train" --validation "$validation" --epochs "$epochs" \
        --lr 5e-5 --batch-size 32 --seed 42 --out "$out" >"$WORK/$name.train.log" 2>&1
    echo "[$(date +%T)] $name: quantize gate on $(basename "$test")" >&2
    # exit 1 when the gate refuses: the record is printed either way
    "$BERTCTL_BIN" quantize --local "$out" --validation "$test" --max-length 128 --json >"$WORK/$name.gate.json" || true
    rows+=("$name|$test|$WORK/$name.gate.json")
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "${rows[@]}" <<'PY'
import json, sys
print("| model (test set) | texts | fp32 accuracy | int8 accuracy | Δ points | fp32 macro-F1 | int8 macro-F1 | agreement | gate |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for row in sys.argv[1:]:
    name, test, gate = row.split("|")
    g = json.load(open(gate))
    print(f"| {name} ({test.split('/')[-2]}/{test.split('/')[-1]}) | {g['examples']} | {g['fp32']['accuracy']:.4f} | {g['int8']['accuracy']:.4f} | "
          f"{g['accuracy_change_points']:+.2f} | {g['fp32']['macro_f1']:.4f} | {g['int8']['macro_f1']:.4f} | {g['agreement']:.2%} | "
          f"{'passed' if g['passed'] else 'refused: ' + '; '.join(g['failures'])} |")
PY
