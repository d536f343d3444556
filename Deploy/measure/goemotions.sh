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
#   bash Deploy/measure/goemotions.sh [--train-rows N] [--validation-rows N] [--epochs 2] [--lr 1e-4]
#                                     [--batch-size 32] [--loss bce|weighted] [--seeds K] [--sides both]
# --loss weighted: BCE with pos_weight = negatives/positives per label in the training data on both
# sides (bertd's --loss weighted --pos-weight balanced).
#
# --seeds K (default 1): train K times on each side with seeds 42 … 41+K (bertd's --seed, the
# PyTorch script's --seed: the new head, dropout and the data order; the training subset stays the
# one of seed 42), all bertd runs first, then all PyTorch runs, and print every seed's figures,
# mean ± sample sd per side and, for K >= 2, whether the difference of the means exceeds the spread
# (|Δmean| against sd_a + sd_b, and Welch's t with its Welch–Satterthwaite degrees of freedom), as
# seeds.sh does for single-label data.
#
# --train-rows N: both sides train on the same seeded subset of train.tsv (seed 42), written to
# a temporary directory (texts never go into the repository); the test set stays full.
# --validation-rows N: likewise a seeded subset of dev.tsv (seed 42) for checkpoint selection and the
# threshold tuning (a label with fewer than 5 positives there keeps 0.5), for time: PyTorch's
# validation passes are padded and slow on 2 cores.
# Defaults: every training row, 2 epochs, lr 1e-4, batch 32. --labels only pins bertd's default label set
# (the sorted labels of the full training file), so that a small subset cannot drop a label.
# Environment: BERTCTL_BIN (default .build/release/bertctl, a release build), PEERS_PYTHON
# (default /tmp/peers/bin/python), GOEMOTIONS (default ../shared/data/goemotions), MODEL, WORK.
# The PyTorch venv (PyPI only, a few GB):
#   python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch transformers scikit-learn safetensors
# --sides bertd, then the same command with --sides pytorch and the same WORK, runs the two sides at
# different times (the wall times printed are then those of the last invocation's side only).
# Out of time: touch WORK/stop and end the running PyTorch process; the seeds that finished are
# summarised (the sides may then have different numbers of seeds, which Welch's t allows).
# Timings depend on the machine and on what else runs on it: compare the two sides as a ratio.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TRAIN_ROWS=0; VALIDATION_ROWS=0; EPOCHS=2; LR=1e-4; BATCH=32; LOSS=bce; K=1; SIDES=both
ARGS="$*"
while [ $# -gt 0 ]; do
    case $1 in
        --train-rows) TRAIN_ROWS=$2; shift 2 ;;
        --validation-rows) VALIDATION_ROWS=$2; shift 2 ;;
        --epochs) EPOCHS=$2; shift 2 ;;
        --lr) LR=$2; shift 2 ;;
        --batch-size) BATCH=$2; shift 2 ;;
        --seeds) K=$2; shift 2 ;;
        --loss) LOSS=$2; shift 2 ;;
        --sides) SIDES=$2; shift 2 ;;
        *) echo "usage: $0 [--train-rows N] [--validation-rows N] [--epochs E] [--lr LR] [--batch-size B] [--loss bce|weighted] [--seeds K] [--sides both|bertd|pytorch]" >&2; exit 2 ;;
    esac
done
DATA=${GOEMOTIONS:-../shared/data/goemotions}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BERTCTL=${BERTCTL_BIN:-.build/release/bertctl}
PY=${PEERS_PYTHON:-/tmp/peers/bin/python}
WORK=${WORK:-$(mktemp -d /tmp/goemotions.XXXXXX)}
SEED0=42
mkdir -p "$WORK"
[ -x "$BERTCTL" ] || { echo "no bertctl at $BERTCTL (swift build -c release, or set BERTCTL_BIN)" >&2; exit 1; }
"$PY" -c 'import torch, transformers, sklearn' 2>/dev/null || { echo "$PY lacks torch/transformers/scikit-learn (see the header)" >&2; exit 1; }
[ "$K" -ge 1 ] || { echo "--seeds must be at least 1" >&2; exit 2; }
case $SIDES in both|bertd|pytorch) ;; *) echo "--sides: both, bertd or pytorch" >&2; exit 2 ;; esac

TRAIN=$DATA/train.tsv
if [ "$TRAIN_ROWS" -gt 0 ]; then
    TRAIN=$WORK/train.tsv
    "$PY" Deploy/measure/goemotions_pytorch.py --train "$DATA/train.tsv" --train-rows "$TRAIN_ROWS" --seed "$SEED0" --write-train-subset "$TRAIN"
fi
VALIDATION=$DATA/dev.tsv
if [ "$VALIDATION_ROWS" -gt 0 ]; then
    VALIDATION=$WORK/dev.tsv
    "$PY" Deploy/measure/goemotions_pytorch.py --train "$DATA/dev.tsv" --train-rows "$VALIDATION_ROWS" --seed "$SEED0" --write-train-subset "$VALIDATION"
fi
# bertd's default label set is the sorted labels of the training file: the full file's, pinned.
LABELS=$(python3 -c 'import sys; print(",".join(sorted({l for line in open(sys.argv[1], encoding="utf-8").read().split("\n")[1:] if line for l in line.split("\t")[1].split("|") if l})))' "$DATA/train.tsv")

CPU="$(lscpu | sed -n 's/^Model name: *//p' | head -1), family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p') ($(nproc) cores)"
echo "command: bash Deploy/measure/goemotions.sh $ARGS"
echo "cpu: $CPU; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $( [ "$TRAIN_ROWS" -gt 0 ] && echo "$TRAIN_ROWS training rows of $DATA/train.tsv (seed $SEED0)" || echo "all of $DATA/train.tsv"), $( [ "$VALIDATION_ROWS" -gt 0 ] && echo "$VALIDATION_ROWS rows of $DATA/dev.tsv (seed $SEED0)" || echo "$DATA/dev.tsv") for validation, $DATA/test.tsv for the metrics"
echo "recipe: $MODEL, multi-label (loss $LOSS), $EPOCHS epoch(s), lr $LR, batch $BATCH, max length 128, AdamW wd 0.01, 10 % warm-up + linear decay, clip 1.0, dropout 0.1, kept by validation loss; seeds $SEED0..$((SEED0 + K - 1)); work dir $WORK"

now() { date +%s.%N; }
load() { cut -d" " -f1-3 /proc/loadavg; }
t0=$(now); l0=$(load)
[ "$SIDES" = pytorch ] || for ((i = 0; i < K; i++)); do
    s=$((SEED0 + i))
    echo "bertd: seed $s (log: $WORK/bertd.$s.train.err)" >&2
    "$BERTCTL" train --local --model "$MODEL" --train "$TRAIN" --validation "$VALIDATION" --label-column labels --task multi-label \
        --labels "$LABELS" --epochs "$EPOCHS" --lr "$LR" --batch-size "$BATCH" --loss "$LOSS" --seed "$s" --out "$WORK/bertd.$s" \
        >"$WORK/bertd.$s.train.log" 2>"$WORK/bertd.$s.train.err"
    "$BERTCTL" eval --local "$WORK/bertd.$s" --data "$DATA/test.tsv" --label-column labels --max-length 128 --json >"$WORK/bertd.$s.eval.json"
done
t1=$(now); l1=$(load)
[ "$SIDES" = pytorch ] || echo "bertd done in $(awk "BEGIN{printf \"%.0f\", $t1 - $t0}") s" >&2
[ "$SIDES" = bertd ] && { echo "--sides bertd: the same command with --sides pytorch (and the same WORK) runs the other side and the summary"; echo "runs and logs: $WORK"; exit 0; }
for ((i = 0; i < K; i++)); do
    s=$((SEED0 + i))
    [ -e "$WORK/stop" ] && { echo "pytorch: $WORK/stop exists, no further seeds" >&2; break; }
    echo "pytorch: seed $s (log: $WORK/pytorch.$s.err)" >&2
    "$PY" Deploy/measure/goemotions_pytorch.py --model "$MODEL" --train "$TRAIN" --validation "$VALIDATION" --test "$DATA/test.tsv" \
        --epochs "$EPOCHS" --lr "$LR" --batch-size "$BATCH" --loss "$LOSS" --seed "$s" --json "$WORK/pytorch.$s.json" >"$WORK/pytorch.$s.log" 2>"$WORK/pytorch.$s.err" \
        || echo "pytorch: seed $s failed or was stopped (exit $?)" >&2
done
t2=$(now); l2=$(load)

"$PY" - "$WORK" "$K" "$SEED0" "$t0" "$t1" "$t2" "$CPU" "$l0" "$l1" "$l2" <<'PY'
import json, math, os, statistics as st, sys
work, k, seed0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2 = map(float, sys.argv[4:7])
cpu, loads = sys.argv[7], sys.argv[8:11]
keys = ["micro_f1", "macro_f1", "micro_f1_tuned", "macro_f1_tuned", "macro_roc_auc"]
sides = {"bertd": [], "pytorch+transformers": []}
for s in range(seed0, seed0 + k):
    rep = json.load(open(f"{work}/bertd.{s}/training_report.json"))
    ev = json.load(open(f"{work}/bertd.{s}.eval.json"))
    ml, mt = ev["multi_label"], ev["at_decision_thresholds"]["multi_label"]
    n, epochs = rep["data"]["train_examples"], len(rep["epochs"])
    r = {"seed": s, "train_seconds": rep["timings"]["training"], "micro_f1": ml["micro_f1"], "macro_f1": ml["macro_f1"],
         "micro_f1_tuned": mt["micro_f1"], "macro_f1_tuned": mt["macro_f1"], "macro_roc_auc": ml["macro_roc_auc"],
         "best_epoch": rep["best_epoch"]}
    r["train_examples_per_s"] = n * epochs / r["train_seconds"]
    sides["bertd"].append(r)
    if not os.path.exists(f"{work}/pytorch.{s}.json"):
        print(f"note: no PyTorch result for seed {s} (stopped or failed: see {work}/pytorch.{s}.err); summarised without it")
        continue
    pt = json.load(open(f"{work}/pytorch.{s}.json"))
    sides["pytorch+transformers"].append({**{x: pt[x] for x in keys + ["train_seconds", "train_examples_per_s", "best_epoch"]}, "seed": s})

cols = ["recipe", "seed", "train s", "examples/s", "micro-F1@0.5", "macro-F1@0.5", "micro-F1@tuned", "macro-F1@tuned", "macro ROC-AUC", "kept epoch"]
print("| " + " | ".join(cols) + " |\n|" + "|".join(["---", "---"] + ["---:"] * (len(cols) - 3) + ["---"]) + "|")
for name, rows in sides.items():
    for r in rows:
        print(f"| {name} | {r['seed']} | {r['train_seconds']:.1f} | {r['train_examples_per_s']:.2f} | "
              + " | ".join(f"{r[x]:.4f}" for x in keys) + f" | {r['best_epoch']} |")

def msd(rows, x):
    v = [r[x] for r in rows]
    return st.mean(v), (st.stdev(v) if len(v) > 1 else float("nan"))

na, nb = len(sides["bertd"]), len(sides["pytorch+transformers"])
if na >= 2 or nb >= 2:
    print()
    print("| side | macro-F1@tuned per seed | "
          + " | ".join(f"{c} mean ± sd" for c in cols[4:9]) + " | mean train s |\n|---|---|" + "---:|" * 6)
    for name, rows in sides.items():
        if len(rows) < 2:
            continue
        print(f"| {name} | {', '.join('%.4f (%d)' % (r['macro_f1_tuned'], r['seed']) for r in rows)} | "
              + " | ".join("%.4f ± %.4f" % msd(rows, x) for x in keys) + f" | {st.mean(r['train_seconds'] for r in rows):.1f} |")
if na >= 2 and nb >= 2:
    verdicts = []
    for x, label in (("macro_f1_tuned", "macro-F1@tuned"), ("micro_f1_tuned", "micro-F1@tuned"), ("macro_roc_auc", "macro ROC-AUC")):
        (ma, sa), (mb, sb) = msd(sides["bertd"], x), msd(sides["pytorch+transformers"], x)
        d, spread = ma - mb, sa + sb
        se2 = sa * sa / na + sb * sb / nb
        if se2 == 0:
            t, df, p = (float("inf") if d else 0.0), float("nan"), float("nan")
        else:
            t = d / math.sqrt(se2)
            df = se2 * se2 / ((sa * sa / na) ** 2 / (na - 1) + (sb * sb / nb) ** 2 / (nb - 1))
            try:
                from scipy.stats import t as student
                p = 2 * student.sf(abs(t), df)
            except Exception:
                p = float("nan")
        verdicts.append(f"{label}: Δmean (bertd − pytorch) {d:+.4f}, |Δmean| {'>' if abs(d) > spread else '<='} sd_a + sd_b = {spread:.4f} "
                        f"({'exceeds' if abs(d) > spread else 'within'} the spread); Welch t {t:+.2f} (df {df:.1f}, two-sided p {p:.3f})")
    print(f"verdict (seeds: bertd {na}, pytorch {nb}): " + "; ".join(verdicts))
    print("=> " + ("no difference beyond seed-to-seed spread" if all("within" in v for v in verdicts)
                   else "the means differ by more than the summed sds on at least one metric (see t and p: K is small)"))
b, p = sides["bertd"], sides["pytorch+transformers"]
if p:
    print(f"speed ratio bertd/pytorch (mean examples/s) {st.mean(r['train_examples_per_s'] for r in b) / st.mean(r['train_examples_per_s'] for r in p):.2f}x")
print(f"cpu: {cpu}; 1/5/15-min load average at bertd start {loads[0]}, pytorch start {loads[1]}, end {loads[2]}")
print(f"wall time (train + test eval, tokenizing and validation included): bertd {t1 - t0:.0f} s, pytorch {t2 - t1:.0f} s")
PY
echo "runs and logs: $WORK"
