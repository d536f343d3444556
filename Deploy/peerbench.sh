#!/usr/bin/env bash
# bertd beside its peers, in one run on this machine (Deploy/peers/compare.py): `bertctl bench` and
# `bertctl classify` (fp32 and int8), then PyTorch fp32, ONNX Runtime fp32, ORT with its transformer optimizer and
# ORT int8 on the same workloads (fixed 32×128, SST-2 dev in batches of 32, a 12-token sentence)
# and the same model with the same seeded two-label head; prints the CPU, the sgemm peak and one
# Markdown table per model, and agreement of every engine's logits with PyTorch's.
#
#   bash Deploy/peerbench.sh [--bert-base] [--training] [--json OUT] [--threads N]
#
# BERTD_PEER_PYTHON: the peers' Python (default /tmp/peers/bin/python). When it is missing, a venv
# is made at /tmp/peers; missing packages are installed into it (PyPI, about 6 GB, a few minutes):
#   python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch transformers onnxruntime onnx
# BERTD_BERTCTL: the bertctl to measure (default .build/release/bertctl, swift build -c release).
# Defaults: models/all-MiniLM-L6-v2 and ../shared/data/sst2/dev.tsv (--model, --texts change them).
# --bert-base adds a random-weight BERT-base: several times longer. --training adds, per model,
# full fine-tuning and LoRA steps (32 × 64 tokens, AdamW, dropout 0.1): `bertctl bench --training`
# beside PyTorch + peft (installed into the venv when missing) on the same shape, one table with
# ms/step, examples/s, GFLOP/s (one FLOP count for both), efficiency against the run's sgemm and
# LoRA's step over full's. Not for CI; keep the machine otherwise idle. Nothing is asserted: it
# prints what it measured.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${BERTD_PEER_PYTHON:-/tmp/peers/bin/python}
bertctl=${BERTD_BERTCTL:-.build/release/bertctl}
[ -x "$bertctl" ] || { echo "peerbench: $bertctl is missing (run: swift build -c release)" >&2; exit 1; }
[ -d models/all-MiniLM-L6-v2 ] || { echo "peerbench: no model at models/all-MiniLM-L6-v2 (run: bash Deploy/fetch-model.sh)" >&2; exit 1; }
command -v lscpu >/dev/null || { echo "peerbench: lscpu is missing (util-linux)" >&2; exit 1; }

if [ ! -x "$python" ]; then
    [ -z "${BERTD_PEER_PYTHON:-}" ] || { echo "peerbench: $python is missing" >&2; exit 1; }
    echo "peerbench: making the venv /tmp/peers" >&2
    python3 -m venv /tmp/peers
fi
if ! "$python" -c 'import torch, transformers, onnxruntime, onnx' 2>/dev/null; then
    echo "peerbench: installing torch transformers onnxruntime onnx into $("$python" -c 'import sys; print(sys.prefix)')" >&2
    "$python" -m pip install --quiet torch transformers onnxruntime onnx
fi
for arg in "$@"; do
    if [ "$arg" = --training ] && ! "$python" -c 'import peft' 2>/dev/null; then
        echo "peerbench: installing peft into $("$python" -c 'import sys; print(sys.prefix)')" >&2
        "$python" -m pip install --quiet peft
    fi
done

exec "$python" Deploy/peers/compare.py --bertctl "$bertctl" "$@"
