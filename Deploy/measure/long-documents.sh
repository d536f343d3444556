#!/usr/bin/env bash
# Long documents on IMDB: the same model and recipe trained and evaluated with truncation at
# 128 and at 512 tokens, and with overlapping windows (128/32 and 512/128, logits averaged).
# Prints accuracy, macro-F1 and the time each takes, with the CPU named. Not part of CI.
#
#   bash Deploy/measure/long-documents.sh [TRAIN_ROWS] [TEST_ROWS] [EPOCHS]
#
# Defaults: 2000 training and 1000 test reviews sampled (seed 7) from ../shared/data/imdb,
# MiniLM, 1 epoch, batch 16, lr 5e-5. Needs a release build (swift build -c release).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TRAIN_ROWS=${1:-2000}; TEST_ROWS=${2:-1000}; EPOCHS=${3:-1}
DATA=${IMDB:-../shared/data/imdb}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BERTCTL=${BERTCTL_BIN:-.build/release/bertctl}
WORK=${WORK:-$(mktemp -d /tmp/long-documents.XXXXXX)}
mkdir -p "$WORK"

# Seeded samples: the texts stay outside the repository.
python3 - "$DATA" "$WORK" "$TRAIN_ROWS" "$TEST_ROWS" <<'PY'
import random, sys
data, work, n_train, n_test = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for split, n in (("train", n_train), ("test", n_test)):
    lines = open(f"{data}/{split}.tsv", encoding="utf-8").read().split("\n")
    header, rows = lines[0], [l for l in lines[1:] if l]
    random.Random(7).shuffle(rows)
    open(f"{work}/{split}.tsv", "w", encoding="utf-8").write(header + "\n" + "\n".join(rows[:n]) + "\n")
PY

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores)"
echo "data: $TRAIN_ROWS training and $TEST_ROWS test reviews of $DATA (seed 7); model $MODEL; $EPOCHS epoch(s), batch 16, lr 5e-5"
printf '%-22s %9s %9s %10s %10s %9s\n' recipe accuracy macro_f1 train_s eval_s windows
run() {
    local name=$1; shift
    local out="$WORK/$name"
    local t0=$(date +%s.%N)
    "$BERTCTL" train --local --model "$MODEL" --train "$WORK/train.tsv" --validation-fraction 0.1 \
        --epochs "$EPOCHS" --batch-size 16 --lr 5e-5 --metric accuracy --out "$out" "$@" 2>"$out.train.log" >/dev/null
    local t1=$(date +%s.%N)
    "$BERTCTL" eval --local "$out" --data "$WORK/test.tsv" --json "${EVAL_ARGS[@]}" > "$out.eval.json"
    local t2=$(date +%s.%N)
    python3 - "$name" "$out.eval.json" "$out/training_report.json" "$t0" "$t1" "$t2" <<'PY'
import json, sys
name, ev, rep, t0, t1, t2 = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), *map(float, sys.argv[4:])
windows = (rep.get("data") or {}).get("mean_windows")
print(f"{name:22s} {ev['accuracy']:9.4f} {ev['macro_f1']:9.4f} {t1 - t0:10.1f} {t2 - t1:10.1f} {('%.2f' % windows) if windows else '-':>9s}")
PY
}
EVAL_ARGS=(--max-length 128); run truncate-128 --max-length 128
EVAL_ARGS=(--max-length 512); run truncate-512 --max-length 512
EVAL_ARGS=(); run windows-128-32-mean --window 128 --stride 32 --aggregate mean
EVAL_ARGS=(); run windows-512-128-mean --window 512 --stride 128 --aggregate mean
echo "runs and logs: $WORK"
