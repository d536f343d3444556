#!/usr/bin/env bash
# Accuracy over seeds: bertd's fine-tuning recipe against the same recipe in PyTorch + transformers,
# K seeds on each side, in one run on this machine. A single seed proves nothing; this prints, per
# side, every seed's test accuracy, mean ± sample sd of test accuracy and macro-F1, mean train seconds,
# and whether the difference of the means exceeds the spread (|Δmean| against sd_a + sd_b, and Welch's
# t with its Welch–Satterthwaite degrees of freedom). The CPU (lscpu model name, cores) and the load
# average at start and end are printed too. Not part of CI (tens of minutes of CPU).
#
#   bash Deploy/measure/seeds.sh [DATA_DIR [K [EPOCHS]]]      (defaults: ../shared/data/hate-speech 3 3)
#   e.g. nice -n 5 bash Deploy/measure/seeds.sh ../shared/data/hate-speech 3 3
#
# DATA_DIR holds train.tsv, dev.tsv and test.tsv (columns text, label). Seeds 42, 43, …, 41+K on both
# sides (the two sides' random streams differ anyway: same seed numbers, not the same draws).
# Without test.tsv (SST-2: its dev set is the test set by convention), dev.tsv is the test file and
# the validation set is carved from train.tsv. TRAIN_ROWS=N trains on a seeded sample of N rows of
# train.tsv; the validation rows are then drawn from the rest of train.tsv when there is no test.tsv
# (VALIDATION_ROWS of them, default 1000), else dev.tsv stays the validation set. The prepared files
# go to WORK/data (texts never go into the repository), and both sides read the same files:
#   TRAIN_ROWS=4000 VALIDATION_ROWS=1000 bash Deploy/measure/seeds.sh ../shared/data/sst2 3 2
#   bertd:   bertctl sweep --model MODEL --train DATA/train.tsv --validation DATA/dev.tsv --out WORK/bertd
#                          --grid lr=LR --seeds K --epochs E --json
#            then, per seed, bertctl eval --local WORK/bertd/points/NAME --data DATA/test.tsv --json --max-length 128
#   PyTorch: Deploy/measure/finetune_pytorch.py --seed S --epochs E --lr LR (its docstring lists the recipe)
# Recipe on both sides (HF defaults): lr 5e-5, batch 32, AdamW wd 0.01 (not on biases/LayerNorm), 10 %
# warm-up then linear decay, clip 1.0, dropout 0.1, max length 128, the checkpoint with the lowest
# validation loss at an epoch end kept and scored on test.tsv.
# Environment: BERTCTL_BIN (default /tmp/bin-seeds/bertctl: a copy of .build/release/bertctl, so that a
# rebuild during the run cannot change the binary), PEERS_PYTHON (default /tmp/peers/bin/python, with
# torch, transformers, scikit-learn), MODEL (default models/all-MiniLM-L6-v2), LR (default 5e-5),
# WORK (default a new /tmp/seeds.XXXXXX; run outputs stay there, never in the repository), TRAIN_ROWS
# (default 0: all of train.tsv), VALIDATION_ROWS (default 1000), SAMPLE_SEED (default 7: the sample's
# seed, the same for every training seed, so that the seeds vary the training only).
# Timings depend on the machine and on what else runs on it: read them with the load averages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DATA=${1:-../shared/data/hate-speech}
K=${2:-3}
EPOCHS=${3:-3}
LR=${LR:-5e-5}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BERTCTL=${BERTCTL_BIN:-/tmp/bin-seeds/bertctl}
PY=${PEERS_PYTHON:-/tmp/peers/bin/python}
WORK=${WORK:-$(mktemp -d /tmp/seeds.XXXXXX)}
SEED0=42
mkdir -p "$WORK"
[ -x "$BERTCTL" ] || { echo "no bertctl at $BERTCTL (mkdir -p /tmp/bin-seeds && cp .build/release/bertctl /tmp/bin-seeds/, or set BERTCTL_BIN)" >&2; exit 1; }
"$PY" -c 'import torch, transformers, sklearn' 2>/dev/null || { echo "$PY lacks torch/transformers/scikit-learn" >&2; exit 1; }
TRAIN_ROWS=${TRAIN_ROWS:-0}
VALIDATION_ROWS=${VALIDATION_ROWS:-1000}
SAMPLE_SEED=${SAMPLE_SEED:-7}
for f in train dev; do [ -f "$DATA/$f.tsv" ] || { echo "no $DATA/$f.tsv" >&2; exit 1; }; done
SOURCE=$DATA
if [ "$TRAIN_ROWS" -gt 0 ] || [ ! -f "$DATA/test.tsv" ]; then
    # The prepared split: a seeded sample of train.tsv (and validation from the rest of it when
    # there is no test.tsv); test = test.tsv, else dev.tsv. Row order of the file is kept.
    DATA=$WORK/data
    mkdir -p "$DATA"
    "$PY" - "$SOURCE" "$DATA" "$TRAIN_ROWS" "$VALIDATION_ROWS" "$SAMPLE_SEED" <<'PY'
import os, random, shutil, sys
src, dst, n_train, n_val, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lines = open(os.path.join(src, "train.tsv"), encoding="utf-8").read().split("\n")
header, rows = lines[0].rstrip("\r"), [l.rstrip("\r") for l in lines[1:] if l.rstrip("\r")]
has_test = os.path.exists(os.path.join(src, "test.tsv"))
need = (n_train if n_train > 0 else 0) + (0 if has_test else n_val)
if n_train <= 0:
    n_train = len(rows) - (0 if has_test else n_val)
    need = len(rows)
assert need <= len(rows), f"{need} rows asked of {len(rows)}"
drawn = random.Random(seed).sample(range(len(rows)), need)
train, val = sorted(drawn[:n_train]), sorted(drawn[n_train:])
def write(name, idx):
    with open(os.path.join(dst, name), "w", encoding="utf-8") as f:
        f.write(header + "\n" + "".join(rows[i] + "\n" for i in idx))
write("train.tsv", train)
if has_test:
    shutil.copyfile(os.path.join(src, "dev.tsv"), os.path.join(dst, "dev.tsv"))
    shutil.copyfile(os.path.join(src, "test.tsv"), os.path.join(dst, "test.tsv"))
    print(f"prepared: {len(train)} training rows of {len(rows)} (seed {seed}); validation dev.tsv, test test.tsv", file=sys.stderr)
else:
    write("dev.tsv", val)
    shutil.copyfile(os.path.join(src, "dev.tsv"), os.path.join(dst, "test.tsv"))
    print(f"prepared: {len(train)} training + {len(val)} validation rows of {len(rows)} in train.tsv (seed {seed}, disjoint); "
          f"test = {src}/dev.tsv", file=sys.stderr)
PY
fi
[ "$K" -ge 2 ] || { echo "K must be at least 2 (a sample sd needs two seeds)" >&2; exit 2; }

load() { cut -d" " -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
CPU="$(lscpu | sed -n 's/^Model name: *//p' | head -1), family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p') ($(nproc) cores)"
L_START=$(load); T_START=$(now)
echo "cpu: $CPU; load average at start $L_START"
echo "command: TRAIN_ROWS=$TRAIN_ROWS VALIDATION_ROWS=$VALIDATION_ROWS SAMPLE_SEED=$SAMPLE_SEED LR=$LR bash Deploy/measure/seeds.sh $SOURCE $K $EPOCHS"
echo "data: $DATA (train.tsv for training ($(($(wc -l <"$DATA/train.tsv") - 1)) rows), dev.tsv for checkpoint selection ($(($(wc -l <"$DATA/dev.tsv") - 1))), test.tsv for the metrics ($(($(wc -l <"$DATA/test.tsv") - 1))))$([ "$DATA" != "$SOURCE" ] && echo "; prepared from $SOURCE")"
echo "recipe: $MODEL, $EPOCHS epoch(s), lr $LR, batch 32, max length 128, AdamW wd 0.01, 10 % warm-up + linear decay, clip 1.0, dropout 0.1, kept by validation loss; seeds $SEED0..$((SEED0 + K - 1)); work dir $WORK"

# bertd: one grid point, K seeds, then every seed's kept checkpoint on the test file.
L_BERTD=$(load); T0=$(now)
echo "bertd: sweep of $K seed(s) (log: $WORK/bertd.sweep.err)" >&2
"$BERTCTL" sweep --model "$MODEL" --train "$DATA/train.tsv" --validation "$DATA/dev.tsv" --out "$WORK/bertd" \
    --grid lr="$LR" --seeds "$K" --seed "$SEED0" --epochs "$EPOCHS" --json >"$WORK/bertd.sweep.json" 2>"$WORK/bertd.sweep.err"
for dir in "$WORK"/bertd/points/*/; do
    name=$(basename "$dir")
    "$BERTCTL" eval --local "$dir" --data "$DATA/test.tsv" --json --max-length 128 >"$WORK/bertd.eval.$name.json"
done
T1=$(now)
echo "bertd done in $(awk "BEGIN{printf \"%.0f\", $T1 - $T0}") s; now PyTorch" >&2

# PyTorch: the same recipe, one process per seed.
L_PT=$(load)
for ((i = 0; i < K; i++)); do
    s=$((SEED0 + i))
    echo "pytorch: seed $s (log: $WORK/pytorch.$s.err)" >&2
    "$PY" Deploy/measure/finetune_pytorch.py --model "$MODEL" --data "$DATA" --seed "$s" --epochs "$EPOCHS" --lr "$LR" \
        --json "$WORK/pytorch.$s.json" >"$WORK/pytorch.$s.out" 2>"$WORK/pytorch.$s.err"
done
T2=$(now); L_END=$(load)

"$PY" - "$WORK" "$K" "$CPU" "$L_START" "$L_BERTD" "$L_PT" "$L_END" "$T_START" "$T1" "$T2" "$T0" <<'PY'
import glob, json, math, os, statistics as st, sys
work, k, cpu, l_start, l_bertd, l_pt, l_end = sys.argv[1], int(sys.argv[2]), *sys.argv[3:8]
t_start, t1, t2, t0 = map(float, sys.argv[8:12])

bertd = []
for d in sorted(glob.glob(os.path.join(work, "bertd", "points", "*", ""))):
    name = os.path.basename(os.path.normpath(d))
    point = json.load(open(os.path.join(d, "point.json")))
    report = json.load(open(os.path.join(d, "training_report.json")))
    ev = json.load(open(os.path.join(work, f"bertd.eval.{name}.json")))
    bertd.append({"seed": point["seed"], "accuracy": ev["accuracy"], "macro_f1": ev["macro_f1"],
                  "train_seconds": report["timings"]["training"], "best_epoch": point.get("best_epoch")})
pytorch = []
for f in sorted(glob.glob(os.path.join(work, "pytorch.*.json"))):
    r = json.load(open(f))
    pytorch.append({k2: r[k2] for k2 in ("seed", "accuracy", "macro_f1", "train_seconds", "best_epoch")})
bertd.sort(key=lambda r: r["seed"]); pytorch.sort(key=lambda r: r["seed"])
assert len(bertd) == k and len(pytorch) == k, f"expected {k} runs per side, got bertd {len(bertd)}, pytorch {len(pytorch)}"

def ms(rows, key):
    v = [r[key] for r in rows]
    return st.mean(v), st.stdev(v)

def welch(a, b):
    (ma, sa), (mb, sb), n = a, b, k
    se2 = sa * sa / n + sb * sb / n
    if se2 == 0:
        return float("inf") if ma != mb else 0.0, float("nan"), float("nan")
    t = (ma - mb) / math.sqrt(se2)
    df = se2 * se2 / ((sa * sa / n) ** 2 / (n - 1) + (sb * sb / n) ** 2 / (n - 1))
    try:
        from scipy.stats import t as student
        p = 2 * student.sf(abs(t), df)
    except Exception:
        p = float("nan")
    return t, df, p

cols = ["side", "test accuracy per seed (" + ", ".join(str(r["seed"]) for r in bertd) + ")", "accuracy mean ± sd",
        "macro-F1 mean ± sd", "mean train s", "kept epochs"]
print("| " + " | ".join(cols) + " |\n|---|---|---:|---:|---:|---|")
stats = {}
for name, rows in (("bertd", bertd), ("pytorch+transformers", pytorch)):
    acc, f1 = ms(rows, "accuracy"), ms(rows, "macro_f1")
    stats[name] = (acc, f1)
    print(f"| {name} | {', '.join('%.4f' % r['accuracy'] for r in rows)} | {acc[0]:.4f} ± {acc[1]:.4f} | {f1[0]:.4f} ± {f1[1]:.4f} | "
          f"{st.mean(r['train_seconds'] for r in rows):.1f} | {', '.join(str(r['best_epoch']) for r in rows)} |")
verdicts = []
for i, metric in enumerate(("accuracy", "macro-F1")):
    a, b = stats["bertd"][i], stats["pytorch+transformers"][i]
    d, spread = a[0] - b[0], a[1] + b[1]
    t, df, p = welch(a, b)
    verdicts.append(f"{metric}: Δmean (bertd − pytorch) {d:+.4f}, |Δmean| {'>' if abs(d) > spread else '<='} sd_a + sd_b = {spread:.4f} "
                    f"({'exceeds' if abs(d) > spread else 'within'} the spread); Welch t {t:+.2f} (df {df:.1f}, two-sided p {p:.3f})")
print("verdict (K = %d seeds per side): " % k + "; ".join(verdicts))
within = all("within" in v for v in verdicts)
print("=> " + ("no difference beyond seed-to-seed spread" if within else "the means differ by more than the summed sds on at least one metric (see t and p: K is small)"))
print(f"cpu: {cpu}; 1/5/15-min load average at start {l_start}, bertd start {l_bertd}, pytorch start {l_pt}, end {l_end}")
print(f"wall time: bertd (sweep + test evals) {t1 - t0:.0f} s, pytorch {t2 - t1:.0f} s, total {t2 - t_start:.0f} s")
PY
echo "runs and logs: $WORK"
