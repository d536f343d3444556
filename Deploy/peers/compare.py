#!/usr/bin/env python3
"""bertd beside its peers, in one run on this machine: one Markdown table per model, so that
figures quoted together were measured together (issue 13). Not for CI; run it on an idle machine.

usage: compare.py --bertctl BERTCTL [--model MINILM_DIR] [--texts TSV] [--threads N] [--bert-base] [--training]
                  [--json OUT]
(Deploy/peerbench.sh runs it with the repository's defaults.)

Models, each given the same two-label classification head for every engine:
  MiniLM     MINILM_DIR (default models/all-MiniLM-L6-v2: 6 layers, hidden 384) loaded as
             BertForSequenceClassification(num_labels=2) after torch.manual_seed(0), so its
             randomly initialised head is reproducible, saved to a temporary directory with the
             tokenizer files; bertd and every peer read that directory.
  BERT-base  (--bert-base; slow) random weights after torch.manual_seed(0): hidden 768, 12 layers,
             12 heads, intermediate 3072, vocabulary 30522, MiniLM's tokenizer files.
Engines, all on --threads compute threads (default: every core), fp32 unless said:
  bertd          `bertctl bench --local DIR --texts TSV --threads N --precision both` (its JSON is
                 kept whole)
  bertd int8     the same run's int8 figures (the encoder's dense layers in int8: weights per
                 output channel, activations per token; README's "int8 inference")
  ORT fp32       ONNX Runtime, torch.onnx.export (opset 17, TorchScript exporter, dynamic batch and
                 length), ORT_ENABLE_ALL, intra_op_num_threads = N, inter_op = 1: as ref_peers.py
  ORT optimized  the same export of the model loaded with attn_implementation="eager" (the graph
                 the optimizer's attention fusion matches; SDPA's is left unfused) through
                 onnxruntime.transformers.optimizer.optimize_model(model_type="bert"): fused
                 embeddings + layer norm, attention, bias + GELU, skip + layer norm (the table's
                 note lists what was fused); same session options
  ORT int8       onnxruntime.quantization.quantize_dynamic of the optimized model (of the plain
                 export if that fails; the JSON says which), QInt8 weights, activations quantized
                 dynamically per batch, no calibration; same session options
  PyTorch        eager, torch.inference_mode(), torch.set_num_threads(N)
Workloads, those of ../shared/tools/peers/ref_peers.py and `bertctl bench`:
  sgemm   2048^3 sgemm, best of 5 after 2 warm-ups: numpy (its BLAS) and torch here, bertd's
          OpenBLAS in its JSON; the machine's practical limit for the GFLOP/s figures
  fixed   32 x 128 random tokens (1000..20000), forward to logits; median of 5 after 2 warm-ups;
          seq/s and GFLOP/s (ref_peers.py's FLOP count: per token and layer 2(4H^2+2HI)+4TH)
          (for ORT int8 the same count over its time, though its matrix products are int8)
  mixed   TSV's first 1024 texts, batches of 32 in file order, truncated at 128 tokens; peers pad
          each batch to its longest text, bertd packs without padding; tokenized beforehand;
          median of 3 passes after 1 warm-up; seq/s
  single  "The film was a delight from start to finish." (12 tokens), batch 1, tokenization
          included (as bertd measures it); p50 and p99 of 300 after 20 warm-ups. The forward-only
          median of 50 (ref_peers.py's figure) is in the JSON as single.forward_p50_ms for peers.
  single_25  the same with bertctl bench's 25-token sentence
Agreement, on the mixed texts: every variant's logits against PyTorch fp32's, the largest absolute
difference and the share of texts with the same argmax label. bertd's logits come from
`bertctl classify --local DIR --json` (batches of 32). The heads are random, so logits are small
and close to each other: a label can flip on a tiny difference; |dlogit| is the stricter check.
Training (--training), per model, in the same run: `bertctl bench --training` (Sources/bertctl/
Bench/TrainingBench.swift) and PyTorch on its shape and recipe, each method on a fresh copy of the
model: batch 32 x 64 tokens ([101] + 62 seeded random ids in 1000..20000 + [102], no padding),
labels i % 2, cross-entropy, dropout 0.1 (hidden, attention, classifier), AdamW lr 5e-5, weight
decay 0.01 except biases and LayerNorm, gradients clipped at norm 1 (as bertd's step does).
  PyTorch full  BertForSequenceClassification.from_pretrained(DIR, num_labels=2), train mode;
                a step is forward, loss, backward, clip, AdamW step, zero_grad; median of 5 after
                1 warm-up (bertd's count)
  PyTorch LoRA  the same through peft: LoraConfig(task_type=SEQ_CLS, r=8, lora_alpha=16,
                target_modules=["query", "value"], lora_dropout=0): base frozen (pooler too), the
                classifier trained through PEFT's modules_to_save, as bertd's LoRA does
One FLOP count for both engines, bertd's TrainingBenchmark.trainingFlops: 3x the forward count
above for full, 2x for LoRA (the frozen weights get no gradient; the adapters are negligible);
efficiency = GFLOP/s / that engine's sgemm in this run (bertd: its OpenBLAS, PyTorch: torch).
PyTorch's ids come from torch's generator, not bertd's: the same shape, not the same ids.
Prints the CPU (lscpu), the sgemm figures, then the tables; --json OUT writes every figure.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

import numpy as np
import torch

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--bertctl", required=True)
ap.add_argument("--model", default="models/all-MiniLM-L6-v2")
ap.add_argument("--texts", default="../shared/data/sst2/dev.tsv")
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--bert-base", action="store_true", help="also a random-weight BERT-base (slow)")
ap.add_argument("--training", action="store_true",
                help="also training steps, full and LoRA, bertd (bertctl bench --training) beside PyTorch + peft")
ap.add_argument("--json", dest="json_out", help="write every figure here as JSON")
args = ap.parse_args()
N = args.threads
torch.set_num_threads(N)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import transformers
transformers.logging.set_verbosity_error()
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.transformers.optimizer import optimize_model
if args.training:
    import peft
    from peft import LoraConfig, TaskType, get_peft_model

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]
SENTENCE = "The film was a delight from start to finish."
# bertctl bench's single_25 (EngineBench.longerSentence): 25 tokens with MiniLM's tokenizer.
SENTENCE_25 = "Although the plot drags in the middle, the film was a delight from start to finish and the cast is superb"
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
t_start = time.perf_counter()


def log(msg):
    print(f"[{time.perf_counter() - t_start:6.0f}s] {msg}", file=sys.stderr, flush=True)


def bench(fn, reps, warm=2):  # ref_peers.py's: median and min of reps after warm calls
    for _ in range(warm): fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return float(np.median(ts)), float(np.min(ts))


def latencies(fn, reps=300, warm=20):  # bertctl bench's single: p50, p99 in ms
    for _ in range(warm): fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return float(np.quantile(ts, 0.5)) * 1e3, float(np.quantile(ts, 0.99)) * 1e3


def cpu_line():
    info = {}
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    return {"model_name": info.get("Model name", "?"), "family": info.get("CPU family", "?"),
            "model": info.get("Model", "?"), "cores": os.cpu_count(), "threads": N}


def copy_tokenizer(src, dst):
    for f in TOKENIZER_FILES:
        if os.path.exists(os.path.join(src, f)): shutil.copy(os.path.join(src, f), dst)


def make_minilm(src, dst):
    torch.manual_seed(0)
    BertForSequenceClassification.from_pretrained(src, num_labels=2).save_pretrained(dst)
    copy_tokenizer(src, dst)


def make_bert_base(tok_src, dst):
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=3072, max_position_embeddings=512, num_labels=2)
    BertForSequenceClassification(cfg).eval().save_pretrained(dst)
    copy_tokenizer(tok_src, dst)


def run_bertd(d, texts):
    """bertctl bench in fp32 and int8 (one run), and each precision's logits from bertctl classify."""
    out = subprocess.run([args.bertctl, "bench", "--local", d, "--texts", args.texts, "--threads", str(N), "--precision", "both"]
                         + (["--training"] if args.training else []), capture_output=True, text=True, check=True).stdout
    bench_json = json.loads(out)
    logits = {}
    for precision in ("fp32", "int8"):
        cls = subprocess.run([args.bertctl, "classify", "--local", d, "--json", "--threads", str(N), "--batch-size", "32",
                              "--precision", precision],
                             input="\n".join(texts) + "\n", capture_output=True, text=True, check=True).stdout
        logits[precision] = np.array([json.loads(l)["logits"] for l in cls.splitlines() if l.strip()], dtype=np.float32)
        assert len(logits[precision]) == len(texts), f"bertctl classify: {len(logits[precision])} results for {len(texts)} texts"
    return bench_json, logits


TRAIN_BATCH, TRAIN_LEN, TRAIN_STEPS = 32, 64, 5


def training_forward_flops(cfg):  # ref_peers.py's forward count over the training batch
    L, H, I, T = cfg.num_hidden_layers, cfg.hidden_size, cfg.intermediate_size, TRAIN_LEN
    return L * (2 * (4 * H * H + 2 * H * I) + 4 * T * H) * T * TRAIN_BATCH


def torch_training(name, d, cfg):
    """PyTorch (+ peft for LoRA) on bertctl bench --training's shape and recipe: ms per step."""
    torch.manual_seed(3)
    lo, hi = min(1000, cfg.vocab_size // 2), min(20000, cfg.vocab_size)
    ids = torch.cat([torch.full((TRAIN_BATCH, 1), 101), torch.randint(lo, hi, (TRAIN_BATCH, TRAIN_LEN - 2)),
                     torch.full((TRAIN_BATCH, 1), 102)], 1)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    labels = torch.arange(TRAIN_BATCH) % 2
    res = {}
    for method in ("full", "lora"):
        log(f"{name}: PyTorch training, {method}")
        torch.manual_seed(1)
        model = BertForSequenceClassification.from_pretrained(d, num_labels=2, hidden_dropout_prob=0.1,
                                                               attention_probs_dropout_prob=0.1, classifier_dropout=0.1)
        if method == "lora":
            model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, r=8, lora_alpha=16,
                                                     target_modules=["query", "value"], lora_dropout=0.0))
        model.train()
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        params = [p for _, p in named]
        no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n
        opt = torch.optim.AdamW([{"params": [p for n, p in named if not no_decay(n)], "weight_decay": 0.01},
                                 {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0}], lr=5e-5)

        def step():
            model(**batch, labels=labels).loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad()
        med, _ = bench(step, TRAIN_STEPS, warm=1)
        res[method] = {"ms_per_step": med * 1e3, "trainable_parameters": int(sum(p.numel() for p in params)),
                       "attn_implementation": getattr(model.config, "_attn_implementation", None)}
        del model, opt
    return res


def training_summary(res, cfg, bertd_sgemm, torch_sgemm):
    """Both engines' steps under one FLOP count: 3x forward for full, 2x for LoRA."""
    fwd = training_forward_flops(cfg)
    bt = res["bertd"]["training"]
    engines = {"bertd": ({"full": bt["full"]["ms_per_step"], "lora": bt["lora_r8_query_value"]["ms_per_step"]}, bertd_sgemm,
                         "bertd's OpenBLAS"),
               "pytorch": ({m: r["ms_per_step"] for m, r in res["pytorch_training"].items()}, torch_sgemm, "torch")}
    out = {"shape": f"{TRAIN_BATCH} × {TRAIN_LEN} tokens, AdamW, dropout 0.1", "forward_flops": fwd}
    for e, (ms, sg, sg_name) in engines.items():
        r = {"sgemm_gflops": sg, "sgemm": sg_name}
        for m, mult in (("full", 3), ("lora", 2)):
            s = ms[m] / 1e3
            r[m] = {"ms_per_step": ms[m], "examples_per_s": TRAIN_BATCH / s, "gflops": mult * fwd / s / 1e9,
                    "efficiency": mult * fwd / s / 1e9 / sg}
        r["lora_to_full_step_ratio"] = ms["lora"] / ms["full"]
        out[e] = r
    # bertd's own GFLOP/s uses the same formula: a difference would mean the shapes differ.
    out["bertd_reported_gflops"] = {"full": bt["full"]["gflops"], "lora": bt["lora_r8_query_value"]["gflops"]}
    return out


def training_table(t):
    lines = ["| engine | method | ms/step | examples/s | GFLOP/s | efficiency (÷ its sgemm) | LoRA/full step |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for e, label in (("bertd", "bertd"), ("pytorch", "PyTorch")):
        for m, mlabel in (("full", "full"), ("lora", "LoRA r8 q,v")):
            r = t[e][m]
            ratio = f"{t[e]['lora_to_full_step_ratio']:.2f}" if m == "lora" else ""
            lines.append(f"| {label} | {mlabel} | {r['ms_per_step']:.0f} | {r['examples_per_s']:.1f} | {r['gflops']:.1f} | "
                         f"{r['efficiency']:.2f} | {ratio} |")
    return "\n".join(lines)


def measure_model(name, d, texts):
    res = {"name": name}
    log(f"{name}: bertd (bertctl bench{' --training' if args.training else ''}, classify)")
    bj, bertd_logits = run_bertd(d, texts)
    res["bertd"] = bj
    res["bertd_int8"] = bj.get("int8")
    tok = AutoTokenizer.from_pretrained(d)
    cfg = BertConfig.from_pretrained(d)
    if args.training:  # right after bertd's, so that both engines' steps see the same machine
        res["pytorch_training"] = torch_training(name, d, cfg)
        res["training"] = training_summary(res, cfg, bj["sgemm_gflops"], sg["torch"])
    model = BertForSequenceClassification.from_pretrained(d).eval()
    L, H, I = cfg.num_hidden_layers, cfg.hidden_size, cfg.intermediate_size
    flops = lambda T, n: L * (2 * (4 * H * H + 2 * H * I) + 4 * T * H) * T * n
    torch.manual_seed(0)
    fixed = {"input_ids": torch.randint(1000, 20000, (32, 128)), "attention_mask": torch.ones(32, 128, dtype=torch.long),
             "token_type_ids": torch.zeros(32, 128, dtype=torch.long)}
    mixed = [tok(texts[i:i + 32], padding=True, truncation=True, max_length=128, return_tensors="pt")
             for i in range(0, len(texts), 32)]
    res["mixed_texts"] = len(texts)
    res["mixed_real_tokens"] = int(sum(int(m["attention_mask"].sum()) for m in mixed))
    res["mixed_padded_tokens"] = int(sum(m["input_ids"].numel() for m in mixed))
    # What a batch of one cannot beat here: each dense weight read once at bertctl bench's measured
    # memory bandwidth, and the sentence's FLOPs (the peers' count) at bertd's sgemm rate.
    if "memory_read_gbps" in bj:
        res["single_floor"] = {"memory_read_gbps": bj["memory_read_gbps"],
                               "weights_read_ms": {"fp32": bj["single"]["weights_read_ms"],
                                                   "int8": (bj.get("int8") or {}).get("single", {}).get("weights_read_ms")},
                               "weights_mb": {"fp32": bj["single"]["weights_mb"],
                                              "int8": (bj.get("int8") or {}).get("single", {}).get("weights_mb")},
                               "fp32_flops_ms": {str(bj[w]["tokens"]): flops(bj[w]["tokens"], 1) / bj["sgemm_gflops"] / 1e6
                                                 for w in ("single", "single_25")}}

    def measure(label, run, to_np):
        """run(batch dict of torch tensors) -> logits; to_np(result) -> np array."""
        log(f"{name}: {label}")
        r = {}
        med, _ = bench(lambda: run(fixed), 5)
        r["fixed"] = {"seq_per_s": 32 / med, "gflops": flops(128, 32) / med / 1e9, "ms_per_batch": med * 1e3}
        med, _ = bench(lambda: [run(m) for m in mixed], 3, warm=1)
        r["mixed"] = {"seq_per_s": len(texts) / med}
        single = tok([SENTENCE], return_tensors="pt")
        p50, p99 = latencies(lambda: run(tok([SENTENCE], return_tensors="pt")))
        fwd, _ = bench(lambda: run(single), 50, warm=5)
        r["single"] = {"tokens": int(single["input_ids"].shape[1]), "p50_ms": p50, "p99_ms": p99, "forward_p50_ms": fwd * 1e3}
        p50, p99 = latencies(lambda: run(tok([SENTENCE_25], return_tensors="pt")))
        r["single_25"] = {"tokens": len(tok(SENTENCE_25)["input_ids"]), "p50_ms": p50, "p99_ms": p99}
        return r, np.concatenate([to_np(run(m)) for m in mixed])

    def torch_run(batch):
        with torch.inference_mode():
            return model(**batch).logits
    res["pytorch"], ref_logits = measure("PyTorch fp32", torch_run, lambda x: x.numpy())

    work = tempfile.mkdtemp(prefix="bertd-peers-onnx-")
    fp32 = os.path.join(work, "fp32.onnx")
    log(f"{name}: torch.onnx.export")
    with torch.inference_mode():
        torch.onnx.export(model, tuple(fixed[k][:2] for k in INPUTS), fp32, input_names=INPUTS, output_names=["logits"],
                          dynamic_axes={k: {0: "b", 1: "t"} for k in INPUTS}, opset_version=17, dynamo=False)

    def session(path):
        so = ort.SessionOptions(); so.intra_op_num_threads = N; so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        return lambda batch: sess.run(None, {k: batch[k].numpy() for k in names})[0]

    variants = [("ort_fp32", "ORT fp32", fp32)]
    opt = os.path.join(work, "opt.onnx")
    try:
        # The optimizer's attention fusion matches the eager attention graph, not SDPA's (the
        # default, exported above for ORT fp32 as ref_peers.py does): export that one for it.
        eager = os.path.join(work, "eager.onnx")
        eager_model = BertForSequenceClassification.from_pretrained(d, attn_implementation="eager").eval()
        with torch.inference_mode():
            torch.onnx.export(eager_model, tuple(fixed[k][:2] for k in INPUTS), eager, input_names=INPUTS, output_names=["logits"],
                              dynamic_axes={k: {0: "b", 1: "t"} for k in INPUTS}, opset_version=17, dynamo=False)
        del eager_model
        om = optimize_model(eager, model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=H)
        res["ort_optimized_fused_ops"] = {k: int(v) for k, v in om.get_fused_operator_statistics().items() if v}
        om.save_model_to_file(opt)
        variants.append(("ort_optimized", "ORT optimized", opt))
    except Exception as e:  # keep going: the table says n/a
        res["ort_optimized_error"] = repr(e); opt = None
    q8 = os.path.join(work, "int8.onnx")
    for src in ([opt] if opt else []) + [fp32]:
        try:
            # DefaultTensorType: shape inference cannot type the outputs of the optimizer's
            # com.microsoft ops (Attention, SkipLayerNormalization); they are float.
            quantize_dynamic(src, q8, weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            res["ort_int8_source"] = "optimized" if src == opt else "fp32 export"
            variants.append(("ort_int8", "ORT int8", q8))
            break
        except Exception as e:
            res.setdefault("ort_int8_errors", []).append(repr(e))
    logits = {"bertd": bertd_logits["fp32"], "bertd_int8": bertd_logits["int8"]}
    for key, label, path in variants:
        r, lg = measure(label, session(path), lambda x: x)
        res[key] = r; logits[key] = lg
    shutil.rmtree(work, ignore_errors=True)
    logits["pytorch"] = ref_logits
    ref_label = ref_logits.argmax(1)
    res["agreement"] = {k: {"max_abs_dlogit": float(np.abs(v - ref_logits).max()),
                            "label_agreement": float((v.argmax(1) == ref_label).mean())} for k, v in logits.items()}
    return res


COLS = [("bertd", "bertd"), ("bertd_int8", "bertd int8"), ("ort_fp32", "ORT fp32"), ("ort_optimized", "ORT optimized"),
        ("ort_int8", "ORT int8"), ("pytorch", "PyTorch")]


def table(res):
    def get(col, *path):
        d = res.get(col)
        for p in path:
            if not isinstance(d, dict) or p not in d: return None
            d = d[p]
        return d
    def agree(col, field):
        return res["agreement"].get(col, {}).get(field)
    rows = [("fixed 32×128, seq/s", lambda c: get(c, "fixed", "seq_per_s"), "{:.1f}"),
            ("fixed 32×128, GFLOP/s", lambda c: get(c, "fixed", "gflops"), "{:.1f}"),
            (f"mixed SST-2 ({res['mixed_texts']} texts, b32), seq/s", lambda c: get(c, "mixed", "seq_per_s"), "{:.0f}"),
            ("single 12 tokens, p50 ms", lambda c: get(c, "single", "p50_ms"), "{:.2f}"),
            ("single 12 tokens, p99 ms", lambda c: get(c, "single", "p99_ms"), "{:.2f}"),
            ("single 25 tokens, p50 ms", lambda c: get(c, "single_25", "p50_ms"), "{:.2f}"),
            ("single 25 tokens, p99 ms", lambda c: get(c, "single_25", "p99_ms"), "{:.2f}"),
            ("max abs Δlogit vs PyTorch", lambda c: agree(c, "max_abs_dlogit"), "{:.1e}"),
            ("label agreement vs PyTorch", lambda c: agree(c, "label_agreement"), "{:.1%}")]
    lines = ["| workload | " + " | ".join(n for _, n in COLS) + " |", "|---|" + "---:|" * len(COLS)]
    for title, f, fmt in rows:
        cells = []
        for c, _ in COLS:
            v = f(c)
            cells.append("n/a" if v is None else ("0" if v == 0 and "e" in fmt else fmt.format(v)))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


cpu = cpu_line()
a = np.random.rand(2048, 2048).astype(np.float32); b = np.random.rand(2048, 2048).astype(np.float32)
sg = {"numpy": 2 * 2048**3 / bench(lambda: a @ b, 5)[1] / 1e9}
ta, tb = torch.from_numpy(a), torch.from_numpy(b)
sg["torch"] = 2 * 2048**3 / bench(lambda: ta @ tb, 5)[1] / 1e9
texts = [l.split("\t")[0] for l in open(args.texts, encoding="utf-8").read().splitlines()[1:]][:1024]

out = {"cpu": cpu, "threads": N, "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
       "onnxruntime": ort.__version__}, "sgemm_gflops": sg, "load_average_start": list(os.getloadavg()), "models": []}
if args.training: out["versions"]["peft"] = peft.__version__
tmp = tempfile.mkdtemp(prefix="bertd-peers-")
try:
    specs = [("all-MiniLM-L6-v2 + seeded 2-label head", lambda d: make_minilm(args.model, d))]
    if args.bert_base:
        specs.append(("BERT-base, random weights (seed 0)", lambda d: make_bert_base(args.model, d)))
    for i, (name, make) in enumerate(specs):
        d = os.path.join(tmp, f"m{i}"); os.makedirs(d)
        log(f"{name}: writing {d}")
        make(d)
        out["models"].append(measure_model(name, d, texts))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
out["seconds"] = time.perf_counter() - t_start
out["load_average_end"] = list(os.getloadavg())

cpu_text = (f"CPU: {cpu['model_name']} (family {cpu['family']}, model {cpu['model']}), {cpu['cores']} cores, "
            f"{N} threads per engine")
bsg = out["models"][0]["bertd"].get("sgemm_gflops") if out["models"] else None
print(cpu_text)
print(f"sgemm 2048³ GFLOP/s, this run: bertd's OpenBLAS {bsg:.1f}, numpy {sg['numpy']:.1f}, torch {sg['torch']:.1f}"
      if bsg else f"sgemm 2048³ GFLOP/s, this run: numpy {sg['numpy']:.1f}, torch {sg['torch']:.1f}")
print(f"torch {torch.__version__}, transformers {transformers.__version__}, onnxruntime {ort.__version__}"
      + (f", peft {peft.__version__}" if args.training else "") + f"; {out['seconds']:.0f} s in all")
print("load average (1, 5, 15 min): at start " + ", ".join(f"{x:.2f}" for x in out["load_average_start"])
      + "; at end " + ", ".join(f"{x:.2f}" for x in out["load_average_end"]))
for m in out["models"]:
    print(f"\n### {m['name']}\n\n{cpu_text}\n")
    print(table(m))
    notes = []
    if "ort_optimized_fused_ops" in m:
        notes.append("ORT optimizer fused: " + ", ".join(f"{k} {v}" for k, v in m["ort_optimized_fused_ops"].items()))
    if "ort_optimized_error" in m: notes.append("ORT optimizer failed: " + m["ort_optimized_error"])
    if "ort_int8_source" in m: notes.append(f"ORT int8 quantized from the {m['ort_int8_source']} model")
    notes.append(f"mixed: peers pad to {m['mixed_padded_tokens']} tokens, bertd computes the {m['mixed_real_tokens']} real ones")
    if "single_floor" in m:
        f = m["single_floor"]
        w, mb = f["weights_read_ms"], f["weights_mb"]
        notes.append(f"a batch of one's floor here: the dense weights read once at {f['memory_read_gbps']:.1f} GB/s, "
                     f"{w['fp32']:.2f} ms in fp32 ({mb['fp32']:.0f} MB)"
                     + (f" and {w['int8']:.2f} ms in int8 ({mb['int8']:.0f} MB)" if w["int8"] is not None else "")
                     + "; fp32 FLOPs at bertd's sgemm rate " + ", ".join(f"{ms:.2f} ms ({t} tokens)" for t, ms in f["fp32_flops_ms"].items()))
    print("\n" + "; ".join(notes) + ".")
    if "training" in m:
        t = m["training"]
        print(f"\n#### {m['name']}: training steps, {t['shape']}\n\n{cpu_text}\n")
        print(training_table(t))
        print(f"\nOne FLOP count for both: {t['forward_flops'] / 1e9:.1f} GFLOP forward, ×3 full, ×2 LoRA; "
              f"efficiency ÷ this run's sgemm: bertd's OpenBLAS {t['bertd']['sgemm_gflops']:.1f}, "
              f"torch {t['pytorch']['sgemm_gflops']:.1f} GFLOP/s; PyTorch attention: "
              f"{m['pytorch_training']['full']['attn_implementation']}; trainable parameters in PyTorch: "
              f"full {m['pytorch_training']['full']['trainable_parameters']:,}, "
              f"LoRA {m['pytorch_training']['lora']['trainable_parameters']:,}.")
        for k in ("full", "lora"):
            own = t["bertd_reported_gflops"][k]
            if abs(own / t["bertd"][k]["gflops"] - 1) > 0.01:
                print(f"Note: bertd reports {own:.1f} GFLOP/s for {k}, not {t['bertd'][k]['gflops']:.1f}: its shape differs.")
if args.json_out:
    with open(args.json_out, "w") as f: json.dump(out, f, indent=1)
