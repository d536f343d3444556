#!/usr/bin/env bash
# GoEmotions (28 emotions, multi-label): bertd's fine-tuning recipe against the same recipe in
# PyTorch + transformers, in one run on this machine. Prints the CPU, trains and evaluates
# all-MiniLM-L6-v2 with
#   bertctl train --local --model MODEL --train TRAIN --validation dev.tsv --label-column labels
#                 --task multi-label --epochs E --lr LR --labels <the 28, sorted> --out RUN
#   bertctl eval --local RUN --data test.tsv --label-column labels --max-length 128 --json
# then Deploy/measure/goemotions_pytorch.py (its docstring lists the recipe point by point), and
# prints one table: train seconds, examples/s, micro/macro-F1 at 0.5 and at the per-label
# thresholds tuned on the validation set, macro ROC-AUC on the test set. Not part of CI.
#
#   bash Deploy/measure/goemotions.sh [--train-rows N] [--epochs 2] [--lr 1e-4]
#
# --train-rows N: both sides train on the same seeded subset of train.tsv (seed 42), written to
# a temporary directory (texts never go into the repository); validation and test stay full.
# Defaults: every training row, 2 epochs, lr 1e-4. --labels only pins bertd's default label set
# (the sorted labels of the full training file), so that a small subset cannot drop a label.
# Environment: BERTCTL_BIN (default .build/release/bertctl, a release build), PEERS_PYTHON
# (default /tmp/peers/bin/python), GOEMOTIONS (default ../shared/data/goemotions), MODEL, WORK.
# The PyTorch venv (PyPI only, a few GB):
#   python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch transformers scikit-learn safetensors
# Timings depend on the machine and on what else runs on it: compare the two sides as a ratio.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TRAIN_ROWS=0; EPOCHS=2; LR=1e-4
while [ $# -gt 0 ]; do
    case $1 in
        --train-rows) TRAIN_ROWS=$2; shift 2 ;;
        --epochs) EPOCHS=$2; shift 2 ;;
        --lr) LR=$2; shift 2 ;;
        *) echo "usage: $0 [--train-rows N] [--epochs E] [--lr LR]" >&2; exit 2 ;;
    esac
done
DATA=${GOEMOTIONS:-../shared/data/goemotions}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BERTCTL=${BERTCTL_BIN:-.build/release/bertctl}
PY=${PEERS_PYTHON:-/tmp/peers/bin/python}
WORK=${WORK:-$(mktemp -d /tmp/goemotions.XXXXXX)}
mkdir -p "$WORK"
[ -x "$BERTCTL" ] || { echo "no bertctl at $BERTCTL (swift build -c release, or set BERTCTL_BIN)" >&2; exit 1; }
"$PY" -c 'import torch, transformers, sklearn' 2>/dev/null || { echo "$PY lacks torch/transformers/scikit-learn (see the header)" >&2; exit 1; }

TRAIN=$DATA/train.tsv
if [ "$TRAIN_ROWS" -gt 0 ]; then
    TRAIN=$WORK/train.tsv
    "$PY" Deploy/measure/goemotions_pytorch.py --train "$DATA/train.tsv" --train-rows "$TRAIN_ROWS" --write-train-subset "$TRAIN"
fi
# bertd's default label set is the sorted labels of the training file: the full file's, pinned.
LABELS=$(python3 -c 'import sys; print(",".join(sorted({l for line in open(sys.argv[1], encoding="utf-8").read().split("\n")[1:] if line for l in line.split("\t")[1].split("|") if l})))' "$DATA/train.tsv")

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $( [ "$TRAIN_ROWS" -gt 0 ] && echo "$TRAIN_ROWS training rows of $DATA/train.tsv (seed 42)" || echo "all of $DATA/train.tsv"), $DATA/dev.tsv for validation, $DATA/test.tsv for the metrics"
echo "recipe: $MODEL, multi-label (BCE), $EPOCHS epoch(s), lr $LR, batch 32, max length 128, AdamW wd 0.01, 10 % warm-up + linear decay, clip 1.0, dropout 0.1, kept by validation loss; work dir $WORK"

now() { date +%s.%N; }
load() { cut -d" " -f1 /proc/loadavg; }
t0=$(now); l0=$(load)
"$BERTCTL" train --local --model "$MODEL" --train "$TRAIN" --validation "$DATA/dev.tsv" --label-column labels --task multi-label \
    --labels "$LABELS" --epochs "$EPOCHS" --lr "$LR" --out "$WORK/bertd" >"$WORK/bertd.train.log" 2>"$WORK/bertd.train.err"
"$BERTCTL" eval --local "$WORK/bertd" --data "$DATA/test.tsv" --label-column labels --max-length 128 --json >"$WORK/bertd.eval.json"
t1=$(now); l1=$(load)
echo "bertd done in $(awk "BEGIN{printf \"%.0f\", $t1 - $t0}") s; now PyTorch" >&2
"$PY" Deploy/measure/goemotions_pytorch.py --model "$MODEL" --train "$TRAIN" --validation "$DATA/dev.tsv" --test "$DATA/test.tsv" \
    --epochs "$EPOCHS" --lr "$LR" --json "$WORK/pytorch.json" >"$WORK/pytorch.log" 2>"$WORK/pytorch.err"
t2=$(now); l2=$(load)

python3 - "$WORK" "$t0" "$t1" "$t2" "$l0 $l1 $l2" <<'PY'
import json, sys
work, (t0, t1, t2), loads = sys.argv[1], map(float, sys.argv[2:5]), sys.argv[5].split()
rep = json.load(open(f"{work}/bertd/training_report.json"))
ev = json.load(open(f"{work}/bertd.eval.json"))
ml, mt = ev["multi_label"], ev["at_decision_thresholds"]["multi_label"]
n, epochs = rep["data"]["train_examples"], len(rep["epochs"])
bertd = {"train_seconds": rep["timings"]["training"], "micro_f1": ml["micro_f1"], "macro_f1": ml["macro_f1"],
         "micro_f1_tuned": mt["micro_f1"], "macro_f1_tuned": mt["macro_f1"], "macro_roc_auc": ml["macro_roc_auc"]}
bertd["train_examples_per_s"] = n * epochs / bertd["train_seconds"]
pt = json.load(open(f"{work}/pytorch.json"))
cols = ["recipe", "train s", "examples/s", "micro-F1@0.5", "macro-F1@0.5", "micro-F1@tuned", "macro-F1@tuned", "macro ROC-AUC"]
print("| " + " | ".join(cols) + " |\n|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|")
for name, r in (("bertd", bertd), ("pytorch+transformers", pt)):
    print(f"| {name} | {r['train_seconds']:.1f} | {r['train_examples_per_s']:.2f} | {r['micro_f1']:.4f} | {r['macro_f1']:.4f} | "
          f"{r['micro_f1_tuned']:.4f} | {r['macro_f1_tuned']:.4f} | {r['macro_roc_auc']:.4f} |")
print(f"training examples {n} x {epochs} epoch(s); kept epoch: bertd {rep['best_epoch']}, pytorch {pt['best_epoch']}; "
      f"speed ratio bertd/pytorch {bertd['train_examples_per_s'] / pt['train_examples_per_s']:.2f}x")
print(f"wall time (train + test eval, tokenizing and validation included): bertd {t1 - t0:.0f} s, pytorch {t2 - t1:.0f} s; "
      f"1-min load average at bertd start {loads[0]}, pytorch start {loads[1]}, end {loads[2]} ({__import__('os').cpu_count()} cores)")
PY
echo "runs and logs: $WORK"
