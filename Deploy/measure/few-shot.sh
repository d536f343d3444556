#!/usr/bin/env bash
# Few-shot accuracy: bertd's `--method few-shot` (SetFit's recipe) against zero-shot on the base model,
# full fine-tuning on the same few examples, and SetFit itself in PyTorch on the same samples, in one run
# on this machine. For each dataset, N examples per class (N in NS) are sampled from train.tsv with each
# seed in SEEDS; every method trains on that same sample and is scored on the dataset's test file
# (SST-2: dev.tsv, its test set by convention; hate-speech: test.tsv). Prints, per dataset, a table of
# method × N: every seed's test accuracy, mean ± sample sd of accuracy and macro-F1 over the seeds, mean
# train seconds; then bertd few-shot − SetFit paired on the same samples. The CPU (lscpu model name,
# cores) and the load average at start and end are printed too. Not part of CI (an hour or more of CPU).
#
#   bash Deploy/measure/few-shot.sh
#   e.g. nice -n 19 bash Deploy/measure/few-shot.sh
#        NS="8 16" SEEDS="42 43 44" WORK=/tmp/fewshot.run nice -n 19 bash Deploy/measure/few-shot.sh
#        NS=64 SEEDS=42 WORK=/tmp/fewshot.run nice -n 19 bash Deploy/measure/few-shot.sh   (adds to the same tables)
#
# Runs already in WORK (WORK/results/*.json) are not run again: a grid can be filled in several calls, and
# the tables are always over everything in WORK (each row says how many seeds it has).
#
# Methods (one at a time; the work and logs stay in WORK, never in the repository):
#   sample     N per class from DATA/train.tsv: Python's random.Random(seed).sample of each class's rows
#              (labels sorted, rows in file order), then the 2N rows shuffled by the same generator.
#   zero-shot  bertctl classify --local MODEL --labels L --json on the test texts (cosine of the text's
#              embedding to each label's): SST-2 L = "negative,positive"; hate-speech L = the data's own
#              label names "hate,noHate" and, as a second row, the descriptions "hate speech,not hate speech"
#              (label i ↔ the data's sorted label i). Once per dataset.
#   few-shot   bertctl train --local --model MODEL --train SAMPLE --validation SAMPLE --method few-shot
#              --seed S --json (its defaults: 1 epoch over SetFit's oversampled pairs, 16 pairs per step,
#              lr 2e-5, LogisticRegression C=1). --validation SAMPLE only because without a validation file
#              bertctl holds out 10 % of --train (2 of 16 texts at N=8) and trains on the rest; the
#              validation pass selects nothing. Train s: body_seconds + head_seconds of its report.
#   full       bertctl train --local --model MODEL --train SAMPLE --validation SAMPLE --method full
#              --lr FULL_LR --batch-size FULL_BATCH --epochs ceil(FULL_STEPS × FULL_BATCH / 2N) --seed S
#              (defaults lr 5e-5, batch 8, 80 steps: 40 epochs at N=8, 20 at 16, 5 at 64; warm-up 10 %,
#              linear decay, wd 0.01, dropout 0.1, new head on the pooler). There is no validation data in
#              a few-shot setting: --validation SAMPLE keeps all of the sample for training, and the kept
#              checkpoint is the one with the lowest loss on the training sample itself (its epoch is
#              printed; it is the last or nearly). Train s: timings.training.
#   setfit     Deploy/measure/setfit_fewshot.py (the setfit package, its defaults: batch 16, 1 epoch,
#              body lr 2e-5, oversampling, LogisticRegression head) on the same SAMPLE and MODEL directory,
#              torch threads SETFIT_THREADS (default 1: on a loaded 2-core machine PyTorch's two OpenMP
#              threads ran 5× slower than one). Skipped, and said so, if SETFIT_PYTHON lacks setfit.
#   few-shot-holdout (not in the default METHODS) bertd few-shot as its --help example runs it, without
#              --validation: bertctl then holds 10 % of the sample out (stratified) and trains on the rest.
#   All bertd evals: bertctl eval --local DIR --data TEST --json --max-length 128.
# Environment: BERTCTL_BIN (default /tmp/bin-fewshot/bertctl: a copy of .build/release/bertctl, so that a
# rebuild during the run cannot change the binary), PEERS_PYTHON (default /tmp/peers/bin/python: sampling
# and tables), SETFIT_PYTHON (default /tmp/setfit-venv/bin/python: `pip install setfit` in a venv over
# PEERS_PYTHON's packages), MODEL (default models/all-MiniLM-L6-v2), DATA_ROOT (default ../shared/data,
# holding sst2/ and hate-speech/), DATASETS (default "sst2 hate-speech"), NS (default "8 16 64"), SEEDS
# (default "42 43 44"), METHODS (default "zero-shot few-shot full setfit"), FULL_LR, FULL_BATCH, FULL_STEPS,
# SETFIT_THREADS, WORK (default a new /tmp/fewshot.XXXXXX), TABLE_ONLY=1 (print the tables of WORK, run nothing). Order: N outermost, then seed, then dataset,
# so that a run cut short has whole small-N rows.
# Timings depend on the machine and on what else runs on it: read them with the load averages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
REPO=$(pwd)
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BERTCTL=${BERTCTL_BIN:-/tmp/bin-fewshot/bertctl}
PY=${PEERS_PYTHON:-/tmp/peers/bin/python}
SFPY=${SETFIT_PYTHON:-/tmp/setfit-venv/bin/python}
DATA_ROOT=${DATA_ROOT:-../shared/data}
DATASETS=${DATASETS:-sst2 hate-speech}
NS=${NS:-8 16 64}
SEEDS=${SEEDS:-42 43 44}
METHODS=${METHODS:-zero-shot few-shot full setfit}
FULL_LR=${FULL_LR:-5e-5}
FULL_BATCH=${FULL_BATCH:-8}
FULL_STEPS=${FULL_STEPS:-80}
SETFIT_THREADS=${SETFIT_THREADS:-1}
WORK=${WORK:-$(mktemp -d /tmp/fewshot.XXXXXX)}
[ "${TABLE_ONLY:-0}" = 1 ] && { NS=; SEEDS=; DATASETS=; METHODS=; }
mkdir -p "$WORK/samples" "$WORK/runs" "$WORK/results" "$WORK/logs"
[ -x "$BERTCTL" ] || { echo "no bertctl at $BERTCTL (mkdir -p /tmp/bin-fewshot && cp .build/release/bertctl /tmp/bin-fewshot/, or set BERTCTL_BIN)" >&2; exit 1; }
[ -f "$MODEL/config.json" ] || { echo "no model at $MODEL (in a git worktree: MODEL=/path/to/main/models/all-MiniLM-L6-v2)" >&2; exit 1; }
"$PY" -c 'import sklearn' 2>/dev/null || { echo "$PY lacks scikit-learn" >&2; exit 1; }
if [[ " $METHODS " == *" setfit "* ]] && ! "$SFPY" -c 'import setfit' 2>/dev/null; then
    echo "SetFit skipped: $SFPY cannot import setfit (python3 -m venv /tmp/setfit-venv; echo \$(\"$PY\" -c 'import site; print(site.getsitepackages()[0])') > /tmp/setfit-venv/lib/python3.*/site-packages/peers.pth; /tmp/setfit-venv/bin/pip install setfit)" >&2
    METHODS=${METHODS//setfit/}
fi
test_file() { case $1 in sst2) echo "$DATA_ROOT/sst2/dev.tsv" ;; *) echo "$DATA_ROOT/$1/test.tsv" ;; esac; }
for ds in $DATASETS; do for f in "$DATA_ROOT/$ds/train.tsv" "$(test_file "$ds")"; do [ -f "$f" ] || { echo "no $f" >&2; exit 1; }; done; done

load() { cut -d" " -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
CPU="$(lscpu | sed -n 's/^Model name: *//p' | head -1) family $(lscpu | sed -n 's/^CPU family: *//p' | head -1) model $(lscpu | sed -n 's/^Model: *//p' | head -1) ($(nproc) cores)"
L_START=$(load); T_START=$(now)
[ "${TABLE_ONLY:-0}" = 1 ] || echo "$L_START" >>"$WORK/load.start"
echo "cpu: $CPU; load average at start $L_START; work dir $WORK"
echo "grid: datasets $DATASETS; N per class $NS; seeds $SEEDS; methods $METHODS; model $MODEL; bertctl $BERTCTL"

# sample DS N SEED -> path of the sample (N per class from train.tsv, seeded)
sample() {
    local out="$WORK/samples/$1-$2-$3.tsv"
    [ -f "$out" ] || "$PY" - "$DATA_ROOT/$1/train.tsv" "$2" "$3" "$out" <<'PY'
import random, sys
src, n, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = open(src, encoding="utf-8").read().split("\n")
header = lines[0].rstrip("\r").split("\t"); ti, li = header.index("text"), header.index("label")
by = {}
for line in lines[1:]:
    line = line.rstrip("\r")
    if line:
        c = line.split("\t"); by.setdefault(c[li], []).append(c[ti])
rng = random.Random(seed)
rows = [(t, label) for label in sorted(by) for t in rng.sample(by[label], n)]
rng.shuffle(rows)
with open(out + ".tmp", "w", encoding="utf-8") as f:
    f.write("text\tlabel\n")
    for t, label in rows: f.write(f"{t}\t{label}\n")
import os; os.replace(out + ".tmp", out)
PY
    echo "$out"
}

# result DS N SEED METHOD EVAL_JSON TRAIN_SECONDS [EXTRA_JSON]: one normalised JSON per run
result() {
    "$PY" - "$@" >"$WORK/results/$1.$2.$3.$4.json.tmp" <<'PY'
import json, sys
ds, n, seed, method, ev, secs = sys.argv[1:7]
extra = json.loads(sys.argv[7]) if len(sys.argv) > 7 else {}
e = json.load(open(ev))
print(json.dumps({"dataset": ds, "n": int(n), "seed": int(seed), "method": method, "accuracy": e["accuracy"],
                  "macro_f1": e["macro_f1"], "train_seconds": float(secs), **extra}))
PY
    mv "$WORK/results/$1.$2.$3.$4.json.tmp" "$WORK/results/$1.$2.$3.$4.json"
}
jget() { "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"json": json}, {"r": r}))' "$1" "$2"; }

# Zero-shot, once per dataset.
if [[ " $METHODS " == *" zero-shot "* ]]; then
    for ds in $DATASETS; do
        TEST=$(test_file "$ds")
        if [ "$ds" = sst2 ]; then sets=("negative,positive"); else sets=("hate,noHate" "hate speech,not hate speech"); fi
        for i in "${!sets[@]}"; do
            tag="zero-shot-$i"; res="$WORK/results/$ds.0.0.$tag.json"
            [ -f "$res" ] && continue
            echo "zero-shot: $ds, labels \"${sets[$i]}\"" >&2
            t0=$(now)
            tail -n +2 "$TEST" | cut -f1 | "$BERTCTL" classify --local "$MODEL" --labels "${sets[$i]}" --json >"$WORK/runs/$ds.$tag.jsonl"
            t1=$(now)
            "$PY" - "$TEST" "$WORK/runs/$ds.$tag.jsonl" "${sets[$i]}" >"$WORK/runs/$ds.$tag.eval.json" <<'PY'
import json, sys
from sklearn.metrics import accuracy_score, f1_score
test, preds, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
gold = [l.split("\t")[1] for l in open(test, encoding="utf-8").read().split("\n")[1:] if l]
data_labels = sorted(set(gold))
to_data = dict(zip(names, data_labels))
pred = [to_data[json.loads(l)["label"]] for l in open(preds) if l.strip()]
assert len(pred) == len(gold), (len(pred), len(gold))
print(json.dumps({"accuracy": accuracy_score(gold, pred), "macro_f1": f1_score(gold, pred, average="macro", zero_division=0)}))
PY
            result "$ds" 0 0 "$tag" "$WORK/runs/$ds.$tag.eval.json" 0 \
                "{\"labels\": \"${sets[$i]}\", \"classify_seconds\": $(awk "BEGIN{print $t1 - $t0}")}"
        done
    done
fi

for n in $NS; do for seed in $SEEDS; do for ds in $DATASETS; do
    TEST=$(test_file "$ds")
    S=$(sample "$ds" "$n" "$seed")
    rows=$(($(wc -l <"$S") - 1))
    for method in $METHODS; do
        [ "$method" = zero-shot ] && continue
        res="$WORK/results/$ds.$n.$seed.$method.json"
        [ -f "$res" ] && continue
        run="$WORK/runs/$ds.$n.$seed.$method"; log="$WORK/logs/$ds.$n.$seed.$method"
        echo "$(date -u +%H:%M:%S) $ds N=$n seed $seed: $method (load $(load); log $log.err)" >&2
        case $method in
        few-shot)
            rm -rf "$run"
            "$BERTCTL" train --local --model "$MODEL" --train "$S" --validation "$S" --method few-shot --seed "$seed" \
                --out "$run" --json >"$log.json" 2>"$log.err"
            "$BERTCTL" eval --local "$run" --data "$TEST" --json --max-length 128 >"$log.eval.json"
            result "$ds" "$n" "$seed" "$method" "$log.eval.json" "$(jget "$log.json" 'r["body_seconds"] + r["head_seconds"]')" \
                "$(jget "$log.json" 'json.dumps({"pairs": r["pairs"], "steps": r["steps"], "examples_per_class": r["examples_per_class"]})')"
            ;;
        full)
            rm -rf "$run"
            epochs=$(((FULL_STEPS * FULL_BATCH + rows - 1) / rows))
            "$BERTCTL" train --local --model "$MODEL" --train "$S" --validation "$S" --method full --seed "$seed" \
                --lr "$FULL_LR" --batch-size "$FULL_BATCH" --epochs "$epochs" --out "$run" --json >"$log.json" 2>"$log.err"
            "$BERTCTL" eval --local "$run" --data "$TEST" --json --max-length 128 >"$log.eval.json"
            result "$ds" "$n" "$seed" "$method" "$log.eval.json" "$(jget "$log.json" 'r["timings"]["training"]')" \
                "{\"epochs\": $epochs, \"best_epoch\": $(jget "$log.json" 'r["best_epoch"]')}"
            rm -rf "$run/last-checkpoint"
            ;;
        few-shot-holdout)
            rm -rf "$run"
            "$BERTCTL" train --local --model "$MODEL" --train "$S" --method few-shot --seed "$seed" \
                --out "$run" --json >"$log.json" 2>"$log.err"
            "$BERTCTL" eval --local "$run" --data "$TEST" --json --max-length 128 >"$log.eval.json"
            result "$ds" "$n" "$seed" "$method" "$log.eval.json" "$(jget "$log.json" 'r["body_seconds"] + r["head_seconds"]')" \
                "$(jget "$log.json" 'json.dumps({"pairs": r["pairs"], "steps": r["steps"], "examples_per_class": r["examples_per_class"]})')"
            ;;
        setfit)
            "$SFPY" Deploy/measure/setfit_fewshot.py --model "$MODEL" --train "$S" --test "$TEST" --seed "$seed" \
                --threads "$SETFIT_THREADS" --json "$log.eval.json" >"$log.out" 2>"$log.err"
            result "$ds" "$n" "$seed" "$method" "$log.eval.json" "$(jget "$log.eval.json" 'r["train_seconds"]')"
            ;;
        *) echo "unknown method $method" >&2; exit 2 ;;
        esac
        echo "    -> accuracy $(jget "$res" 'round(r["accuracy"], 4)'), train $(jget "$res" 'round(r["train_seconds"], 1)') s" >&2
    done
done; done; done
L_END=$(load); T_END=$(now)
[ "${TABLE_ONLY:-0}" = 1 ] || echo "$L_END" >>"$WORK/load.end"

"$PY" - "$WORK" "$CPU" "$L_START" "$L_END" "$T_START" "$T_END" <<'PY'
import glob, json, os, statistics as st, sys
work, cpu, l_start, l_end, t0, t1 = sys.argv[1:7]
rows = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(work, "results", "*.json")))]
names = {"zero-shot-0": "zero-shot, base model", "zero-shot-1": "zero-shot, base model", "few-shot": "bertd few-shot",
         "setfit": "SetFit (PyTorch)", "full": "bertd full fine-tuning",
         "few-shot-holdout": "bertd few-shot without --validation (10 % of the sample held out: 7 of 8 per class at N=8)"}
order = ["zero-shot-0", "zero-shot-1", "few-shot", "setfit", "full", "few-shot-holdout"]
context = {"sst2": "full fine-tuning on all 67 349 training sentences, 1 epoch (README): 0.899",
           "hate-speech": "full fine-tuning on all 1 723 training texts, 3 epochs (README, seeds.sh): 0.813 ± 0.001 over seeds"}
def msd(v):
    return (f"{st.mean(v):.3f} ± {st.stdev(v):.3f}" if len(v) > 1 else f"{v[0]:.3f}")
for ds in sorted({r["dataset"] for r in rows}, key=lambda d: (d != "sst2", d)):
    rs = [r for r in rows if r["dataset"] == ds]
    print(f"\n### {ds} (test set {'dev.tsv' if ds == 'sst2' else 'test.tsv'}), all-MiniLM-L6-v2\n")
    print("| method | N per class | seeds | accuracy mean ± sd | macro-F1 mean ± sd | accuracy per seed | train s (mean) |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for m in order:
        for n in sorted({r["n"] for r in rs if r["method"] == m}):
            g = sorted((r for r in rs if r["method"] == m and r["n"] == n), key=lambda r: r["seed"])
            label = names[m] + (f' (labels "{g[0]["labels"]}")' if m.startswith("zero-shot") else "")
            seeds = ", ".join(f'{r["seed"]}: {r["accuracy"]:.3f}' for r in g) if n else "—"
            secs = f'{st.mean(r["train_seconds"] for r in g):.0f}' if n else "0"
            print(f'| {label} | {n} | {len(g) if n else "—"} | {msd([r["accuracy"] for r in g])} | {msd([r["macro_f1"] for r in g])} | {seeds} | {secs} |')
    print(f"| context: {context.get(ds, '')} | all | | | | | |")
    pairs = [(a, b) for a in rs if a["method"] == "few-shot" for b in rs
             if b["method"] == "setfit" and (b["n"], b["seed"]) == (a["n"], a["seed"])]
    if pairs:
        print(f"\nbertd few-shot − SetFit on the same samples ({ds}):")
        for n in sorted({a["n"] for a, _ in pairs}):
            d = [a["accuracy"] - b["accuracy"] for a, b in pairs if a["n"] == n]
            f = [a["macro_f1"] - b["macro_f1"] for a, b in pairs if a["n"] == n]
            print(f"  N={n}: Δaccuracy per seed {', '.join('%+.3f' % x for x in d)}; mean {st.mean(d):+.3f}"
                  + (f" (sd {st.stdev(d):.3f})" if len(d) > 1 else "") + f"; Δmacro-F1 mean {st.mean(f):+.3f}")
    full = [r for r in rs if r["method"] == "full"]
    if full:
        print(f"full fine-tuning: kept epoch / epochs (lowest loss on the training sample): "
              + ", ".join(f'N={r["n"]} s{r["seed"]}: {r["best_epoch"]}/{r["epochs"]}' for r in sorted(full, key=lambda r: (r["n"], r["seed"]))))
starts = open(os.path.join(work, "load.start")).read().split("\n"); ends = open(os.path.join(work, "load.end")).read().split("\n")
print(f"\ncpu: {cpu}; 1/5/15-min load average at the start of each call: {'; '.join(x for x in starts if x)}; at the end: {'; '.join(x for x in ends if x)}")
print(f"this call: {float(t1) - float(t0):.0f} s wall")
PY
echo "runs, samples and logs: $WORK"
